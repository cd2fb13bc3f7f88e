import { Controller, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import type { AppConfig } from '@ragnest/config';
import { dataError } from '@ragnest/contracts';
import { InjectConfig } from '@ragnest/runtime';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { AgentRunService, publicError, type Turn } from './agent-run.service.js';
import { AgentSessionsService } from './agent-sessions.service.js';
import { classicWire, converseWire, eventWire, frame, openaiWire } from './agent-wire.js';
import { boolParam } from './query.js';
import { openaiTurn, text } from './requests.js';
import { AgentResponder } from './responder.js';

/** Agent turns: RAGFlow's completions, seed 000's converse, and the OpenAI-compatible agent route. */
@Controller('api/v1')
@UseGuards(ApiKeyGuard)
export class AgentCompletionsController {
  constructor(
    private readonly runs: AgentRunService,
    private readonly sessions: AgentSessionsService,
    private readonly responder: AgentResponder,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * The v0.25+ route (`POST /api/v1/agents/chat/completions`, `agent_id` in the body): `stream` defaults to false,
   * always the event format; `"openai-compatible": true` answers as the OpenAI-compatible route. Declared before
   * `agents/:agentId/completions`, which would otherwise take "chat" for an agent id.
   */
  @HttpCode(200)
  @Post('agents/chat/completions')
  async current(@Auth() auth: AuthContext, @Body() body: Record<string, unknown>, @Res() res: Response) {
    const agentId = text(body.agent_id);
    if (!agentId) throw dataError('`agent_id` is required.');
    if (body['openai-compatible'] === true) return this.openai(auth, agentId, body, res);
    const question = text(body.query ?? body.question);
    if (!question.trim()) throw dataError('`query` is required.');
    const sessionId = text(body.session_id);
    const agent = await this.runs.agentFor(auth.tenantId, agentId);
    const turn = await this.runs.prepare(auth.tenantId, agent, {
      question,
      createSession: true,
      userId: text(body.user_id) || auth.tenantId,
      body,
      ...(sessionId ? { sessionId } : {}),
    });
    const meta = { agentId, sessionId: turn.session!.id, messageId: turn.messageId, createdAt: turn.createdAt };
    await this.responder.send(turn, eventWire(meta, boolParam(body.return_trace, false)), boolParam(body.stream, false), res);
  }

  /** §11 + seed 002: seed 002's cumulative events by default, v0.24 `event: message` events with RAGFLOW_COMPAT=current. */
  @HttpCode(200)
  @Post('agents/:agentId/completions')
  async completions(@Auth() auth: AuthContext, @Param('agentId') agentId: string, @Body() body: Record<string, unknown>, @Res() res: Response) {
    const stream = boolParam(body.stream, true);
    const question = text(body.question ?? body.query);
    const sessionId = text(body.session_id);
    const userId = text(body.user_id) || auth.tenantId;
    const agent = await this.runs.agentFor(auth.tenantId, agentId);
    if (!sessionId && !question.trim()) {
      const data = await this.sessions.greet(agent, userId, body);
      if (!stream) {
        res.status(200).json({ code: 0, data });
        return;
      }
      res.status(200).setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.end(frame({ code: 0, message: '', data }) + frame({ code: 0, message: '', data: true }));
      return;
    }
    if (!question.trim()) throw dataError('`question` is required.');
    const turn = await this.runs.prepare(auth.tenantId, agent, { question, createSession: true, userId, body, ...(sessionId ? { sessionId } : {}) });
    const meta = { agentId, sessionId: turn.session!.id, messageId: turn.messageId, createdAt: turn.createdAt };
    const wire = this.config.compat === 'current' ? eventWire(meta, boolParam(body.return_trace, false)) : classicWire(meta);
    await this.responder.send(turn, wire, stream, res);
  }

  /**
   * Seed 000's route (RAGFlow never had it): non-streamed unless `stream` is true; streams deltas as
   * `data:{"code":0,"data":{"answer":…}}` and ends with `data:[DONE]`. Begin inputs may come as top-level keys.
   */
  @HttpCode(200)
  @Post('agents/:agentId/converse')
  async converse(@Auth() auth: AuthContext, @Param('agentId') agentId: string, @Body() body: Record<string, unknown>, @Res() res: Response) {
    const stream = boolParam(body.stream, false);
    let turn: Turn;
    try {
      const question = text(body.question ?? body.query);
      if (!question.trim()) throw dataError('`question` is required.');
      const sessionId = text(body.session_id);
      const agent = await this.runs.agentFor(auth.tenantId, agentId);
      turn = await this.runs.prepare(auth.tenantId, agent, {
        question,
        createSession: true,
        userId: text(body.user_id) || auth.tenantId,
        body,
        ...(sessionId ? { sessionId } : {}),
      });
    } catch (e) {
      // seed 000's stream reader only looks at `data:` lines: a refusal must be one, or the script prints nothing
      const pub = publicError(e);
      if (!stream || !pub) throw e;
      res.status(200).setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.end(frame({ code: pub.code, message: pub.message }) + 'data:[DONE]\n\n');
      return;
    }
    const meta = { agentId, sessionId: turn.session!.id, messageId: turn.messageId, createdAt: turn.createdAt };
    await this.responder.send(turn, converseWire(meta), stream, res);
  }

  /** §10, agent variant: `model` and `messages` required, `stream` defaults to false, a session is used only when named. */
  @HttpCode(200)
  @Post('agents_openai/:agentId/chat/completions')
  async openai(@Auth() auth: AuthContext, @Param('agentId') agentId: string, @Body() body: Record<string, unknown>, @Res() res: Response) {
    const { question, history, sessionId } = openaiTurn(body);
    const agent = await this.runs.agentFor(auth.tenantId, agentId);
    const turn = await this.runs.prepare(auth.tenantId, agent, {
      question,
      createSession: false,
      userId: text(body.user) || auth.tenantId,
      body,
      history,
      ...(sessionId ? { sessionId } : {}),
    });
    const meta = { agentId, sessionId: turn.session?.id ?? '', messageId: turn.messageId, createdAt: turn.createdAt };
    await this.responder.send(turn, openaiWire(meta, agentId), boolParam(body.stream, false), res);
  }
}
