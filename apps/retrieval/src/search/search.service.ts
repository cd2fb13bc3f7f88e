import { Inject, Injectable } from '@nestjs/common';
import { DATASET_SCOPE, HIT_ROWS, type HotReads, type PrismaClient } from '@ragnest/db';
import { DomainError, RetCode, searchRequestSchema, type SearchHitRow, type SearchRpcResponse } from '@ragnest/contracts';
import { EmbeddingRegistry } from '@ragnest/embedding';
import { buildQuery } from '@ragnest/nlp';
import type { SearchIndex } from '@ragnest/search';
import { InjectDb, InjectHotReads, searchDuration } from '@ragnest/runtime';
import { SEARCH_INDEX } from '../search-index.provider.js';
import { IndexDimensions } from '../index/index-dimensions.service.js';
import { MemoryIndexSync } from '../index/memory-sync.service.js';
import { rankCandidates } from './rank.js';

/** Candidates taken from each leg at least (RAGFlow's rerank window is 64). */
const MIN_WINDOW = 64;

/**
 * Hybrid retrieval. Both legs run independently (the vector leg is not filtered by the keyword match),
 * every candidate is scored as RAGFlow does — similarity = w·vector + (1−w)·term, with the term similarity
 * the share of the query's weighted terms the chunk covers — then thresholded, ranked and paged.
 * Deleted or disabled chunks never come back: an index that follows the feed has caught up with the
 * position the caller read (and holds availability and document names); any other index's candidates are
 * checked against Postgres.
 */
@Injectable()
export class SearchService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectHotReads() private readonly hot: HotReads,
    @Inject(SEARCH_INDEX) private readonly index: SearchIndex,
    private readonly registry: EmbeddingRegistry,
    private readonly dims: IndexDimensions,
    private readonly sync: MemoryIndexSync,
  ) {}

  async search(raw: unknown, servedBy: string): Promise<SearchRpcResponse> {
    const started = performance.now();
    const parsed = searchRequestSchema.safeParse(raw);
    if (!parsed.success) throw new DomainError(RetCode.ARGUMENT_ERROR, `invalid search request: ${parsed.error.message}`);
    const r = parsed.data;
    let model = r.embeddingModel;
    let head = r.feedHead !== undefined ? BigInt(r.feedHead) : undefined;
    if (model === undefined) {
      // the index feed's head comes with the datasets (no extra round trip): an in-memory index that is
      // behind it catches up first, so whatever was acknowledged before this query is searchable
      const datasets = await this.hot.rows<{ embedding_model: string; head: string }>(DATASET_SCOPE, [r.datasetIds, r.tenantId]);
      const models = [...new Set(datasets.map((d) => d.embedding_model))];
      if (models.length === 0) return { total: 0, hits: [], docAggs: [], servedBy };
      if (models.length > 1) throw new DomainError(RetCode.DATA_ERROR, 'Datasets use different embedding models."');
      model = models[0]!;
      head = BigInt(datasets[0]!.head);
    }
    // a model without a head: a chat turn's speculative retrieval, sent before the api has read the chat (and
    // the head with it). It searches what this replica has and says which position that is; the api uses the
    // result only if that position has reached the head it reads with the chat.
    let position: bigint | undefined;
    if (head === undefined) position = await this.sync.appliedPosition();
    else await this.sync.ensure(head);
    const provider = this.registry.get(model);
    const query = buildQuery(r.question);
    const [queryVector] = await provider.embed([r.question]);
    await this.dims.ensure(queryVector!.length);
    const window = Math.max(MIN_WINDOW, r.page * r.pageSize);
    const candidates = await this.index.search({
      filter: { tenantId: r.tenantId, datasetIds: r.datasetIds, ...(r.documentIds.length ? { documentIds: r.documentIds } : {}) },
      queryTokens: query.tokens,
      queryVector: queryVector ?? null,
      textLimit: window,
      vectorLimit: Math.min(r.topK, window),
    });
    const live = this.index.followsFeed ? null : await this.liveChunks(candidates.map((c) => c.id));
    const ranked = rankCandidates(candidates, query, r, live);
    const rows = r.withRows && ranked.hits.length ? await this.hot.rows<SearchHitRow>(HIT_ROWS, [ranked.hits.map((h) => h.chunkId)]) : undefined;
    searchDuration.observe((performance.now() - started) / 1000);
    return { ...ranked, servedBy, ...(position !== undefined ? { position: String(position) } : {}), ...(rows ? { rows } : {}) };
  }

  /** Candidate ids that still exist, are available, and whose document is enabled → their document's name. */
  private async liveChunks(ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    // primary-key lookups first, whatever the planner's statistics say: right after a bulk ingest they are
    // stale, and it then intersected the candidates with every chunk of each document (measured 10x slower)
    const rows = await this.db.$queryRaw<{ id: string; name: string }[]>`
      WITH c AS MATERIALIZED (SELECT id, document_id FROM chunk WHERE id = ANY(${ids}::text[]) AND available)
      SELECT c.id, d.name FROM c JOIN document d ON d.id = c.document_id WHERE d.status = '1'`;
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
