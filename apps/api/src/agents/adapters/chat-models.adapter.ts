import { Inject, Injectable } from '@nestjs/common';
import type { AgentModels } from '@ragnest/agent';
import { LlmError, type ChatModelResolver } from '@ragnest/llm';

/** The tenant chat-model resolver the API provides (the chat feature's adapter), bound in the app module. */
export const AGENT_CHAT_MODELS = Symbol('AGENT_CHAT_MODELS');

/**
 * A component's `llm_id` resolved for the tenant. A tenant with no chat model at all gets null (the runtime then
 * answers extractively); a tenant that has models but not the one the DSL names gets the resolver's error.
 */
@Injectable()
export class AgentModelsAdapter {
  constructor(@Inject(AGENT_CHAT_MODELS) private readonly resolver: ChatModelResolver) {}

  forTenant(tenantId: string): AgentModels {
    return {
      resolve: async (llmId) => {
        if (!llmId) return this.resolver.resolve(tenantId);
        try {
          return await this.resolver.resolve(tenantId, llmId);
        } catch (e) {
          if (e instanceof LlmError && (await this.resolver.resolve(tenantId)) === null) return null;
          throw e;
        }
      },
    };
  }
}
