import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Agent, AgentSession, Prisma, PrismaClient } from '@ragnest/db';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { AgentRunError, assertRunnable, beginInputs, runAgent, type AgentEvent, type LoadedDsl, type RunInput, type RunResult } from '@ragnest/agent';
import type { LlmMessage } from '@ragnest/llm';
import { getLogger } from '@ragnest/logger';
import { InjectDb } from '@ragnest/runtime';
import { AgentModelsAdapter } from './adapters/chat-models.adapter.js';
import { AgentRetrievalAdapter } from './adapters/retrieval.adapter.js';
import { AgentSessionsService, loadStoredDsl, type SessionState } from './agent-sessions.service.js';
import type { StoredMessage } from './agent.view.js';
import { beginValues } from './inputs.js';

export interface TurnRequest {
  question: string;
  /** an existing session of the agent */
  sessionId?: string;
  /** no session given: create one (completions, converse) or run without one (OpenAI-compatible route) */
  createSession: boolean;
  userId: string;
  body: Record<string, unknown>;
  /** conversation so far when the client sends it (OpenAI messages); otherwise the session's */
  history?: LlmMessage[];
}

export interface Turn {
  tenantId: string;
  agent: Agent;
  dsl: LoadedDsl;
  session: AgentSession | null;
  messageId: string;
  createdAt: number;
  input: RunInput;
}

/** A failure the client may read: domain errors as they are, run errors as data errors. */
export function publicError(e: unknown): DomainError | null {
  if (e instanceof DomainError) return e;
  if (e instanceof AgentRunError) return new DomainError(RetCode.DATA_ERROR, e.message);
  return null;
}

export const isAbort = (e: unknown) => e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');

/** Error text for a stream that has already started: unknown errors are logged with an id instead of shown. */
export function streamErrorMessage(e: unknown): string {
  const pub = publicError(e);
  if (pub) return pub.message;
  const errorId = randomUUID();
  getLogger().error({ errorId, err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'agent run failed');
  return `Internal server error (error id ${errorId})`;
}

/** One conversation turn of an agent: loads agent, session and inputs, runs the canvas, stores the turn. */
@Injectable()
export class AgentRunService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly sessions: AgentSessionsService,
    private readonly retrieval: AgentRetrievalAdapter,
    private readonly models: AgentModelsAdapter,
  ) {}

  async agentFor(tenantId: string, agentId: string): Promise<Agent> {
    return this.sessions.ownedAgent(tenantId, agentId, `You don't own the agent ${agentId}`, `You don't own the agent ${agentId}`);
  }

  /** Everything checked before a response starts, so these errors come back as plain JSON even for streams. */
  async prepare(tenantId: string, agent: Agent, req: TurnRequest): Promise<Turn> {
    const dsl = loadStoredDsl(agent);
    try {
      assertRunnable(dsl);
    } catch (e) {
      throw publicError(e) ?? e;
    }
    let session: AgentSession | null = null;
    if (req.sessionId) {
      session = await this.db.agentSession.findFirst({ where: { id: req.sessionId, agentId: agent.id } });
      if (!session) throw dataError(`You don't own the session ${req.sessionId}`);
    } else if (req.createSession) {
      session = await this.sessions.createFor(agent, req.userId, req.body);
    }
    const begin = dsl.components.get('begin')!;
    const state = (session?.state ?? {}) as unknown as Partial<SessionState>;
    const inputs = { ...(state.inputs ?? {}), ...beginValues(beginInputs(begin.params), req.body) };
    const stored = ((session?.messages ?? []) as unknown as StoredMessage[]).map((m) => ({ role: m.role, content: m.content }));
    return {
      tenantId,
      agent,
      dsl,
      session,
      messageId: randomUUID(),
      createdAt: Math.floor(Date.now() / 1000),
      input: { query: req.question, inputs, history: req.history ?? stored, userId: req.userId || session?.userId || '' },
    };
  }

  /** Runs the turn; the turn is stored in the session only when the run completes. */
  async *run(turn: Turn, signal: AbortSignal): AsyncGenerator<AgentEvent, RunResult> {
    const gen = runAgent(turn.dsl, turn.input, {
      retrieval: this.retrieval.forTenant(turn.tenantId),
      models: this.models.forTenant(turn.tenantId),
      signal,
    });
    for (;;) {
      const r = await gen.next();
      if (r.done) {
        if (turn.session) await this.persist(turn, r.value);
        return r.value;
      }
      yield r.value;
    }
  }

  private async persist(turn: Turn, result: RunResult): Promise<void> {
    const id = turn.session!.id;
    await this.db.$transaction(async (tx) => {
      const s = await tx.agentSession.findUnique({ where: { id }, select: { messages: true, references: true, state: true } });
      if (!s) return; // deleted meanwhile
      const messages = [
        ...((s.messages as unknown as StoredMessage[]) ?? []),
        { role: 'user', content: turn.input.query, id: turn.messageId, created_at: turn.createdAt },
        { role: 'assistant', content: result.answer, id: turn.messageId, created_at: Math.floor(Date.now() / 1000) },
      ];
      const references = [...((s.references as unknown[]) ?? []), result.reference];
      const state: SessionState = { ...((s.state ?? {}) as unknown as SessionState), inputs: turn.input.inputs };
      await tx.agentSession.update({
        where: { id },
        data: {
          messages: messages as unknown as Prisma.InputJsonValue,
          references: references as unknown as Prisma.InputJsonValue,
          state: state as unknown as Prisma.InputJsonValue,
        },
      });
    });
  }
}
