/**
 * The Elasticsearch adapter against a scripted fake node: checks the requests it sends (mapping, bulk,
 * queries, filters) and how it reads the answers (score conversion, union, errors). The real-cluster
 * contract is covered by test/integration/elasticsearch.conformance.test.ts when ELASTICSEARCH_URL is set.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ElasticsearchSearchIndex, cosineFromKnnScore, elasticsearchMapping } from '../../src/index.js';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  lines: unknown[];
}

type Handler = (req: Recorded) => { status?: number; body?: unknown } | undefined;

class FakeElasticsearch {
  readonly requests: Recorded[] = [];
  handler: Handler = () => undefined;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const lines = raw
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as unknown);
    const rec: Recorded = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      body: lines.length === 1 ? lines[0] : undefined,
      lines,
    };
    this.requests.push(rec);
    const out = this.handler(rec) ?? { status: 404, body: { error: { type: 'not_found', reason: `no route ${rec.method} ${rec.path}` }, status: 404 } };
    res.writeHead(out.status ?? 200, {
      'content-type': 'application/vnd.elasticsearch+json;compatible-with=9',
      'x-elastic-product': 'Elasticsearch',
    });
    res.end(rec.method === 'HEAD' ? undefined : JSON.stringify(out.body ?? {}));
  }
}

const hit = (id: string, score: number, extra: Record<string, unknown> = {}) => ({
  _index: 'p_chunks_4',
  _id: id,
  _score: score,
  _source: { id, dataset_id: 'd1', document_id: 'doc1', tokens: `tokens of ${id}`, ...extra },
});
const searchBody = (hits: unknown[]) => ({ took: 1, timed_out: false, hits: { hits } });

describe('ElasticsearchSearchIndex wire format', () => {
  const es = new FakeElasticsearch();
  let idx: ElasticsearchSearchIndex;

  beforeAll(() => es.start());
  afterAll(() => es.stop());
  beforeEach(() => {
    es.requests.length = 0;
    es.handler = () => undefined;
    idx = new ElasticsearchSearchIndex({ node: es.url, indexPrefix: 'p_' });
  });
  afterEach(() => idx.close());

  test('ensureReady creates the per-dimension index with an explicit strict mapping, once', async () => {
    let created = false;
    es.handler = (r) => {
      if (r.method === 'HEAD' && r.path === '/p_chunks_4') return { status: created ? 200 : 404 };
      if (r.method === 'PUT' && r.path === '/p_chunks_4') {
        created = true;
        return { body: { acknowledged: true, index: 'p_chunks_4' } };
      }
      return undefined;
    };
    await idx.ensureReady(4);
    await idx.ensureReady(4);
    expect(es.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /p_chunks_4', 'PUT /p_chunks_4']);
    const body = es.requests[1]!.body as { mappings: unknown; settings: unknown };
    expect(body.settings).toEqual({ index: { refresh_interval: '1s' } });
    expect(body.mappings).toEqual({
      dynamic: 'strict',
      properties: {
        id: { type: 'keyword' },
        tenant_id: { type: 'keyword' },
        dataset_id: { type: 'keyword' },
        document_id: { type: 'keyword' },
        tokens: { type: 'text', analyzer: 'whitespace', search_analyzer: 'whitespace' },
        vector: { type: 'dense_vector', dims: 4, index: true, similarity: 'cosine' },
        available: { type: 'boolean' },
      },
    });
    expect(elasticsearchMapping(4)).toEqual(body.mappings);
  });

  test('a concurrent creator winning the race is fine; other creation errors are reported', async () => {
    es.handler = (r) => {
      if (r.method === 'HEAD') return { status: 404 };
      if (r.path === '/p_chunks_4') return { status: 400, body: { error: { type: 'resource_already_exists_exception', reason: 'exists' }, status: 400 } };
      if (r.path === '/p_chunks_5') return { status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'bad dims' }, status: 400 } };
      return undefined;
    };
    await idx.ensureReady(4);
    await expect(idx.ensureReady(5)).rejects.toThrow(/cannot create Elasticsearch index p_chunks_5: illegal_argument_exception: bad dims/);
  });

  test('upsert sends one bulk request with refresh=wait_for, documents keyed by chunk id', async () => {
    es.handler = (r) => {
      if (r.method === 'HEAD') return { status: 200 };
      if (r.path === '/_bulk') return { body: { errors: false, took: 1, items: [] } };
      return undefined;
    };
    await idx.upsert([
      { id: 'c1', tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: 'a b', vector: new Float32Array([1, 0, 0, 0.5]), available: true },
      { id: 'c2', tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: 'c', vector: new Float32Array([0, 1, 0, 0]), available: false },
      { id: 'c3', tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: 'z', vector: new Float32Array(4), available: true },
    ]);
    const bulk = es.requests.find((r) => r.path === '/_bulk')!;
    expect(bulk.method).toBe('POST');
    expect(bulk.query.get('refresh')).toBe('wait_for');
    expect(bulk.lines).toEqual([
      { index: { _index: 'p_chunks_4', _id: 'c1' } },
      { id: 'c1', tenant_id: 't', dataset_id: 'd', document_id: 'doc', tokens: 'a b', vector: [1, 0, 0, 0.5], available: true },
      { index: { _index: 'p_chunks_4', _id: 'c2' } },
      { id: 'c2', tenant_id: 't', dataset_id: 'd', document_id: 'doc', tokens: 'c', vector: [0, 1, 0, 0], available: false },
      { index: { _index: 'p_chunks_4', _id: 'c3' } },
      { id: 'c3', tenant_id: 't', dataset_id: 'd', document_id: 'doc', tokens: 'z', available: true }, // zero vector left out
    ]);
  });

  test('bulk item failures are thrown, not swallowed', async () => {
    es.handler = (r) => {
      if (r.method === 'HEAD') return { status: 200 };
      if (r.path === '/_bulk') {
        return {
          body: {
            errors: true,
            items: [
              { index: { _id: 'c1', status: 201, result: 'created' } },
              { index: { _id: 'c2', status: 400, error: { type: 'document_parsing_exception', reason: 'zero magnitude' } } },
            ],
          },
        };
      }
      return undefined;
    };
    const c = { tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: 'x', vector: new Float32Array([1, 0]), available: true };
    await expect(idx.upsert([{ ...c, id: 'c1' }, { ...c, id: 'c2' }])).rejects.toThrow(/1 of 2 failed; first \(c2\): document_parsing_exception: zero magnitude/);
  });

  test('search: independent BM25 and filtered kNN requests, unioned; kNN scores and text-only hits become cosines', async () => {
    es.handler = (r) => {
      if (r.path !== '/p_chunks_4/_search') return undefined;
      const b = r.body as Record<string, any>;
      if (b.knn) return { body: searchBody([hit('both', 1.0), hit('vec', 0.75)]) };
      if (b.query?.script_score) return { body: searchBody([{ _index: 'p_chunks_4', _id: 'txt', _score: 1.25 }]) };
      return { body: searchBody([hit('txt', 7.5), hit('both', 3.25)]) };
    };
    const res = await idx.search({
      filter: { tenantId: 't', datasetIds: ['d1', 'd2'], documentIds: ['doc1'] },
      queryTokens: ['alpha', ' beta  gamma '],
      queryVector: new Float32Array([0.5, 0, 0, 0]),
      textLimit: 5,
      vectorLimit: 3,
    });
    expect(res).toEqual([
      { id: 'txt', datasetId: 'd1', documentId: 'doc1', tokens: 'tokens of txt', textScore: 7.5, vectorSimilarity: 0.25 },
      { id: 'both', datasetId: 'd1', documentId: 'doc1', tokens: 'tokens of both', textScore: 3.25, vectorSimilarity: 1 },
      { id: 'vec', datasetId: 'd1', documentId: 'doc1', tokens: 'tokens of vec', textScore: 0, vectorSimilarity: 0.5 },
    ]);

    const searches = es.requests.filter((r) => r.path === '/p_chunks_4/_search');
    expect(searches).toHaveLength(3);
    const filter = [
      { term: { tenant_id: 't' } },
      { terms: { dataset_id: ['d1', 'd2'] } },
      { terms: { document_id: ['doc1'] } },
      { term: { available: true } },
    ];
    const text = searches.find((r) => (r.body as any).query?.bool)!.body as Record<string, any>;
    expect(text.size).toBe(5);
    expect(text.query).toEqual({ bool: { must: [{ match: { tokens: { query: 'alpha beta gamma' } } }], filter } });
    expect(text._source).toEqual(['id', 'dataset_id', 'document_id', 'tokens']);
    const knn = searches.find((r) => (r.body as any).knn)!.body as Record<string, any>;
    expect(knn.size).toBe(3);
    expect(knn.query).toBeUndefined(); // the kNN leg is not restricted by the text match
    expect(knn.knn).toEqual({ field: 'vector', query_vector: [0.5, 0, 0, 0], k: 3, num_candidates: 6, filter: { bool: { filter } } });
    const cos = searches.find((r) => (r.body as any).query?.script_score)!.body as Record<string, any>;
    // only the text-only hit, and only if it has a vector
    expect(cos.query.script_score.query).toEqual({ bool: { filter: [{ ids: { values: ['txt'] } }, { exists: { field: 'vector' } }] } });
    expect(cos.query.script_score.script.params).toEqual({ query_vector: [0.5, 0, 0, 0] });
    expect(cos.query.script_score.script.source).toContain("cosineSimilarity(params.query_vector, 'vector') + 1.0");
    for (const s of searches) {
      expect(s.query.get('ignore_unavailable')).toBe('true');
    }
  });

  test('search without a query vector runs only the text leg over all dimensions; nothing to do means no request', async () => {
    es.handler = (r) => (r.path === '/p_chunks_*/_search' ? { body: searchBody([hit('a', 2)]) } : undefined);
    const res = await idx.search({ filter: { tenantId: 't', datasetIds: ['d1'] }, queryTokens: ['x'], queryVector: null, textLimit: 4, vectorLimit: 4 });
    expect(res).toEqual([{ id: 'a', datasetId: 'd1', documentId: 'doc1', tokens: 'tokens of a', textScore: 2, vectorSimilarity: 0 }]);
    expect(es.requests).toHaveLength(1);
    es.requests.length = 0;
    expect(await idx.search({ filter: { tenantId: 't', datasetIds: [] }, queryTokens: ['x'], queryVector: new Float32Array(4), textLimit: 4, vectorLimit: 4 })).toEqual([]);
    expect(await idx.search({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [' '], queryVector: null, textLimit: 4, vectorLimit: 4 })).toEqual([]);
    expect(await idx.count({ tenantId: 't', datasetIds: [] })).toBe(0);
    expect(es.requests).toHaveLength(0);
  });

  test('num_candidates is 2k capped at 10,000', async () => {
    es.handler = (r) => (r.path.endsWith('/_search') ? { body: searchBody([]) } : undefined);
    await idx.search({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [], queryVector: new Float32Array([1, 0, 0, 0]), textLimit: 0, vectorLimit: 8000 });
    const knn = (es.requests[0]!.body as any).knn;
    expect([knn.k, knn.num_candidates]).toEqual([8000, 10000]);
  });

  test('count and deletes target every chunk index of the prefix with the right filters', async () => {
    es.handler = (r) => {
      if (r.path === '/p_chunks_*/_count') return { body: { count: 3 } };
      if (r.path === '/p_chunks_*/_delete_by_query') return { body: { deleted: 1, failures: [] } };
      return undefined;
    };
    expect(await idx.count({ tenantId: 't', datasetIds: ['d'] })).toBe(3);
    expect((es.requests[0]!.body as any).query).toEqual({ bool: { filter: [{ term: { tenant_id: 't' } }, { terms: { dataset_id: ['d'] } }] } });

    await idx.deleteByIds('t', ['a', 'b', 'a']);
    await idx.deleteByIds('t', []);
    await idx.deleteByDocument('t', 'doc');
    await idx.deleteByDataset('t', 'ds');
    const dels = es.requests.filter((r) => r.path === '/p_chunks_*/_delete_by_query');
    expect(dels.map((r) => (r.body as any).query)).toEqual([
      { bool: { filter: [{ term: { tenant_id: 't' } }, { ids: { values: ['a', 'b'] } }] } },
      { bool: { filter: [{ term: { tenant_id: 't' } }, { term: { document_id: 'doc' } }] } },
      { bool: { filter: [{ term: { tenant_id: 't' } }, { term: { dataset_id: 'ds' } }] } },
    ]);
    for (const d of dels) {
      expect(d.query.get('refresh')).toBe('true');
      expect(d.query.get('conflicts')).toBe('proceed');
    }
  });

  test('health: green/yellow pass, red and unreachable nodes fail with a clear message', async () => {
    let status = 'yellow';
    es.handler = (r) => (r.path === '/_cluster/health' ? { body: { status, cluster_name: 'x' } } : undefined);
    await idx.health();
    status = 'red';
    await expect(idx.health()).rejects.toThrow(/cluster at http:\/\/127\.0\.0\.1:\d+ is red/);
    const dead = new ElasticsearchSearchIndex({ node: 'http://127.0.0.1:9', requestTimeoutMs: 2_000 });
    await expect(dead.health()).rejects.toThrow(/Elasticsearch at http:\/\/127\.0\.0\.1:9 is unreachable/);
    await dead.close();
  });

  test('rejects index prefixes Elasticsearch would refuse', () => {
    expect(() => new ElasticsearchSearchIndex({ node: es.url, indexPrefix: 'Upper_' })).toThrow(/invalid Elasticsearch index prefix/);
    expect(() => new ElasticsearchSearchIndex({ node: es.url, indexPrefix: '_x' })).toThrow(/invalid/);
    expect(new ElasticsearchSearchIndex({ node: es.url }).indexName(384)).toBe('chunks_384');
  });

  test('cosineFromKnnScore inverts (1 + cos) / 2', () => {
    expect(cosineFromKnnScore(1)).toBe(1);
    expect(cosineFromKnnScore(0.5)).toBe(0);
    expect(cosineFromKnnScore(0)).toBe(-1);
    expect(cosineFromKnnScore(0.75)).toBeCloseTo(0.5);
  });
});
