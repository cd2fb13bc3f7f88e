import { MemorySearchIndex, describeSearchIndexConformance, tokenList, type IndexedChunk } from '../../src/index.js';
import { rng } from '../rng.js';

describeSearchIndexConformance('memory', async () => new MemorySearchIndex(), undefined, { sharedStorage: false });
// the same contract with the HNSW graph in use from the first row
describeSearchIndexConformance('memory (graph)', async () => new MemorySearchIndex({ exactBelow: 1 }), undefined, { sharedStorage: false });


describe('MemorySearchIndex at scale', () => {
  const dim = 32;
  const r = rng(7);
  const scope = { tenantId: 't', datasetIds: ['d'] };
  const docs = ['doc-a', 'doc-b', 'doc-c'];
  const rows: IndexedChunk[] = Array.from({ length: 3000 }, (_, i) => {
    const v = new Float32Array(dim);
    for (let k = 0; k < dim; k++) v[k] = r() * 2 - 1;
    return { id: `c${i}`, tenantId: 't', datasetId: 'd', documentId: docs[i % 3]!, tokens: `w${i % 50} w${i % 7} common`, vector: v, available: true };
  });
  const exactTop = (q: Float32Array, pool: IndexedChunk[], k: number) => {
    const cos = (a: Float32Array, b: Float32Array) => {
      let d = 0, na = 0, nb = 0;
      for (let i = 0; i < dim; i++) { d += a[i]! * b[i]!; na += a[i]! ** 2; nb += b[i]! ** 2; }
      return d / Math.sqrt(na * nb);
    };
    return pool.map((c) => [c.id, cos(q, c.vector)] as const).sort((a, b) => b[1] - a[1]).slice(0, k).map((x) => x[0]);
  };

  test('the graph path finds the exact nearest neighbours (recall ≥ 0.9) and document filters are exact', async () => {
    const idx = new MemorySearchIndex({ exactBelow: 500 });
    await idx.upsert(rows);
    let hit = 0;
    for (let t = 0; t < 20; t++) {
      const q = rows[t * 97]!.vector;
      const got = await idx.search({ filter: scope, queryTokens: [], queryVector: q, textLimit: 0, vectorLimit: 10 });
      const want = exactTop(q, rows, 10);
      hit += got.filter((c) => want.includes(c.id)).length;
      expect(got[0]!.id).toBe(rows[t * 97]!.id);
      expect(got[0]!.vectorSimilarity).toBeCloseTo(1, 5);
    }
    expect(hit / 200).toBeGreaterThanOrEqual(0.9);
    const q = rows[1]!.vector;
    const onlyB = await idx.search({ filter: { ...scope, documentIds: ['doc-b'] }, queryTokens: [], queryVector: q, textLimit: 0, vectorLimit: 5 });
    expect(onlyB.map((c) => c.id)).toEqual(exactTop(q, rows.filter((c) => c.documentId === 'doc-b'), 5));
  });

  test('BM25 ranks rarer matching terms higher; tokens come back in order for pair scoring', async () => {
    const idx = new MemorySearchIndex();
    await idx.upsert(rows.slice(0, 400));
    const res = await idx.search({ filter: scope, queryTokens: ['w3', 'common'], queryVector: null, textLimit: 5, vectorLimit: 0 });
    expect(res).toHaveLength(5);
    for (const c of res) expect(tokenList(c.tokens)).toEqual(expect.arrayContaining(['w3']));
    expect(tokenList(res[0]!.tokens)).toEqual(rows.find((x) => x.id === res[0]!.id)!.tokens.split(' '));
  });

  test('re-upserting and deleting most rows compacts the partition without losing live rows', async () => {
    const idx = new MemorySearchIndex({ exactBelow: 100 });
    await idx.upsert(rows);
    for (let round = 0; round < 2; round++) await idx.upsert(rows.slice(0, 1500).map((c) => ({ ...c, tokens: `${c.tokens} r${round}` })));
    await idx.deleteByIds('t', rows.slice(1500, 2900).map((c) => c.id));
    await idx.optimize();
    expect(await idx.count(scope)).toBe(1600);
    const res = await idx.search({ filter: scope, queryTokens: ['r1'], queryVector: null, textLimit: 2000, vectorLimit: 0 });
    expect(res).toHaveLength(1500);
    const v = await idx.search({ filter: scope, queryTokens: [], queryVector: rows[2950]!.vector, textLimit: 0, vectorLimit: 1 });
    expect(v[0]!.id).toBe(rows[2950]!.id);
    const gone = await idx.search({ filter: scope, queryTokens: [], queryVector: rows[2000]!.vector, textLimit: 0, vectorLimit: 1 });
    expect(gone[0]!.id).not.toBe(rows[2000]!.id);
  });
});

describe('MemorySearchIndex BM25 over every postings form', () => {
  // a term in 1 row (one packed number), in 5 rows (a short packed list) and in 40 rows (typed arrays)
  test('scores equal textbook BM25 (k1 1.2, b 0.75) whichever form holds the term', async () => {
    const idx = new MemorySearchIndex();
    const rows: IndexedChunk[] = [];
    const r = rng(3);
    const filler = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    for (let i = 0; i < 60; i++) {
      const toks: string[] = [];
      const len = 5 + Math.floor(r() * 30);
      for (let k = 0; k < len; k++) toks.push(filler[Math.floor(r() * filler.length)]!);
      if (i === 7) toks.push('solo', 'solo');
      if (i % 12 === 0) toks.push(...Array.from({ length: 1 + (i % 3) }, () => 'few'));
      if (i % 3 !== 0) toks.push('many');
      rows.push({ id: `r${i}`, tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: toks.join(' '), vector: new Float32Array([1, 0]), available: true });
    }
    await idx.upsert(rows);
    const bags = rows.map((x) => x.tokens.split(' '));
    const avg = bags.reduce((s, b) => s + b.length, 0) / bags.length;
    const bm25 = (term: string, i: number) => {
      const df = bags.filter((b) => b.includes(term)).length;
      const tf = bags[i]!.filter((t) => t === term).length;
      if (!tf) return 0;
      const idf = Math.log(1 + (bags.length - df + 0.5) / (df + 0.5));
      return (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * bags[i]!.length) / avg));
    };
    for (const term of ['solo', 'few', 'many']) {
      const hits = await idx.search({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [term], queryVector: null, textLimit: 100, vectorLimit: 0 });
      const expected = rows.map((x, i) => [x.id, bm25(term, i)] as const).filter(([, s]) => s > 0);
      expect(hits).toHaveLength(expected.length);
      for (const [id, score] of expected) {
        const hit = hits.find((h) => h.id === id)!;
        // impacts are computed at a mean row length within 2 % of the current one
        expect(Math.abs(hit.textScore - score) / score).toBeLessThan(0.02);
      }
    }
  });
});

describe('MemorySearchIndex BM25 top-k', () => {
  // terms in most rows take the dense path, rare ones the sparse path; both must pick the same rows, and
  // equal scores go to the row indexed first whatever order the postings are walked in
  test('common and rare query terms give the exact top-k, ties to the earlier row', async () => {
    const idx = new MemorySearchIndex();
    const words = ['red', 'green', 'blue'];
    const rows: IndexedChunk[] = Array.from({ length: 400 }, (_, i) => {
      // many identical bags, so many exactly equal scores
      const toks = [words[i % 3]!, words[(i >> 2) % 3]!, 'pad', 'pad'];
      if (i % 50 === 7) toks.push('rare');
      return { id: `r${String(i).padStart(3, '0')}`, tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: toks.join(' '), vector: new Float32Array([1, 0]), available: true };
    });
    await idx.upsert(rows);
    const bags = rows.map((x) => x.tokens.split(' '));
    const avg = bags.reduce((s, b) => s + b.length, 0) / bags.length;
    const score = (terms: string[], i: number) =>
      terms.reduce((sum, term) => {
        const df = bags.filter((b) => b.includes(term)).length;
        const tf = bags[i]!.filter((t) => t === term).length;
        if (!tf) return sum;
        return sum + (Math.log(1 + (bags.length - df + 0.5) / (df + 0.5)) * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * bags[i]!.length) / avg));
      }, 0);
    for (const terms of [['red', 'green'], ['blue'], ['rare'], ['rare', 'red']]) {
      const expected = rows
        .map((x, i) => ({ id: x.id, s: score(terms, i), i }))
        .filter((x) => x.s > 0)
        .sort((a, b) => b.s - a.s || a.i - b.i)
        .slice(0, 10)
        .map((x) => x.id);
      const hits = await idx.search({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: terms, queryVector: null, textLimit: 10, vectorLimit: 0 });
      expect(hits.map((h) => h.id)).toEqual(expected);
    }
  });
});

describe('MemorySearchIndex graph inserts are batched per upsert', () => {
  test('a row replaced or deleted within and across batches leaves exactly its live version in the graph', async () => {
    const idx = new MemorySearchIndex({ exactBelow: 1 });
    const v = (i: number) => {
      const x = new Float32Array(8);
      x[i % 8] = 1;
      x[(i + 3) % 8] = 0.5;
      return x;
    };
    const row = (id: string, i: number): IndexedChunk => ({ id, tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: id, vector: v(i), available: true });
    await idx.upsert([row('seed', 7)]); // builds the graph
    // the same id twice in one batch: the second version wins, the first never reaches the graph
    await idx.upsert([row('a', 0), row('b', 1), row('a', 2)]);
    const near = async (i: number) =>
      (await idx.search({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [], queryVector: v(i), textLimit: 0, vectorLimit: 10 })).map((c) => c.id);
    expect((await near(2))[0]).toBe('a');
    expect((await near(0)).filter((id) => id === 'a')).toHaveLength(1);
    expect(await idx.count({ tenantId: 't', datasetIds: ['d'] })).toBe(3);
    await idx.deleteByIds('t', ['b']);
    expect(await near(1)).not.toContain('b');
    expect((await near(1)).sort()).toEqual(['a', 'seed']);
  });
});
