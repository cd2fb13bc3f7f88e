import { Controller, Post, Req, UseGuards, HttpCode } from '@nestjs/common';
import type { Request } from 'express';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { ApiKeyGuard } from '../auth/guards.js';
import { AuthService } from '../auth/auth.service.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok } from '../ragflow/envelope.js';
import { RetrievalService } from './retrieval.service.js';

function num(v: unknown, def: number, name: string): number {
  if (v === undefined || v === null) return def;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw dataError(`\`${name}\` should be a number`);
  return n;
}

@Controller('api/v1')
export class RetrievalController {
  constructor(
    private readonly retrieval: RetrievalService,
    private readonly auth: AuthService,
  ) {}

  @Post('retrieval')
  @HttpCode(200) // RAGFlow answers 200, not Nest's default 201 for POST
  @UseGuards(ApiKeyGuard)
  async retrieve(@Auth() a: AuthContext, @Body() body: Record<string, unknown>) {
    if (body.dataset_ids === undefined || body.dataset_ids === null) throw dataError('`dataset_ids` is required.');
    if (!Array.isArray(body.dataset_ids)) throw dataError('`dataset_ids` should be a list');
    const datasetIds = (body.dataset_ids as unknown[]).map(String);
    if (!datasetIds.length) throw dataError('`dataset_ids` is required.');
    const documentIds = body.document_ids ?? [];
    if (!Array.isArray(documentIds)) throw dataError('`documents` should be a list');
    if (!('question' in body)) throw dataError('`question` is required.');
    const question = typeof body.question === 'string' ? body.question : String(body.question ?? '');
    let highlight = false;
    if (body.highlight !== undefined && body.highlight !== null) {
      if (typeof body.highlight === 'boolean') highlight = body.highlight;
      else if (body.highlight === 'true' || body.highlight === 'false') highlight = body.highlight === 'true';
      else throw dataError('`highlight` should be a boolean');
    }
    const page = Math.max(1, Math.floor(num(body.page, 1, 'page')));
    const pageSize = Math.max(1, Math.floor(num(body.page_size, 30, 'page_size')));
    const vsw = num(body.vector_similarity_weight, 0.3, 'vector_similarity_weight');
    if (vsw < 0 || vsw > 1) throw dataError('`vector_similarity_weight` should be between 0 and 1');
    const topK = Math.floor(num(body.top_k, 1024, 'top_k'));
    if (topK <= 0) throw dataError('`top_k` must be greater than 0');
    if (!question.trim()) {
      await this.retrieval.checkScope(a.tenantId, datasetIds, documentIds.map(String));
      return ok({ total: 0, chunks: [], doc_aggs: {} });
    }
    return ok(
      await this.retrieval.retrieve({
        tenantId: a.tenantId,
        datasetIds,
        documentIds: documentIds.map(String),
        question,
        page,
        pageSize,
        similarityThreshold: num(body.similarity_threshold, 0.2, 'similarity_threshold'),
        vectorSimilarityWeight: vsw,
        topK,
        highlight,
      }),
    );
  }

  /** Dify external knowledge API: own auth errors (HTTP 403) and a bare `{records}` body. */
  @Post('dify/retrieval')
  @HttpCode(200) // RAGFlow answers 200, not Nest's default 201 for POST
  async dify(@Req() req: Request, @Body() body: Record<string, unknown>) {
    const header = req.headers.authorization ?? '';
    const token = header.trim().split(/\s+/).pop() ?? '';
    const who = token ? await this.auth.byApiKey(token) : null;
    if (!who) throw new DomainError(403, 'API-KEY is invalid!', undefined, 403);
    const missing = ['knowledge_id', 'query'].filter((k) => typeof body[k] !== 'string');
    if (missing.length) throw new DomainError(RetCode.ARGUMENT_ERROR, `required argument are missing: ${missing.join(',')}; `);
    const setting = (body.retrieval_setting ?? {}) as Record<string, unknown>;
    return this.retrieval.dify(
      who.tenantId,
      body.knowledge_id as string,
      body.query as string,
      Math.floor(num(setting.top_k, 1024, 'top_k')),
      num(setting.score_threshold, 0, 'score_threshold'),
    );
  }
}
