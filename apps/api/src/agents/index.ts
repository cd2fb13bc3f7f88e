import type { Provider, Type } from '@nestjs/common';
import { AgentModelsAdapter } from './adapters/chat-models.adapter.js';
import { AgentRetrievalAdapter } from './adapters/retrieval.adapter.js';
import { AgentCompletionsController } from './agent-completions.controller.js';
import { AgentRunService } from './agent-run.service.js';
import { AgentSessionsController } from './agent-sessions.controller.js';
import { AgentSessionsService } from './agent-sessions.service.js';
import { AgentsController } from './agents.controller.js';
import { AgentsService } from './agents.service.js';
import { AgentResponder } from './responder.js';

export { AGENT_CHAT_MODELS } from './adapters/chat-models.adapter.js';

/** The agents feature, for the app module (it needs RetrievalService and an AGENT_CHAT_MODELS provider there). */
export const AGENT_CONTROLLERS: Type[] = [AgentsController, AgentSessionsController, AgentCompletionsController];
export const AGENT_PROVIDERS: Provider[] = [AgentsService, AgentSessionsService, AgentRunService, AgentResponder, AgentRetrievalAdapter, AgentModelsAdapter];
