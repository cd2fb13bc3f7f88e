/**
 * A Jest suite for the SearchIndex contract, shared by every adapter.
 *
 * It uses Jest's injected globals (describe/test/expect/…) at call time rather than importing
 * `@jest/globals`, because that module throws when loaded outside Jest — importing it here would break
 * every production import of this package. Only types come from `@jest/globals`.
 */
import { randomUUID } from 'node:crypto';
import type {
  afterAll as JestAfterAll,
  beforeAll as JestBeforeAll,
  describe as JestDescribe,
  expect as JestExpect,
  test as JestTest,
} from '@jest/globals';
import { tokenList, type Candidate, type IndexedChunk, type SearchFilter, type SearchIndex } from './port.js';

interface JestApi {
  describe: typeof JestDescribe;
  test: typeof JestTest;
  expect: typeof JestExpect;
  beforeAll: typeof JestBeforeAll;
  afterAll: typeof JestAfterAll;
}

function jestApi(): JestApi {
  const g = globalThis as unknown as Partial<JestApi>;
  if (!g.describe || !g.test || !g.expect || !g.beforeAll || !g.afterAll) {
    throw new Error('describeSearchIndexConformance must be called from a Jest test file (with injected globals)');
  }
  return g as JestApi;
}

export interface ConformanceOptions {
  /** Vector dimension used by the suite (default 8). */
  dimension?: number;
  /** Per-test timeout in ms (default 60 s). */
  timeoutMs?: number;
  /**
   * Whether two instances share storage (default true). The memory engine's instances share nothing:
   * replicas are kept in step through Postgres by the retrieval service, which has its own test of that.
   */
  sharedStorage?: boolean;
}

/**
 * Registers the conformance suite.
 *
 * @param make  returns a new, *independent* instance over the suite's storage. It is called once for the
 *              instance under test and again to open a second instance that must see the first one's
 *              writes (embedded: same directory; Elasticsearch: same node and index prefix).
 * @param cleanup called after all instances were closed (remove temp dirs / indices).
 */
export function describeSearchIndexConformance(
  name: string,
  make: () => Promise<SearchIndex>,
  cleanup?: () => Promise<void>,
  options: ConformanceOptions = {},
): void {
  const { describe, test, expect, beforeAll, afterAll } = jestApi();
  const DIM = options.dimension ?? 8;
  const timeout = options.timeoutMs ?? 60_000;
  if (DIM < 8) throw new Error('the conformance suite needs at least 8 dimensions');

  /** unit vector along axis i, optionally scaled */
  const e = (i: number, scale = 1): Float32Array => {
    const v = new Float32Array(DIM);
    v[i] = scale;
    return v;
  };
  const mix = (...parts: Array<[number, number]>): Float32Array => {
    const v = new Float32Array(DIM);
    for (const [i, w] of parts) v[i] = w;
    return v;
  };

  interface Scope {
    tenantId: string;
    datasetId: string;
    documentId: string;
  }
  const scope = (): Scope => ({ tenantId: randomUUID(), datasetId: randomUUID(), documentId: randomUUID() });
  const chunk = (s: Scope, tokens: string, vector: Float32Array, extra: Partial<IndexedChunk> = {}): IndexedChunk => ({
    id: randomUUID(),
    tenantId: s.tenantId,
    datasetId: s.datasetId,
    documentId: s.documentId,
    tokens,
    vector,
    available: true,
    ...extra,
  });
  const filterOf = (s: Scope, extra: Partial<SearchFilter> = {}): SearchFilter => ({
    tenantId: s.tenantId,
    datasetIds: [s.datasetId],
    ...extra,
  });
  const ids = (cs: ReadonlyArray<{ id: string }>) => cs.map((c) => c.id).sort();
  const byId = (cs: Candidate[], id: string) => cs.find((c) => c.id === id);
  const near = (actual: number | undefined, expected: number, tol = 0.02) => {
    expect(typeof actual).toBe('number');
    expect(Math.abs((actual as number) - expected)).toBeLessThan(tol);
  };

  describe(`SearchIndex conformance: ${name}`, () => {
    let idx: SearchIndex;
    const opened: SearchIndex[] = [];

    const search = (
      filter: SearchFilter,
      queryTokens: string[],
      queryVector: Float32Array | null,
      textLimit = 10,
      vectorLimit = 10,
    ) => idx.search({ filter, queryTokens, queryVector, textLimit, vectorLimit });

    beforeAll(async () => {
      idx = await make();
      opened.push(idx);
    }, timeout);

    afterAll(async () => {
      for (const i of opened) await i.close();
      await cleanup?.();
    }, timeout);

    test('search, count and optimize work before anything was written', async () => {
      const s = scope();
      expect(await search(filterOf(s), ['anything'], e(0))).toEqual([]);
      expect(await search(filterOf(s), ['anything'], null)).toEqual([]);
      expect(await idx.count(filterOf(s))).toBe(0);
      await idx.optimize();
      await idx.health();
      await idx.ensureReady(DIM);
      await idx.ensureReady(DIM); // idempotent
      expect(await search(filterOf(s), ['anything'], e(0))).toEqual([]);
      expect(idx.kind === 'embedded' || idx.kind === 'elasticsearch').toBe(true);
    }, timeout);

    test('an upserted chunk is searchable as soon as upsert resolves, with its fields', async () => {
      const s = scope();
      const c = chunk(s, 'alpha beta gamma', e(0));
      await idx.upsert([c]);
      const res = await search(filterOf(s), ['alpha'], e(0));
      expect(res).toHaveLength(1);
      const hit = res[0]!;
      expect({ ...hit, tokens: tokenList(hit.tokens).join(' ') }).toMatchObject({ id: c.id, datasetId: s.datasetId, documentId: s.documentId, tokens: 'alpha beta gamma' });
      expect(hit.textScore).toBeGreaterThan(0);
      near(hit.vectorSimilarity, 1);
      expect(await idx.count(filterOf(s))).toBe(1);
    }, timeout);

    test('the text leg finds a chunk whose vector is orthogonal to the query', async () => {
      const s = scope();
      const textual = chunk(s, 'needle hay', e(1));
      const vectorial = chunk(s, 'other words', e(0));
      await idx.upsert([textual, vectorial]);
      const res = await search(filterOf(s), ['needle'], e(0), 10, 1);
      expect(ids(res)).toEqual(ids([textual, vectorial]));
      expect(byId(res, textual.id)!.textScore).toBeGreaterThan(0);
      near(byId(res, textual.id)!.vectorSimilarity, 0);
      expect(byId(res, vectorial.id)!.textScore).toBe(0);
      near(byId(res, vectorial.id)!.vectorSimilarity, 1);
    }, timeout);

    test('the vector leg finds a chunk sharing no token with the query', async () => {
      const s = scope();
      const c = chunk(s, 'completely unrelated', e(2));
      await idx.upsert([c]);
      const res = await search(filterOf(s), ['nomatchtoken'], e(2));
      expect(ids(res)).toEqual([c.id]);
      expect(res[0]!.textScore).toBe(0);
      near(res[0]!.vectorSimilarity, 1);
    }, timeout);

    test('tokens are matched verbatim: no lower-casing, stemming, stop words or punctuation splitting', async () => {
      const s = scope();
      const c = chunk(s, 'Running the c++ über', e(3));
      await idx.upsert([c]);
      const found = async (tok: string) => (await search(filterOf(s), [tok], null)).some((h) => h.id === c.id);
      expect(await found('Running')).toBe(true);
      expect(await found('the')).toBe(true);
      expect(await found('c++')).toBe(true);
      expect(await found('über')).toBe(true);
      expect(await found('running')).toBe(false);
      expect(await found('run')).toBe(false);
      expect(await found('c')).toBe(false);
      expect(await found('uber')).toBe(false);
    }, timeout);

    test('BM25: more matching query tokens rank higher', async () => {
      const s = scope();
      const both = chunk(s, 'apple kiwi filler', e(4));
      const one = chunk(s, 'apple plum filler', e(4));
      const none = chunk(s, 'pear plum filler', e(4));
      await idx.upsert([one, both, none]);
      const res = await search(filterOf(s), ['apple', 'kiwi'], null);
      expect(res.map((r) => r.id)).toEqual([both.id, one.id]);
      expect(res[0]!.textScore).toBeGreaterThan(res[1]!.textScore);
      expect(res.every((r) => r.vectorSimilarity === 0)).toBe(true);
    }, timeout);

    test('filters by tenant, dataset and document', async () => {
      const a = scope();
      const otherTenant: Scope = { ...a, tenantId: randomUUID() };
      const otherDataset: Scope = { ...a, datasetId: randomUUID() };
      const otherDoc: Scope = { ...a, documentId: randomUUID() };
      const ca = chunk(a, 'shared token', e(5));
      const ct = chunk(otherTenant, 'shared token', e(5));
      const cd = chunk(otherDataset, 'shared token', e(5));
      const cdoc = chunk(otherDoc, 'shared token', e(5));
      await idx.upsert([ca, ct, cd, cdoc]);

      expect(ids(await search(filterOf(a), ['shared'], e(5)))).toEqual([ca.id, cdoc.id].sort());
      expect(ids(await search(filterOf(otherTenant), ['shared'], e(5)))).toEqual([ct.id]);
      expect(ids(await search({ tenantId: a.tenantId, datasetIds: [a.datasetId, otherDataset.datasetId] }, ['shared'], e(5)))).toEqual(
        [ca.id, cd.id, cdoc.id].sort(),
      );
      expect(ids(await search(filterOf(a, { documentIds: [a.documentId] }), ['shared'], e(5)))).toEqual([ca.id]);
      expect(ids(await search(filterOf(a, { documentIds: [otherDoc.documentId] }), ['shared'], e(5)))).toEqual([cdoc.id]);
      expect(ids(await search(filterOf(a, { documentIds: [] }), ['shared'], e(5)))).toEqual([ca.id, cdoc.id].sort());
      // no dataset ids = nothing (there is no "all datasets" wildcard)
      expect(await search({ tenantId: a.tenantId, datasetIds: [] }, ['shared'], e(5))).toEqual([]);
      expect(await idx.count({ tenantId: a.tenantId, datasetIds: [] })).toBe(0);
      expect(await idx.count(filterOf(a))).toBe(2);
      expect(await idx.count(filterOf(a, { documentIds: [a.documentId] }))).toBe(1);
    }, timeout);

    test('filters apply before the limits (other tenants cannot crowd a tenant out)', async () => {
      const crowd = scope();
      const small = scope();
      const q = mix([6, 1], [7, 0.2]);
      const many = Array.from({ length: 40 }, (_, i) => chunk(crowd, 'popular popular term', mix([6, 1], [7, 0.2 + i * 0.001])));
      const mine = [chunk(small, 'popular', mix([6, 1], [7, 0.9])), chunk(small, 'popular other', mix([6, 0.3], [7, 1]))];
      await idx.upsert([...many, ...mine]);
      const textOnly = await search(filterOf(small), ['popular'], q, 5, 0);
      expect(ids(textOnly)).toEqual(ids(mine));
      const vectorOnly = await search(filterOf(small), ['absent'], q, 5, 5);
      expect(ids(vectorOnly)).toEqual(ids(mine));
    }, timeout);

    test('unavailable chunks never appear but are counted; re-upserted as available they are found', async () => {
      const s = scope();
      const c = chunk(s, 'hidden token', e(1), { available: false });
      await idx.upsert([c]);
      expect(await search(filterOf(s), ['hidden'], e(1))).toEqual([]);
      expect(await search(filterOf(s), [], e(1))).toEqual([]);
      expect(await idx.count(filterOf(s))).toBe(1);
      await idx.upsert([{ ...c, available: true }]);
      expect(ids(await search(filterOf(s), ['hidden'], e(1)))).toEqual([c.id]);
      await idx.upsert([{ ...c, available: false }]);
      expect(await search(filterOf(s), ['hidden'], e(1))).toEqual([]);
      expect(await idx.count(filterOf(s))).toBe(1);
    }, timeout);

    test('upserting the same id again replaces the chunk (one row)', async () => {
      const s = scope();
      const c = chunk(s, 'oldtoken', e(0));
      await idx.upsert([c]);
      await idx.upsert([{ ...c, tokens: 'newtoken', vector: e(1) }]);
      expect(await idx.count(filterOf(s))).toBe(1);
      expect(await search(filterOf(s), ['oldtoken'], null)).toEqual([]);
      const res = await search(filterOf(s), ['newtoken'], e(1));
      expect(res).toHaveLength(1);
      expect(tokenList(res[0]!.tokens).join(' ')).toBe('newtoken');
      near(res[0]!.vectorSimilarity, 1);
      // duplicates inside one batch: the last one wins
      await idx.upsert([
        { ...c, tokens: 'first' },
        { ...c, tokens: 'second' },
      ]);
      expect(await idx.count(filterOf(s))).toBe(1);
      expect((await search(filterOf(s), ['second'], null)).map((r) => r.id)).toEqual([c.id]);
    }, timeout);

    test('deleteByIds removes only the given ids of that tenant', async () => {
      const s = scope();
      const other: Scope = { ...s, tenantId: randomUUID() };
      const c1 = chunk(s, 'del one', e(0));
      const c2 = chunk(s, 'del two', e(0));
      const foreign = chunk(other, 'del three', e(0));
      await idx.upsert([c1, c2, foreign]);
      await idx.deleteByIds(s.tenantId, [c1.id, 'does-not-exist']);
      expect(ids(await search(filterOf(s), ['del'], e(0)))).toEqual([c2.id]);
      await idx.deleteByIds(s.tenantId, [foreign.id]); // wrong tenant: no effect
      expect(await idx.count(filterOf(other))).toBe(1);
      await idx.deleteByIds(s.tenantId, []);
      expect(await idx.count(filterOf(s))).toBe(1);
    }, timeout);

    test('deleteByDocument removes a document of that tenant only', async () => {
      const s = scope();
      const sibling: Scope = { ...s, documentId: randomUUID() };
      const other: Scope = { ...s, tenantId: randomUUID() };
      const gone = [chunk(s, 'doc a', e(0)), chunk(s, 'doc b', e(1))];
      const kept = chunk(sibling, 'doc c', e(0));
      const foreign = chunk(other, 'doc d', e(0));
      await idx.upsert([...gone, kept, foreign]);
      await idx.deleteByDocument(s.tenantId, s.documentId);
      expect(ids(await search(filterOf(s), ['doc'], e(0)))).toEqual([kept.id]);
      expect(await idx.count(filterOf(s))).toBe(1);
      expect(await idx.count(filterOf(other))).toBe(1);
    }, timeout);

    test('deleteByDataset removes a dataset of that tenant only', async () => {
      const s = scope();
      const sibling: Scope = { ...s, datasetId: randomUUID() };
      const other: Scope = { ...s, tenantId: randomUUID() };
      await idx.upsert([chunk(s, 'ds a', e(0)), chunk(s, 'ds b', e(1)), chunk(sibling, 'ds c', e(0)), chunk(other, 'ds d', e(0))]);
      await idx.deleteByDataset(s.tenantId, s.datasetId);
      expect(await idx.count(filterOf(s))).toBe(0);
      expect(await search(filterOf(s), ['ds'], e(0))).toEqual([]);
      expect(await idx.count(filterOf(sibling))).toBe(1);
      expect(await idx.count(filterOf(other))).toBe(1);
    }, timeout);

    test('vectorSimilarity is the cosine similarity (not a distance, dot product or raw score)', async () => {
      const s = scope();
      const same = chunk(s, 'v1', e(0));
      const scaled = chunk(s, 'v2', e(0, 3));
      const diagonal = chunk(s, 'v3', mix([0, 1], [1, 1]));
      const orthogonal = chunk(s, 'v4', e(1));
      const opposite = chunk(s, 'v5', e(0, -1));
      await idx.upsert([same, scaled, diagonal, orthogonal, opposite]);
      const res = await search(filterOf(s), [], e(0, 0.5), 0, 10);
      expect(res).toHaveLength(5);
      near(byId(res, same.id)?.vectorSimilarity, 1);
      near(byId(res, scaled.id)?.vectorSimilarity, 1);
      near(byId(res, diagonal.id)?.vectorSimilarity, Math.SQRT1_2);
      near(byId(res, orthogonal.id)?.vectorSimilarity, 0);
      near(byId(res, opposite.id)?.vectorSimilarity, -1);
      expect(res.every((r) => r.textScore === 0)).toBe(true);
      expect(res[0]!.vectorSimilarity).toBeGreaterThan(res[res.length - 1]!.vectorSimilarity);
      // a text-only hit gets its real cosine too
      const t = await search(filterOf(s), ['v3'], e(0), 10, 0);
      expect(ids(t)).toEqual([diagonal.id]);
      near(t[0]!.vectorSimilarity, Math.SQRT1_2);
      expect(t[0]!.textScore).toBeGreaterThan(0);
      // without a query vector there is no similarity
      const n = await search(filterOf(s), ['v3'], null, 10, 10);
      expect(n.map((r) => r.vectorSimilarity)).toEqual([0]);
    }, timeout);

    test('zero vectors: such a chunk is still found by the text leg; a zero query vector skips the kNN leg', async () => {
      const s = scope();
      const zero = chunk(s, 'zerovec', new Float32Array(DIM));
      const normal = chunk(s, 'zerovec other', e(1));
      await idx.upsert([zero, normal]);
      const res = await search(filterOf(s), ['zerovec'], e(1));
      expect(ids(res)).toEqual(ids([zero, normal]));
      expect(byId(res, zero.id)!.vectorSimilarity).toBe(0);
      expect(byId(res, zero.id)!.textScore).toBeGreaterThan(0);
      near(byId(res, normal.id)!.vectorSimilarity, 1);
      const zq = await search(filterOf(s), ['nomatch'], new Float32Array(DIM));
      expect(zq).toEqual([]);
      const zt = await search(filterOf(s), ['other'], new Float32Array(DIM));
      expect(zt.map((r) => [r.id, r.vectorSimilarity])).toEqual([[normal.id, 0]]);
    }, timeout);

    test('the result is the union of both legs, de-duplicated by id', async () => {
      const s = scope();
      const both = chunk(s, 'unionword', e(3));
      const textOnly = chunk(s, 'unionword', e(4));
      const vectorOnly = chunk(s, 'elsewhere', mix([3, 1], [5, 0.1]));
      const neither = chunk(s, 'elsewhere', e(6));
      await idx.upsert([both, textOnly, vectorOnly, neither]);
      const res = await search(filterOf(s), ['unionword'], e(3), 10, 2);
      expect(ids(res)).toEqual([both.id, textOnly.id, vectorOnly.id].sort());
      expect(new Set(res.map((r) => r.id)).size).toBe(res.length);
      const b = byId(res, both.id)!;
      expect(b.textScore).toBeGreaterThan(0);
      near(b.vectorSimilarity, 1);
      expect(byId(res, vectorOnly.id)!.textScore).toBe(0);
      near(byId(res, textOnly.id)!.vectorSimilarity, 0);
    }, timeout);

    test('limits are respected per leg', async () => {
      const s = scope();
      const cs = Array.from({ length: 12 }, (_, i) => chunk(s, `lim t${i}`, mix([7, 1], [i % DIM === 7 ? 0 : i % DIM, 0.5 + i / 10])));
      await idx.upsert(cs);
      expect(await search(filterOf(s), ['lim'], e(7), 3, 0)).toHaveLength(3);
      expect(await search(filterOf(s), ['lim'], null, 3, 10)).toHaveLength(3);
      const v = await search(filterOf(s), ['lim'], e(7), 0, 4);
      expect(v).toHaveLength(4);
      expect(v.every((r) => r.textScore === 0)).toBe(true);
      const u = await search(filterOf(s), ['lim'], e(7), 3, 4);
      expect(u.length).toBeGreaterThanOrEqual(4);
      expect(u.length).toBeLessThanOrEqual(7);
      expect(u.filter((r) => r.textScore > 0).length).toBeLessThanOrEqual(3);
      expect(await search(filterOf(s), [], null, 10, 10)).toEqual([]);
      expect(await search(filterOf(s), ['lim'], e(7), 0, 0)).toEqual([]);
      expect(await search(filterOf(s), [], e(7), 10, 100)).toHaveLength(12);
    }, timeout);

    test('optimize() keeps every row searchable and can be called repeatedly', async () => {
      const s = scope();
      const first = chunk(s, 'opt first', e(2));
      await idx.upsert([first]);
      await idx.optimize();
      await Promise.all([idx.optimize(), idx.optimize()]);
      const second = chunk(s, 'opt second', e(2));
      await idx.upsert([second]);
      expect(ids(await search(filterOf(s), ['opt'], e(2)))).toEqual([first.id, second.id].sort());
      await idx.optimize();
      expect(ids(await search(filterOf(s), ['opt'], e(2)))).toEqual([first.id, second.id].sort());
      expect(ids(await search(filterOf(s), ['nomatch'], e(2)))).toEqual([first.id, second.id].sort());
    }, timeout);

    // not registered at all for engines without shared storage: it does not apply to them
    if (options.sharedStorage !== false) test('a second instance on the same storage sees the first one’s writes (and vice versa)', async () => {
      const s = scope();
      const c = chunk(s, 'shared storage', e(5));
      await idx.upsert([c]);
      const other = await make();
      opened.push(other);
      const viaOther = await other.search({ filter: filterOf(s), queryTokens: ['storage'], queryVector: e(5), textLimit: 5, vectorLimit: 5 });
      expect(ids(viaOther)).toEqual([c.id]);
      const d = chunk(s, 'written by second', e(6));
      await other.upsert([d]);
      expect(ids(await search(filterOf(s), ['second'], null))).toEqual([d.id]);
      await other.deleteByIds(s.tenantId, [c.id]);
      expect(ids(await search(filterOf(s), ['storage'], e(5)))).toEqual([d.id]);
      expect(await idx.count(filterOf(s))).toBe(1);
    }, timeout);
  });
}
