import { Controller, HttpCode, Delete, Get, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { InjectConfig } from '@ragnest/runtime';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok, okJson } from '../ragflow/envelope.js';
import { AgentsService } from './agents.service.js';
import { boolParam, intParam, orderParam, strParam } from './query.js';

/** RAGFlow agent routes (§11). */
@Controller('api/v1/agents')
@UseGuards(ApiKeyGuard)
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  async list(@Auth() auth: AuthContext, @Query() q: Record<string, string | string[]>) {
    const current = this.config.compat === 'current';
    const id = strParam(q, 'id');
    const title = strParam(q, 'title') ?? strParam(q, 'name');
    const res = await this.agents.list(auth.tenantId, {
      page: intParam(q, 'page', 1),
      pageSize: intParam(q, 'page_size', 30),
      orderBy: orderParam(q),
      // classic lists agents oldest first unless asked (§11); current defaults to newest first
      desc: boolParam(strParam(q, 'desc'), current),
      ...(id ? { id } : {}),
      ...(title ? { title } : {}),
    });
    return current ? ok({ canvas: res.items, total: res.total }) : ok(res.items);
  }

  @Get(':id')
  async get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return ok(await this.agents.get(auth.tenantId, id));
  }

  @Post()
  @HttpCode(200)
  async create(@Auth() auth: AuthContext, @Body() body: Record<string, unknown>) {
    await this.agents.create(auth.tenantId, auth.userId, body);
    return okJson(true);
  }

  @Put(':id')
  async update(@Auth() auth: AuthContext, @Param('id') id: string, @Body() body: Record<string, unknown>) {
    await this.agents.update(auth.tenantId, id, body);
    return okJson(true);
  }

  @Delete(':id')
  async delete(@Auth() auth: AuthContext, @Param('id') id: string) {
    await this.agents.delete(auth.tenantId, id);
    return okJson(true);
  }
}
