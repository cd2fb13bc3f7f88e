import { Injectable } from '@nestjs/common';
import { Prisma, isUniqueViolation, newId, type PrismaClient } from '@ragnest/db';
import { DomainError, RetCode, argumentError, dataError } from '@ragnest/contracts';
import { DslError, loadDsl } from '@ragnest/agent';
import { InjectDb } from '@ragnest/runtime';
import { agentView } from './agent.view.js';

export interface ListAgentsInput {
  page: number;
  pageSize: number;
  orderBy: 'create_time' | 'update_time';
  desc: boolean;
  id?: string;
  title?: string;
}

const notOwner = () => new DomainError(RetCode.OPERATING_ERROR, 'Only owner of canvas authorized for this operation.');

/** The canvas DSL as stored: the client's JSON (a JSON string is parsed), refused when it is not a loadable canvas. */
function checkedDsl(dsl: unknown): Prisma.InputJsonValue {
  try {
    loadDsl(dsl);
  } catch (e) {
    if (e instanceof DslError) throw argumentError(e.message);
    throw e;
  }
  return (typeof dsl === 'string' ? JSON.parse(dsl) : dsl) as Prisma.InputJsonValue;
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : String(v));

/** Agents (§11): canvas DSLs owned by a tenant. */
@Injectable()
export class AgentsService {
  constructor(@InjectDb() private readonly db: PrismaClient) {}

  async list(tenantId: string, q: ListAgentsInput) {
    const where: Prisma.AgentWhereInput = { tenantId, ...(q.id ? { id: q.id } : {}), ...(q.title ? { title: q.title } : {}) };
    const [items, total] = await Promise.all([
      this.db.agent.findMany({
        where,
        orderBy: [{ [q.orderBy === 'create_time' ? 'createdAt' : 'updatedAt']: q.desc ? 'desc' : 'asc' }, { id: 'asc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
      }),
      this.db.agent.count({ where }),
    ]);
    if ((q.id || q.title) && total === 0) throw dataError("The agent doesn't exist.");
    return { items: items.map(agentView), total };
  }

  async get(tenantId: string, id: string) {
    const a = await this.db.agent.findFirst({ where: { id, tenantId } });
    if (!a) throw dataError("The agent doesn't exist.");
    return agentView(a);
  }

  async create(tenantId: string, userId: string, body: Record<string, unknown>): Promise<string> {
    const title = str(body.title)?.trim();
    if (!title) throw argumentError('No title in request.');
    if (body.dsl === undefined || body.dsl === null || body.dsl === '') throw argumentError('No DSL data in request.');
    const dsl = checkedDsl(body.dsl);
    if (await this.db.agent.findFirst({ where: { tenantId, title }, select: { id: true } })) throw dataError(`Agent with title ${title} already exists.`);
    const id = newId();
    try {
      await this.db.agent.create({
        data: { id, tenantId, userId, title, dsl, description: str(body.description) ?? null, avatar: str(body.avatar) ?? null, canvasType: str(body.canvas_type) ?? null },
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw dataError(`Agent with title ${title} already exists.`);
      throw e;
    }
    return id;
  }

  async update(tenantId: string, id: string, body: Record<string, unknown>): Promise<void> {
    const a = await this.db.agent.findUnique({ where: { id }, select: { tenantId: true, title: true } });
    if (!a || a.tenantId !== tenantId) throw notOwner();
    const data: Prisma.AgentUpdateInput = {};
    if (body.title !== undefined) {
      const title = str(body.title)?.trim();
      if (!title) throw argumentError('`title` can not be empty.');
      if (title !== a.title && (await this.db.agent.findFirst({ where: { tenantId, title }, select: { id: true } }))) {
        throw dataError(`Agent with title ${title} already exists.`);
      }
      data.title = title;
    }
    if (body.dsl !== undefined) data.dsl = checkedDsl(body.dsl);
    if (body.description !== undefined) data.description = str(body.description) ?? null;
    if (body.avatar !== undefined) data.avatar = str(body.avatar) ?? null;
    if (body.canvas_type !== undefined) data.canvasType = str(body.canvas_type) ?? null;
    await this.db.agent.update({ where: { id }, data });
  }

  async delete(tenantId: string, id: string): Promise<void> {
    const { count } = await this.db.agent.deleteMany({ where: { id, tenantId } });
    if (!count) throw notOwner();
  }
}
