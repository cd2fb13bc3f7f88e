import { Client, errors, type estypes } from '@elastic/elasticsearch';
import type { Candidate, IndexedChunk, SearchFilter, SearchIndex, SearchRequest } from './port.js';
import { assertDimension, chunked, clampLimit, groupByDimension, joinQueryTokens, unionCandidates } from './util.js';

export interface ElasticsearchSearchIndexOptions {
  node: string;
  username?: string;
  password?: string;
  apiKey?: string;
  /** Prepended to every index name (`${prefix}chunks_${dim}`); lower-case. Default ''. */
  indexPrefix?: string;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Optional `index_options` for the dense_vector field (default: Elasticsearch's choice for the dimension). */
  vectorIndexOptions?: estypes.MappingDenseVectorIndexOptions;
  /** Use this client instead of building one (tests, shared clients). It is not closed by close(). */
  client?: Client;
}

interface ChunkDoc {
  id: string;
  tenant_id: string;
  dataset_id: string;
  document_id: string;
  tokens: string;
  vector?: number[];
  available: boolean;
}

const SOURCE_FIELDS = ['id', 'dataset_id', 'document_id', 'tokens'];
const MAX_WINDOW = 10_000;
const BULK_DOCS = 500;
const IDS_PER_QUERY = 1_000;

/** The explicit mapping of a chunk index. */
export function elasticsearchMapping(
  dimension: number,
  indexOptions?: estypes.MappingDenseVectorIndexOptions,
): estypes.MappingTypeMapping {
  return {
    dynamic: 'strict',
    properties: {
      id: { type: 'keyword' },
      tenant_id: { type: 'keyword' },
      dataset_id: { type: 'keyword' },
      document_id: { type: 'keyword' },
      // tokens are already analysed by RagNest: split on whitespace only, no lower-casing/stemming/stopwords
      tokens: { type: 'text', analyzer: 'whitespace', search_analyzer: 'whitespace' },
      vector: {
        type: 'dense_vector',
        dims: dimension,
        index: true,
        similarity: 'cosine',
        ...(indexOptions ? { index_options: indexOptions } : {}),
      },
      available: { type: 'boolean' },
    },
  };
}

/** The bool filter clauses for a SearchFilter (null = matches nothing, e.g. no dataset ids). */
export function elasticsearchFilter(filter: SearchFilter, opts: { onlyAvailable: boolean }): estypes.QueryDslQueryContainer[] | null {
  if (filter.datasetIds.length === 0) return null;
  const clauses: estypes.QueryDslQueryContainer[] = [
    { term: { tenant_id: filter.tenantId } },
    { terms: { dataset_id: [...new Set(filter.datasetIds)] } },
  ];
  if (filter.documentIds && filter.documentIds.length > 0) clauses.push({ terms: { document_id: [...new Set(filter.documentIds)] } });
  if (opts.onlyAvailable) clauses.push({ term: { available: true } });
  return clauses;
}

/** Elasticsearch scores cosine kNN hits as (1 + cos) / 2; this is the inverse. */
export function cosineFromKnnScore(score: number): number {
  const c = 2 * score - 1;
  return c > 1 ? 1 : c < -1 ? -1 : c;
}

function isNotFound(err: unknown): boolean {
  return err instanceof errors.ResponseError && err.statusCode === 404;
}

function describe(err: unknown): string {
  if (err instanceof errors.ResponseError) {
    const reason = (err.body as { error?: { type?: string; reason?: string } } | undefined)?.error;
    return reason ? `${reason.type ?? 'error'}: ${reason.reason ?? ''}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Elasticsearch adapter: one index per dimension with an explicit, strict mapping; BM25 `match` on the
 * whitespace-analysed `tokens` and an independent filtered `knn` query, unioned by id.
 */
export class ElasticsearchSearchIndex implements SearchIndex {
  readonly kind = 'elasticsearch' as const;
  private readonly client: Client;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly node: string;
  private readonly ready = new Set<number>();
  private readonly vectorIndexOptions: estypes.MappingDenseVectorIndexOptions | undefined;

  constructor(options: ElasticsearchSearchIndexOptions) {
    const prefix = options.indexPrefix ?? '';
    if (prefix && !/^[a-z0-9][a-z0-9._-]*$/.test(prefix)) {
      throw new Error(`invalid Elasticsearch index prefix ${JSON.stringify(prefix)}: use lower-case letters, digits, '.', '_' or '-'`);
    }
    this.prefix = prefix;
    this.node = options.node;
    this.vectorIndexOptions = options.vectorIndexOptions;
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      const auth = options.apiKey
        ? { apiKey: options.apiKey }
        : options.username
          ? { username: options.username, password: options.password ?? '' }
          : undefined;
      this.client = new Client({
        node: options.node,
        ...(auth ? { auth } : {}),
        requestTimeout: options.requestTimeoutMs ?? 30_000,
      });
      this.ownsClient = true;
    }
  }

  indexName(dimension: number): string {
    return `${this.prefix}chunks_${dimension}`;
  }

  /** All chunk indices of this prefix. */
  private get pattern(): string {
    return `${this.prefix}chunks_*`;
  }

  async ensureReady(dimension: number): Promise<void> {
    assertDimension(dimension);
    if (this.ready.has(dimension)) return;
    const index = this.indexName(dimension);
    if (!(await this.client.indices.exists({ index }))) {
      try {
        await this.client.indices.create({
          index,
          mappings: elasticsearchMapping(dimension, this.vectorIndexOptions),
          // an explicit interval keeps refreshing shards that saw no search lately ("search idle"),
          // so upserts with refresh=wait_for return within about a second
          settings: { index: { refresh_interval: '1s' } },
        });
      } catch (err) {
        const type = (err as errors.ResponseError).body?.error?.type;
        if (type !== 'resource_already_exists_exception') {
          throw new Error(`cannot create Elasticsearch index ${index}: ${describe(err)}`, { cause: err });
        }
      }
    }
    this.ready.add(dimension);
  }

  async upsert(chunks: IndexedChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    const groups = groupByDimension(chunks);
    for (const dim of groups.keys()) await this.ensureReady(dim);
    for (const [dim, group] of groups) {
      const index = this.indexName(dim);
      for (const slice of chunked(group, BULK_DOCS)) {
        const operations: Array<estypes.BulkOperationContainer | ChunkDoc> = [];
        for (const c of slice) {
          operations.push({ index: { _index: index, _id: c.id } });
          operations.push({
            id: c.id,
            tenant_id: c.tenantId,
            dataset_id: c.datasetId,
            document_id: c.documentId,
            tokens: c.tokens,
            // cosine is undefined for a zero vector and Elasticsearch rejects it: leave the field out, so the
            // chunk is still found by the text leg (with similarity 0) instead of failing the whole batch
            ...(c.vector.some((x) => x !== 0) ? { vector: Array.from(c.vector) } : {}),
            available: c.available,
          });
        }
        const res = await this.client.bulk({ operations, refresh: 'wait_for' });
        if (res.errors) {
          const failed = res.items.map((i) => i.index).filter((i) => i?.error);
          const first = failed[0];
          throw new Error(
            `Elasticsearch bulk upsert: ${failed.length} of ${slice.length} failed; first (${first?._id}): ${first?.error?.type}: ${first?.error?.reason}`,
          );
        }
      }
    }
  }

  private async deleteWhere(filter: estypes.QueryDslQueryContainer[]): Promise<void> {
    await this.client.deleteByQuery({
      index: this.pattern,
      query: { bool: { filter } },
      refresh: true,
      conflicts: 'proceed',
      allow_no_indices: true,
      ignore_unavailable: true,
    });
  }

  async deleteByIds(tenantId: string, ids: string[]): Promise<void> {
    for (const slice of chunked([...new Set(ids)], IDS_PER_QUERY)) {
      await this.deleteWhere([{ term: { tenant_id: tenantId } }, { ids: { values: slice } }]);
    }
  }

  async deleteByDocument(tenantId: string, documentId: string): Promise<void> {
    await this.deleteWhere([{ term: { tenant_id: tenantId } }, { term: { document_id: documentId } }]);
  }

  async deleteByDataset(tenantId: string, datasetId: string): Promise<void> {
    await this.deleteWhere([{ term: { tenant_id: tenantId } }, { term: { dataset_id: datasetId } }]);
  }

  async search(req: SearchRequest): Promise<Candidate[]> {
    const filter = elasticsearchFilter(req.filter, { onlyAvailable: true });
    if (filter === null) return [];
    const text = joinQueryTokens(req.queryTokens);
    const textLimit = text ? clampLimit(req.textLimit, MAX_WINDOW) : 0;
    // a zero query vector has no direction (and Elasticsearch rejects it for cosine): no kNN leg, similarity 0
    const qv = req.queryVector && req.queryVector.some((x) => x !== 0) ? Array.from(req.queryVector) : null;
    const k = qv ? clampLimit(req.vectorLimit, MAX_WINDOW) : 0;
    if (textLimit === 0 && k === 0) return [];
    // With a query vector only the index of that dimension holds comparable chunks.
    const index = qv ? this.indexName(qv.length) : this.pattern;

    const common = { index, ignore_unavailable: true, allow_no_indices: true, track_total_hits: false as const };
    const [textRes, knnRes] = await Promise.all([
      textLimit > 0
        ? this.client.search<ChunkDoc>({
            ...common,
            size: textLimit,
            _source: SOURCE_FIELDS,
            query: { bool: { must: [{ match: { tokens: { query: text } } }], filter } },
          })
        : null,
      k > 0 && qv
        ? this.client.search<ChunkDoc>({
            ...common,
            size: k,
            _source: SOURCE_FIELDS,
            knn: {
              field: 'vector',
              query_vector: qv,
              k,
              num_candidates: Math.min(Math.max(2 * k, k), MAX_WINDOW),
              filter: { bool: { filter } },
            },
          })
        : null,
    ]);

    const toCandidate = (h: estypes.SearchHit<ChunkDoc>, textScore: number, sim: number): Candidate => ({
      id: h._source?.id ?? h._id ?? '',
      datasetId: h._source?.dataset_id ?? '',
      documentId: h._source?.document_id ?? '',
      tokens: h._source?.tokens ?? '',
      vectorSimilarity: sim,
      textScore,
    });
    const textHits = (textRes?.hits.hits ?? []).map((h) => toCandidate(h, h._score ?? 0, 0));
    const vectorHits = (knnRes?.hits.hits ?? []).map((h) => toCandidate(h, 0, cosineFromKnnScore(h._score ?? 0)));

    // Text-only hits need their real cosine too: score them against the query vector server-side
    // (works on every 8.x/9.x version and avoids shipping vectors, which 9.x leaves out of _source).
    if (qv) {
      const fromKnn = new Map(vectorHits.map((h) => [h.id, h.vectorSimilarity]));
      const missing = textHits.filter((h) => !fromKnn.has(h.id)).map((h) => h.id);
      const sims = missing.length > 0 ? await this.cosineOf(index, missing, qv) : new Map<string, number>();
      for (const h of textHits) h.vectorSimilarity = fromKnn.get(h.id) ?? sims.get(h.id) ?? 0;
    }
    return unionCandidates(textHits, vectorHits);
  }

  /** Exact cosine between `qv` and the stored vectors of `ids` (script_score scores must be ≥ 0, hence +1). */
  private async cosineOf(index: string, ids: string[], qv: number[]): Promise<Map<string, number>> {
    const res = await this.client.search({
      index,
      ignore_unavailable: true,
      allow_no_indices: true,
      track_total_hits: false,
      size: ids.length,
      _source: false,
      query: {
        script_score: {
          query: { bool: { filter: [{ ids: { values: ids } }, { exists: { field: 'vector' } }] } },
          script: { source: "cosineSimilarity(params.query_vector, 'vector') + 1.0", params: { query_vector: qv } },
        },
      },
    });
    const out = new Map<string, number>();
    for (const h of res.hits.hits) if (h._id) out.set(h._id, Math.max(-1, Math.min(1, (h._score ?? 1) - 1)));
    return out;
  }

  async count(filter: SearchFilter): Promise<number> {
    const clauses = elasticsearchFilter(filter, { onlyAvailable: false });
    if (clauses === null) return 0;
    try {
      const res = await this.client.count({
        index: this.pattern,
        query: { bool: { filter: clauses } },
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      return res.count;
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
  }

  /** Elasticsearch refreshes and merges segments on its own. */
  async optimize(): Promise<void> {}

  async health(): Promise<void> {
    let status: string;
    try {
      status = (await this.client.cluster.health({ timeout: '5s' })).status;
    } catch (err) {
      throw new Error(`Elasticsearch at ${this.node} is unreachable or refused the request: ${describe(err)}`, { cause: err });
    }
    if (status === 'red') throw new Error(`Elasticsearch cluster at ${this.node} is red (some primary shards are unassigned)`);
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}
