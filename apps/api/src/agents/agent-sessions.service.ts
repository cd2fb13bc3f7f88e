import { Injectable } from '@nestjs/common';
import { newId, type Prisma, type PrismaClient } from '@ragnest/db';
import { dataError } from '@ragnest/contracts';
import { DslError, beginInputs, loadDsl, prologue, type LoadedDsl } from '@ragnest/agent';
import { InjectDb } from '@ragnest/runtime';
import type { Agent } from '@ragnest/db';
import { sessionView, type StoredMessage } from './agent.view.js';
import { beginValues } from './inputs.js';

export interface SessionState {
  /** Begin input values given when the session was created (or by an earlier turn) */
  inputs: Record<string, unknown>;
}

export interface ListSessionsInput {
  page: number;
  pageSize: number;
  orderBy: 'create_time' | 'update_time';
  desc: boolean;
  id?: string;
  userId?: string;
  withDsl: boolean;
}

/** Loads a stored DSL for running; a stored DSL that no longer loads is reported, never a crash. */
export function loadStoredDsl(agent: Agent): LoadedDsl {
  try {
    return loadDsl(agent.dsl);
  } catch (e) {
    if (e instanceof DslError) throw dataError(`The agent's DSL cannot be run: ${e.message}`);
    throw e;
  }
}

/** Agent sessions (§11): created with Begin inputs, listed with their messages and references, deleted. */
@Injectable()
export class AgentSessionsService {
  constructor(@InjectDb() private readonly db: PrismaClient) {}

  async ownedAgent(tenantId: string, agentId: string, missing = 'Agent not found.', foreign = 'You cannot access the agent.'): Promise<Agent> {
    const agent = await this.db.agent.findUnique({ where: { id: agentId } });
    if (!agent) throw dataError(missing);
    if (agent.tenantId !== tenantId) throw dataError(foreign);
    return agent;
  }

  /** Creates a session whose first message is the Begin prologue; Begin inputs from the body are kept for its turns. */
  async createFor(agent: Agent, userId: string, body: Record<string, unknown>) {
    const dsl = loadStoredDsl(agent);
    const begin = dsl.components.get('begin')!;
    const state: SessionState = { inputs: beginValues(beginInputs(begin.params), body) };
    const messages: StoredMessage[] = [{ role: 'assistant', content: prologue(begin.params) }];
    const s = await this.db.agentSession.create({
      data: {
        id: newId(),
        agentId: agent.id,
        tenantId: agent.tenantId,
        userId,
        name: typeof body.name === 'string' ? body.name : '',
        messages: messages as unknown as Prisma.InputJsonValue,
        references: [],
        state: state as unknown as Prisma.InputJsonValue,
      },
    });
    return s;
  }

  /**
   * Seed 002: a completion with neither session nor question opens a session and answers with the prologue, or,
   * when Begin declares inputs, with the inputs it took (`param`).
   */
  async greet(agent: Agent, userId: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const begin = loadStoredDsl(agent).components.get('begin')!;
    const session = await this.createFor(agent, userId, body);
    const declared = beginInputs(begin.params);
    const given = (session.state as Partial<SessionState>).inputs ?? {};
    if (!declared.length) return { answer: prologue(begin.params), reference: {}, audio_binary: null, id: null, session_id: session.id };
    return {
      session_id: session.id,
      answer: '',
      reference: [],
      param: declared.map((d) => ({ key: d.key, name: d.name, optional: d.optional, type: d.type, ...(given[d.key] !== undefined ? { value: given[d.key] } : {}) })),
    };
  }

  async create(tenantId: string, agentId: string, userId: string, body: Record<string, unknown>) {
    const agent = await this.ownedAgent(tenantId, agentId);
    return sessionView(await this.createFor(agent, userId, body), agent.dsl);
  }

  async list(tenantId: string, agentId: string, q: ListSessionsInput) {
    const agent = await this.ownedAgent(tenantId, agentId, `You don't own the agent ${agentId}.`, `You don't own the agent ${agentId}.`);
    const where: Prisma.AgentSessionWhereInput = { agentId, ...(q.id ? { id: q.id } : {}), ...(q.userId ? { userId: q.userId } : {}) };
    const [items, total] = await Promise.all([
      this.db.agentSession.findMany({
        where,
        orderBy: [{ [q.orderBy === 'create_time' ? 'createdAt' : 'updatedAt']: q.desc ? 'desc' : 'asc' }, { id: 'asc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
      }),
      this.db.agentSession.count({ where }),
    ]);
    return { items: items.map((s) => sessionView(s, q.withDsl ? agent.dsl : undefined)), total };
  }

  /** `ids` null/absent/[] deletes every session of the agent (classic). */
  async delete(tenantId: string, agentId: string, ids: unknown): Promise<void> {
    await this.ownedAgent(tenantId, agentId, `You don't own the agent ${agentId}`, `You don't own the agent ${agentId}`);
    const list = Array.isArray(ids) ? ids.map(String) : [];
    if (ids !== undefined && ids !== null && !Array.isArray(ids)) throw dataError('`ids` should be a list.');
    const existing = await this.db.agentSession.findMany({ where: { agentId }, select: { id: true } });
    if (!existing.length) throw dataError(`Agent ${agentId} has no sessions`);
    if (!list.length) {
      await this.db.agentSession.deleteMany({ where: { agentId } });
      return;
    }
    const have = new Set(existing.map((s) => s.id));
    const stray = list.find((id) => !have.has(id));
    if (stray) throw dataError(`The agent doesn't own the session ${stray}`);
    await this.db.agentSession.deleteMany({ where: { agentId, id: { in: list } } });
  }
}
