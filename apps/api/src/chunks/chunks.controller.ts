import { Controller, Delete, Get, Param, Patch, Post, Put, Query, UseGuards, HttpCode } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok } from '../ragflow/envelope.js';
import { ChunksService } from './chunks.service.js';

const positive = (v: string | undefined, def: number) => {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : def;
};

/** RAGFlow chunk routes (§5). */
@Controller('api/v1/datasets/:datasetId/documents/:documentId/chunks')
@UseGuards(ApiKeyGuard)
export class ChunksController {
  constructor(private readonly chunks: ChunksService) {}

  @Post()
  @HttpCode(200) // RAGFlow answers 200, not Nest's default 201 for POST
  async add(@Auth() a: AuthContext, @Param('datasetId') ds: string, @Param('documentId') doc: string, @Body() body: Record<string, unknown>) {
    return ok(await this.chunks.add(a.tenantId, ds, doc, body));
  }

  @Get()
  async list(
    @Auth() a: AuthContext,
    @Param('datasetId') ds: string,
    @Param('documentId') doc: string,
    @Query() q: Record<string, string | undefined>,
  ) {
    const id = q.id && q.id !== 'None' ? q.id : undefined;
    const keywords = q.keywords && q.keywords !== 'None' ? q.keywords : undefined;
    return ok(
      await this.chunks.list(a.tenantId, ds, doc, {
        page: positive(q.page, 1),
        pageSize: positive(q.page_size, 30),
        ...(keywords ? { keywords } : {}),
        ...(id ? { id } : {}),
      }),
    );
  }

  @Get(':chunkId')
  async get(@Auth() a: AuthContext, @Param('datasetId') ds: string, @Param('documentId') doc: string, @Param('chunkId') id: string) {
    return ok(await this.chunks.get(a.tenantId, ds, doc, id));
  }

  @Delete()
  async delete(@Auth() a: AuthContext, @Param('datasetId') ds: string, @Param('documentId') doc: string, @Body() body: Record<string, unknown>) {
    return ok(await this.chunks.delete(a.tenantId, ds, doc, body));
  }

  @Put(':chunkId')
  async update(
    @Auth() a: AuthContext,
    @Param('datasetId') ds: string,
    @Param('documentId') doc: string,
    @Param('chunkId') id: string,
    @Body() body: Record<string, unknown>,
  ) {
    return ok(await this.chunks.update(a.tenantId, ds, doc, id, body));
  }

  /** current-generation verb */
  @Patch(':chunkId')
  patch(
    @Auth() a: AuthContext,
    @Param('datasetId') ds: string,
    @Param('documentId') doc: string,
    @Param('chunkId') id: string,
    @Body() body: Record<string, unknown>,
  ) {
    return this.update(a, ds, doc, id, body);
  }
}
