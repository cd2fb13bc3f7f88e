import { Controller, HttpCode, Delete, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok } from '../ragflow/envelope.js';
import { AgentSessionsService } from './agent-sessions.service.js';
import { boolParam, intParam, orderParam, strParam } from './query.js';

/** Agent sessions (§11): create with Begin inputs, list, delete. */
@Controller('api/v1/agents/:agentId/sessions')
@UseGuards(ApiKeyGuard)
export class AgentSessionsController {
  constructor(private readonly sessions: AgentSessionsService) {}

  @Post()
  @HttpCode(200)
  async create(@Auth() auth: AuthContext, @Param('agentId') agentId: string, @Query() q: Record<string, string | string[]>, @Body() body: Record<string, unknown>) {
    const userId = strParam(q, 'user_id') ?? (typeof body.user_id === 'string' ? body.user_id : auth.tenantId);
    return ok(await this.sessions.create(auth.tenantId, agentId, userId, body));
  }

  @Get()
  async list(@Auth() auth: AuthContext, @Param('agentId') agentId: string, @Query() q: Record<string, string | string[]>) {
    const id = strParam(q, 'id');
    const userId = strParam(q, 'user_id');
    const res = await this.sessions.list(auth.tenantId, agentId, {
      page: intParam(q, 'page', 1),
      pageSize: intParam(q, 'page_size', 30),
      orderBy: orderParam(q),
      desc: boolParam(strParam(q, 'desc'), true),
      withDsl: boolParam(strParam(q, 'dsl'), true),
      ...(id ? { id } : {}),
      ...(userId ? { userId } : {}),
    });
    return ok(res.items, { total: res.total });
  }

  @Delete()
  async delete(@Auth() auth: AuthContext, @Param('agentId') agentId: string, @Body() body: Record<string, unknown>) {
    await this.sessions.delete(auth.tenantId, agentId, body.ids);
    return ok();
  }
}
