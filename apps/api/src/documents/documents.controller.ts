import { pipeline } from 'node:stream/promises';
import { Controller, Delete, Get, Param, Patch, Post, Put, Query, Req, Res, UseGuards, HttpCode } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok } from '../ragflow/envelope.js';
import { DocumentsService } from './documents.service.js';
import { ParseService } from './parse.service.js';
import { UploadService } from './upload.service.js';
import { uploadedView } from './document.view.js';

type Q = Record<string, string | string[] | undefined>;

/** Query values the SDK may send as "None"/"" mean absent (RAGFlow issue #4015). */
function one(q: Q, key: string): string | undefined {
  const v = q[key];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' || s === 'None' || s === 'null' ? undefined : s;
}
function many(q: Q, key: string): string[] | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  const out = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s && s !== 'None');
  return out.length ? out : undefined;
}
function positive(v: string | undefined, def: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : def;
}

/** RAGFlow document routes (§4). */
@Controller('api/v1/datasets/:datasetId')
@UseGuards(ApiKeyGuard)
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly uploads: UploadService,
    private readonly parsing: ParseService,
  ) {}

  @Post('documents')
  @HttpCode(200) // RAGFlow answers 200, not Nest's default 201 for POST
  async upload(@Auth() auth: AuthContext, @Param('datasetId') datasetId: string, @Req() req: Request) {
    const docs = await this.uploads.upload(req, auth.tenantId, auth.userId, datasetId);
    return ok(docs.map(uploadedView));
  }

  @Get('documents')
  async list(@Auth() auth: AuthContext, @Param('datasetId') datasetId: string, @Query() q: Q) {
    const desc = one(q, 'desc');
    const from = Number(one(q, 'create_time_from') ?? 0);
    const to = Number(one(q, 'create_time_to') ?? 0);
    const res = await this.documents.list(auth.tenantId, datasetId, {
      page: positive(one(q, 'page'), 1),
      pageSize: positive(one(q, 'page_size'), 30),
      orderBy: one(q, 'orderby') ?? 'create_time',
      desc: desc === undefined ? true : desc.toLowerCase() !== 'false',
      ...(one(q, 'keywords') ? { keywords: one(q, 'keywords')! } : {}),
      ...(one(q, 'id') ? { id: one(q, 'id')! } : {}),
      ...(one(q, 'name') ? { name: one(q, 'name')! } : {}),
      ...(many(q, 'ids') ? { ids: many(q, 'ids')! } : {}),
      ...(many(q, 'suffix') ? { suffixes: many(q, 'suffix')! } : {}),
      ...(many(q, 'run') ? { runs: many(q, 'run')! } : {}),
      ...(Number.isFinite(from) && from > 0 ? { createTimeFrom: from } : {}),
      ...(Number.isFinite(to) && to > 0 ? { createTimeTo: to } : {}),
      ...(one(q, 'metadata_condition') ? { metadataCondition: one(q, 'metadata_condition')! } : {}),
    });
    return ok(res);
  }

  @Put('documents/:documentId')
  async update(
    @Auth() auth: AuthContext,
    @Param('datasetId') datasetId: string,
    @Param('documentId') documentId: string,
    @Body() body: Record<string, unknown>,
  ) {
    return ok(await this.documents.update(auth.tenantId, datasetId, documentId, body));
  }

  /** current-generation verb for the same update */
  @Patch('documents/:documentId')
  patch(
    @Auth() auth: AuthContext,
    @Param('datasetId') datasetId: string,
    @Param('documentId') documentId: string,
    @Body() body: Record<string, unknown>,
  ) {
    return this.update(auth, datasetId, documentId, body);
  }

  @Get('documents/:documentId')
  async download(
    @Auth() auth: AuthContext,
    @Param('datasetId') datasetId: string,
    @Param('documentId') documentId: string,
    @Res() res: Response,
  ): Promise<void> {
    const { doc, stream } = await this.documents.open(auth.tenantId, datasetId, documentId);
    res.status(200);
    res.setHeader('Content-Type', doc.mimeType || 'application/octet-stream');
    res.setHeader('Content-Length', String(doc.size));
    res.setHeader('Content-Disposition', contentDisposition(doc.name));
    await pipeline(stream, res);
  }

  @Delete('documents')
  async delete(@Auth() auth: AuthContext, @Param('datasetId') datasetId: string, @Body() body: Record<string, unknown>) {
    return ok(await this.documents.delete(auth.tenantId, datasetId, body));
  }

  @Post(['chunks', 'documents/parse'])
  @HttpCode(200) // RAGFlow answers 200, not Nest's default 201 for POST
  async parse(@Auth() auth: AuthContext, @Param('datasetId') datasetId: string, @Body() body: Record<string, unknown>) {
    return ok(await this.parsing.parse(auth.tenantId, datasetId, body));
  }

  @Delete('chunks')
  async stop(@Auth() auth: AuthContext, @Param('datasetId') datasetId: string, @Body() body: Record<string, unknown>) {
    return ok(await this.parsing.stop(auth.tenantId, datasetId, body));
  }

  /** current-generation alias of stop */
  @Post('documents/stop')
  @HttpCode(200) // RAGFlow answers 200, not Nest's default 201 for POST
  stopAlias(@Auth() auth: AuthContext, @Param('datasetId') datasetId: string, @Body() body: Record<string, unknown>) {
    return this.stop(auth, datasetId, body);
  }
}

/** `attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987). */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
