import { Controller, Delete, Get, Inject, Param, Post, Put, Query, UseGuards, HttpCode } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { StrictBody } from '../ragflow/body.js';
import { ok } from '../ragflow/envelope.js';
import { validate } from '../ragflow/validation.js';
import { createDatasetSchema, deleteDatasetsSchema, listDatasetsQuerySchema, updateDatasetSchema } from './dataset.schemas.js';
import { DatasetsService } from './datasets.service.js';
import { SEARCH_KIND } from '../retrieval/retrieval.gateway.js';

const asList = (v: string | string[] | undefined) =>
  v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

/** RAGFlow dataset routes (§3). */
@Controller('api/v1/datasets')
@UseGuards(ApiKeyGuard)
export class DatasetsController {
  constructor(
    private readonly datasets: DatasetsService,
    @Inject(SEARCH_KIND) private readonly searchKind: 'embedded' | 'elasticsearch',
  ) {}

  @Post()
  @HttpCode(200) // RAGFlow answers 200, not Nest's default 201 for POST
  async create(@Auth() auth: AuthContext, @StrictBody() body: Record<string, unknown>) {
    const input = validate(createDatasetSchema, body);
    return ok(await this.datasets.create(auth.tenantId, auth.userId, input));
  }

  @Get()
  async list(@Auth() auth: AuthContext, @Query() query: Record<string, string | string[]>) {
    // the Python SDK sends None-valued params as absent and bools as "True"/"False"
    const q = validate(listDatasetsQuerySchema, query);
    const ids = asList(q.ids);
    const res = await this.datasets.list(auth.tenantId, {
      page: q.page ?? 1,
      pageSize: q.page_size ?? 30,
      orderBy: q.orderby ?? 'create_time',
      desc: q.desc ?? true,
      ...(q.id ? { id: q.id } : {}),
      ...(q.name ? { name: q.name } : {}),
      ...(ids ? { ids } : {}),
    });
    return ok(res.items, { total_datasets: res.total });
  }

  @Get(':id')
  async get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return ok(await this.datasets.get(auth.tenantId, id));
  }

  @Put(':id')
  async update(@Auth() auth: AuthContext, @Param('id') id: string, @StrictBody({ allowEmpty: true }) body: Record<string, unknown>) {
    const input = validate(updateDatasetSchema, body);
    return ok(await this.datasets.update(auth.tenantId, id, input, this.searchKind));
  }

  @Delete()
  async delete(@Auth() auth: AuthContext, @StrictBody() body: Record<string, unknown>) {
    const input = validate(deleteDatasetsSchema, body);
    return ok(await this.datasets.delete(auth.tenantId, input.ids, input.delete_all));
  }
}
