import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import { LanceSearchIndex, createSearchIndex, type IndexedChunk } from '../../src/index.js';
import { rng } from '../rng.js';

const exec = promisify(execFile);


function randomVector(r: () => number, dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = r() * 2 - 1;
  return v;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
}

describe('LanceSearchIndex (embedded specifics)', () => {
  let dir: string;
  const open: LanceSearchIndex[] = [];
  const make = (opts: Partial<ConstructorParameters<typeof LanceSearchIndex>[0]> = {}) => {
    const idx = new LanceSearchIndex({ dir, ...opts });
    open.push(idx);
    return idx;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ragnest-lance-'));
  });
  afterEach(async () => {
    for (const i of open.splice(0)) await i.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('creates one table per dimension with FTS and scalar indices, and keeps dimensions apart', async () => {
    const idx = make();
    const tenantId = randomUUID();
    const datasetId = randomUUID();
    const base = { tenantId, datasetId, documentId: 'doc', available: true };
    await idx.upsert([
      { ...base, id: 'a', tokens: 'small', vector: new Float32Array([1, 0, 0, 0]) },
      { ...base, id: 'b', tokens: 'large', vector: new Float32Array(6).fill(1) },
    ]);
    const db = await lancedb.connect(dir);
    expect((await db.tableNames()).sort()).toEqual(['chunks_4', 'chunks_6']);
    const t = await db.openTable('chunks_4');
    const indices = await t.listIndices();
    const fts = indices.find((i) => i.columns[0] === 'tokens');
    expect(fts?.indexType).toBe('FTS');
    expect((fts as unknown as { indexDetails: Record<string, unknown> }).indexDetails).toMatchObject({
      base_tokenizer: 'whitespace',
      lower_case: false,
      stem: false,
      remove_stop_words: false,
      ascii_folding: false,
    });
    expect(indices.map((i) => i.columns[0]).sort()).toEqual(['available', 'dataset_id', 'document_id', 'id', 'tenant_id', 'tokens']);
    db.close();

    const filter = { tenantId, datasetIds: [datasetId] };
    // a query vector selects the table of its dimension
    expect((await idx.search({ filter, queryTokens: ['small', 'large'], queryVector: new Float32Array([1, 0, 0, 0]), textLimit: 5, vectorLimit: 5 })).map((c) => c.id)).toEqual(['a']);
    // without one, the text leg covers every dimension
    expect(
      (await idx.search({ filter, queryTokens: ['small', 'large'], queryVector: null, textLimit: 5, vectorLimit: 5 })).map((c) => c.id).sort(),
    ).toEqual(['a', 'b']);
    expect(await idx.count(filter)).toBe(2);
    await idx.deleteByDocument(tenantId, 'doc');
    expect(await idx.count(filter)).toBe(0);
  });

  test('quotes in ids are data, not SQL', async () => {
    const idx = make();
    const victim = { tenantId: 'victim', datasetId: 'ds', documentId: 'doc', available: true };
    await idx.upsert([{ ...victim, id: 'v1', tokens: 'secret', vector: new Float32Array([1, 0, 0, 0]) }]);
    const evil = "x' OR '1'='1";
    const filter = { tenantId: evil, datasetIds: ['ds', evil], documentIds: [evil] };
    expect(await idx.search({ filter, queryTokens: ['secret'], queryVector: new Float32Array([1, 0, 0, 0]), textLimit: 5, vectorLimit: 5 })).toEqual([]);
    expect(await idx.count(filter)).toBe(0);
    await idx.deleteByIds(evil, ['v1', evil]);
    await idx.deleteByDataset(evil, evil);
    await idx.deleteByDocument(evil, evil);
    expect(await idx.count({ tenantId: 'victim', datasetIds: ['ds'] })).toBe(1);
    // and a chunk whose ids contain quotes round-trips
    const odd = { tenantId: "t'1", datasetId: "d'1", documentId: "doc'1", available: true };
    await idx.upsert([{ ...odd, id: "c'1", tokens: "it's", vector: new Float32Array([0, 1, 0, 0]) }]);
    const res = await idx.search({
      filter: { tenantId: "t'1", datasetIds: ["d'1"], documentIds: ["doc'1"] },
      queryTokens: ["it's"],
      queryVector: null,
      textLimit: 5,
      vectorLimit: 5,
    });
    expect(res.map((c) => [c.id, c.datasetId, c.documentId, c.tokens])).toEqual([["c'1", "d'1", "doc'1", "it's"]]);
    await idx.deleteByIds("t'1", ["c'1"]);
    expect(await idx.count({ tenantId: "t'1", datasetIds: ["d'1"] })).toBe(0);
  });

  test('search fetches rows by id once; if they moved meanwhile it falls back to a direct read', async () => {
    const idx = make();
    const base = { tenantId: 't', datasetId: 'd', documentId: 'doc', available: true };
    await idx.upsert([
      { ...base, id: 'a', tokens: 'alpha shared', vector: new Float32Array([1, 0, 0, 0]) },
      { ...base, id: 'b', tokens: 'beta shared', vector: new Float32Array([0, 1, 0, 0]) },
      { ...base, id: 'c', tokens: 'gamma', vector: new Float32Array([0.6, 0.8, 0, 0]) },
    ]);
    const req = {
      filter: { tenantId: 't', datasetIds: ['d'] },
      queryTokens: ['shared'],
      queryVector: new Float32Array([1, 0, 0, 0]),
      textLimit: 10,
      vectorLimit: 2,
    };
    const internals = idx as unknown as {
      searchTableDirect: (...a: unknown[]) => Promise<unknown>;
      takeRows: (...a: unknown[]) => Promise<Map<bigint, unknown>>;
    };
    const direct = internals.searchTableDirect.bind(idx);
    let directCalls = 0;
    internals.searchTableDirect = (...a) => {
      directCalls++;
      return direct(...a);
    };
    const normal = await idx.search(req);
    expect(directCalls).toBe(0);
    expect(normal.slice(0, 2).map((c) => c.id).sort()).toEqual(['a', 'b']); // text hits (BM25 tie) …
    expect(normal[2]!.id).toBe('c'); // … then the vector-only hit
    // simulate a compaction/delete between the legs and the fetch: the fetch finds fewer rows
    internals.takeRows = async () => new Map();
    const fallback = await idx.search(req);
    expect(directCalls).toBe(1);
    const norm = (cs: typeof normal) => cs.map((c) => ({ ...c, textScore: Math.round(c.textScore * 1e4), vectorSimilarity: Math.round(c.vectorSimilarity * 1e4) })).sort((x, y) => x.id.localeCompare(y.id));
    expect(norm(fallback)).toEqual(norm(normal));
    expect(fallback.find((c) => c.id === 'c')!.vectorSimilarity).toBeCloseTo(0.6, 4);
  });

  test('rejects malformed chunks instead of writing them', async () => {
    const idx = make();
    const ok = { id: 'a', tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: 'x', vector: new Float32Array([1, 0]), available: true };
    await expect(idx.upsert([{ ...ok, vector: new Float32Array([1, Number.NaN]) }])).rejects.toThrow(/non-finite/);
    await expect(idx.upsert([{ ...ok, tenantId: '' }])).rejects.toThrow(/tenantId/);
    await expect(idx.upsert([{ ...ok, vector: new Float32Array(0) }])).rejects.toThrow(/empty vector/);
    await expect(idx.ensureReady(0)).rejects.toThrow(/dimension/);
    expect(await idx.count({ tenantId: 't', datasetIds: ['d'] })).toBe(0);
  });

  test('optimize() builds the vector index once there are enough rows, keeps results right, and is cheap when idle', async () => {
    const dim = 32;
    const r = rng(42);
    const idx = make({ vectorIndexMinRows: 1_000, optimizeMinUnindexedRows: 1 });
    const tenantId = 'tenant';
    const datasetId = 'ds';
    const chunks: IndexedChunk[] = Array.from({ length: 1_500 }, (_, i) => ({
      id: `c${i}`,
      tenantId,
      datasetId,
      documentId: `doc${i % 10}`,
      tokens: `w${i % 50} common`,
      vector: randomVector(r, dim),
      available: true,
    }));
    await idx.upsert(chunks);
    const filter = { tenantId, datasetIds: [datasetId] };
    const query = chunks[7]!.vector;
    const before = await idx.search({ filter, queryTokens: [], queryVector: query, textLimit: 0, vectorLimit: 10 });
    expect(before[0]!.id).toBe('c7');

    await idx.optimize();
    const db = await lancedb.connect(dir);
    const t = await db.openTable(`chunks_${dim}`);
    const vectorIndex = (await t.listIndices()).find((i) => i.columns[0] === 'vector');
    expect(vectorIndex?.indexType).toMatch(/HNSW/i);
    expect((await t.indexStats('tokens_idx'))?.numUnindexedRows).toBe(0);

    // ANN results: the exact neighbour is first and similarities are real cosines
    const after = await idx.search({ filter, queryTokens: [], queryVector: query, textLimit: 0, vectorLimit: 10 });
    expect(after[0]!.id).toBe('c7');
    expect(after[0]!.vectorSimilarity).toBeCloseTo(1, 5);
    for (const c of after) {
      const i = Number(c.id.slice(1));
      expect(c.vectorSimilarity).toBeCloseTo(cosine(query, chunks[i]!.vector), 5);
    }
    const overlap = after.filter((c) => before.some((b) => b.id === c.id)).length;
    expect(overlap).toBeGreaterThanOrEqual(8);

    // rows written after the index are searchable at once (un-indexed rows are scanned)
    const late: IndexedChunk = { id: 'late', tenantId, datasetId, documentId: 'x', tokens: 'latecomer', vector: randomVector(r, dim), available: true };
    await idx.upsert([late]);
    const found = await idx.search({ filter, queryTokens: ['latecomer'], queryVector: late.vector, textLimit: 5, vectorLimit: 5 });
    expect(found[0]!.id).toBe('late');
    expect(found[0]!.textScore).toBeGreaterThan(0);
    expect(found[0]!.vectorSimilarity).toBeCloseTo(1, 5);

    await idx.optimize(); // folds `late` into the indices
    expect((await t.indexStats('tokens_idx'))?.numUnindexedRows).toBe(0);
    expect((await t.indexStats(vectorIndex!.name))?.numUnindexedRows).toBe(0);
    expect((await idx.search({ filter, queryTokens: ['latecomer'], queryVector: null, textLimit: 5, vectorLimit: 5 }))[0]!.id).toBe('late');

    // idle: nothing changed, so optimize() does not write a new version
    const version = await t.version();
    await idx.optimize();
    await idx.optimize();
    expect(await t.version()).toBe(version);
    db.close();
  }, 120_000);

  test('optimize() retrains the vector index when incremental segments pile up, so fragments get compacted again', async () => {
    const dim = 16;
    const r = rng(3);
    const idx = make({ vectorIndexMinRows: 500, vectorIndexMaxSegments: 3, optimizeMinUnindexedRows: 1 });
    const base = { tenantId: 't', datasetId: 'd', documentId: 'doc', available: true };
    await idx.upsert(Array.from({ length: 600 }, (_, i) => ({ ...base, id: `a${i}`, tokens: 'base', vector: randomVector(r, dim) })));
    await idx.optimize();
    const db = await lancedb.connect(dir);
    const t = await db.openTable(`chunks_${dim}`);
    const segments = async () => (await t.indexStats('vector_idx'))?.numIndices ?? 0;
    expect(await segments()).toBe(1);
    const seen: number[] = [];
    for (let cycle = 0; cycle < 6; cycle++) {
      const v = randomVector(r, dim);
      await idx.upsert([{ ...base, id: `n${cycle}`, tokens: `cycle${cycle}`, vector: v }]);
      await idx.optimize();
      seen.push(await segments());
      const hit = await idx.search({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [`cycle${cycle}`], queryVector: v, textLimit: 3, vectorLimit: 3 });
      expect(hit[0]!.id).toBe(`n${cycle}`);
      expect(hit[0]!.vectorSimilarity).toBeCloseTo(1, 4);
    }
    // segments grow by one per optimisation and are folded back into one when they exceed the limit
    expect(Math.max(...seen)).toBeLessThanOrEqual(4);
    expect(seen).toContain(1);
    expect((await t.stats()).fragmentStats.numFragments).toBeLessThanOrEqual(4);
    expect(await idx.count({ tenantId: 't', datasetIds: ['d'] })).toBe(606);
    db.close();
  }, 120_000);

  test('writes made while the vector index is being built are not lost', async () => {
    const dim = 64;
    const r = rng(7);
    const idx = make({ vectorIndexMinRows: 1_000 });
    const base = { tenantId: 't', datasetId: 'd', documentId: 'doc', available: true };
    const initial = 4_000;
    await idx.upsert(Array.from({ length: initial }, (_, i) => ({ ...base, id: `old${i}`, tokens: 'old', vector: randomVector(r, dim) })));
    let built = false;
    const optimizing = idx.optimize().then(() => {
      built = true;
    });
    // keep writing (upserts, a replacement, a delete) for as long as the index build runs
    await idx.upsert([{ ...base, id: 'old0', tokens: 'replaced', vector: randomVector(r, dim) }]);
    await idx.deleteByIds('t', ['old1']);
    let batches = 0;
    while (!built) {
      await idx.upsert(Array.from({ length: 20 }, (_, i) => ({ ...base, id: `new${batches}_${i}`, tokens: 'new', vector: randomVector(r, dim) })));
      batches++;
    }
    await optimizing;
    expect(batches).toBeGreaterThan(0);
    const db = await lancedb.connect(dir);
    expect((await (await db.openTable(`chunks_${dim}`)).listIndices()).some((i) => i.columns[0] === 'vector')).toBe(true);
    db.close();

    const check = async () => {
      const filter = { tenantId: 't', datasetIds: ['d'] };
      expect(await idx.count(filter)).toBe(initial - 1 + 20 * batches);
      const news = await idx.search({ filter, queryTokens: ['new'], queryVector: null, textLimit: 10_000, vectorLimit: 0 });
      expect(news).toHaveLength(20 * batches);
      const replaced = await idx.search({ filter, queryTokens: ['replaced'], queryVector: null, textLimit: 10, vectorLimit: 0 });
      expect(replaced.map((c) => c.id)).toEqual(['old0']);
      const olds = await idx.search({ filter, queryTokens: ['old'], queryVector: null, textLimit: 10_000, vectorLimit: 0 });
      expect(olds).toHaveLength(initial - 2);
    };
    await check();
    await idx.optimize(); // compaction + folding into the indices must not lose anything either
    await check();
  }, 120_000);

  test('a long-lived reader sees rows written by another process without reopening', async () => {
    const reader = make();
    const filter = { tenantId: 't', datasetIds: ['d'] };
    const q = { filter, queryTokens: ['fromchild'], queryVector: new Float32Array([0, 0, 1, 0]), textLimit: 5, vectorLimit: 5 };
    expect(await reader.search(q)).toEqual([]); // the table does not even exist yet
    await reader.ensureReady(4);
    expect(await reader.search(q)).toEqual([]);

    // another process writes through plain LanceDB into the same directory
    const lancePath = createRequire(import.meta.url).resolve('@lancedb/lancedb');
    const script = `
      const lancedb = require(${JSON.stringify(lancePath)});
      (async () => {
        const db = await lancedb.connect(${JSON.stringify(dir)});
        const t = await db.openTable('chunks_4');
        await t.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([
          { id: 'x1', tenant_id: 't', dataset_id: 'd', document_id: 'doc', tokens: 'fromchild', vector: [0, 0, 1, 0], available: true },
        ]);
      })().catch((e) => { console.error(e); process.exit(1); });`;
    await exec(process.execPath, ['-e', script]);

    const res = await reader.search(q);
    expect(res.map((c) => c.id)).toEqual(['x1']);
    expect(res[0]!.textScore).toBeGreaterThan(0);
    expect(res[0]!.vectorSimilarity).toBeCloseTo(1, 5);
  }, 60_000);

  test('createSearchIndex picks the embedded index under dataDir/index without a URL', async () => {
    const idx = createSearchIndex({ dataDir: dir });
    expect(idx.kind).toBe('embedded');
    await idx.upsert([{ id: 'a', tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: 'x', vector: new Float32Array([1, 0]), available: true }]);
    await idx.close();
    const db = await lancedb.connect(join(dir, 'index'));
    expect(await db.tableNames()).toEqual(['chunks_2']);
    db.close();
    expect(createSearchIndex({ dataDir: dir, elasticsearchUrl: 'http://localhost:9200' }).kind).toBe('elasticsearch');
  });

  test('health() reports an unusable directory clearly; close() is idempotent', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const bad = new LanceSearchIndex({ dir: join(file, 'index') });
    await expect(bad.health()).rejects.toThrow(/embedded search index at .*a-file\/index is unavailable: ENOTDIR/);
    const idx = make();
    await idx.health();
    await idx.close();
    await idx.close();
    await expect(idx.search({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: ['x'], queryVector: null, textLimit: 1, vectorLimit: 1 })).rejects.toThrow(/closed/);
  });
});
