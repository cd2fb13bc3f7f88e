import {
  chunked,
  clampLimit,
  cosineSimilarity,
  groupByDimension,
  joinQueryTokens,
  lanceFilter,
  sqlIn,
  sqlString,
  unionCandidates,
} from '../../src/util.js';
import type { Candidate, IndexedChunk } from '../../src/index.js';

const cand = (id: string, textScore: number, vectorSimilarity: number): Candidate => ({
  id,
  datasetId: 'd',
  documentId: 'doc',
  tokens: id,
  textScore,
  vectorSimilarity,
});

describe('SQL building', () => {
  test('string literals double single quotes and refuse NUL', () => {
    expect(sqlString('abc')).toBe("'abc'");
    expect(sqlString("a'b")).toBe("'a''b'");
    expect(sqlString("x' OR '1'='1")).toBe("'x'' OR ''1''=''1'");
    expect(sqlString('back\\slash')).toBe("'back\\slash'");
    expect(() => sqlString('a\0b')).toThrow(/NUL/);
    expect(() => sqlString(42 as unknown as string)).toThrow(TypeError);
  });

  test('IN lists are de-duplicated; an empty list matches nothing', () => {
    expect(sqlIn('dataset_id', ['a', "b'", 'a'])).toBe("dataset_id IN ('a', 'b''')");
    expect(sqlIn('dataset_id', [])).toBe('false');
  });

  test('lanceFilter: tenant + datasets (+ documents when non-empty) (+ available)', () => {
    expect(lanceFilter({ tenantId: 't', datasetIds: ['d1', 'd2'] }, { onlyAvailable: true })).toBe(
      "tenant_id = 't' AND dataset_id IN ('d1', 'd2') AND available = true",
    );
    expect(lanceFilter({ tenantId: 't', datasetIds: ['d1'], documentIds: [] }, { onlyAvailable: false })).toBe(
      "tenant_id = 't' AND dataset_id IN ('d1')",
    );
    expect(lanceFilter({ tenantId: 't', datasetIds: ['d1'], documentIds: ['x', 'y'] }, { onlyAvailable: false })).toBe(
      "tenant_id = 't' AND dataset_id IN ('d1') AND document_id IN ('x', 'y')",
    );
    expect(lanceFilter({ tenantId: 't', datasetIds: [] }, { onlyAvailable: true })).toBeNull();
  });
});

describe('cosineSimilarity', () => {
  test('is the cosine, independent of magnitude', () => {
    expect(cosineSimilarity([1, 0], [1, 0])).toBeCloseTo(1);
    expect(cosineSimilarity([1, 0], [5, 0])).toBeCloseTo(1);
    expect(cosineSimilarity([1, 0], [0, 3])).toBeCloseTo(0);
    expect(cosineSimilarity([1, 0], [-2, 0])).toBeCloseTo(-1);
    expect(cosineSimilarity([1, 1], [1, 0])).toBeCloseTo(Math.SQRT1_2);
    expect(cosineSimilarity(new Float32Array([0.1, 0.2, 0.3]), new Float32Array([0.3, 0.2, 0.1]))).toBeCloseTo(10 / 14);
  });
  test('is 0 for zero vectors and mismatched lengths', () => {
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
    expect(cosineSimilarity([1, 0], [1, 0, 0])).toBe(0);
    expect(cosineSimilarity([], [])).toBe(0);
  });
});

describe('unionCandidates', () => {
  test('de-duplicates by id, keeps both scores, text hits first by BM25 then vector-only by similarity', () => {
    const text = [cand('b', 2, 0.1), cand('a', 5, 0.2), cand('c', 1, 0.3)];
    const vector = [cand('x', 0, 0.5), cand('a', 0, 0.9), cand('y', 0, 0.8), cand('x', 0, 0.5)];
    const u = unionCandidates(text, vector);
    expect(u.map((c) => c.id)).toEqual(['a', 'b', 'c', 'y', 'x']);
    expect(u[0]).toMatchObject({ id: 'a', textScore: 5, vectorSimilarity: 0.9 });
    expect(u.find((c) => c.id === 'y')).toMatchObject({ textScore: 0, vectorSimilarity: 0.8 });
  });
  test('does not mutate its inputs', () => {
    const text = [cand('a', 1, 0)];
    unionCandidates(text, [cand('a', 0, 0.7)]);
    expect(text[0]!.vectorSimilarity).toBe(0);
  });
});

describe('helpers', () => {
  test('joinQueryTokens splits on whitespace and drops blanks', () => {
    expect(joinQueryTokens(['a', ' b  c ', '', '\t'])).toBe('a b c');
    expect(joinQueryTokens([])).toBe('');
  });
  test('groupByDimension groups by vector length; the last chunk of an id wins', () => {
    const c = (id: string, dims: number, tokens = id): IndexedChunk => ({
      id,
      tenantId: 't',
      datasetId: 'd',
      documentId: 'doc',
      tokens,
      vector: new Float32Array(dims),
      available: true,
    });
    const g = groupByDimension([c('a', 2), c('b', 3), c('a', 2, 'second'), c('c', 2)]);
    expect([...g.keys()].sort()).toEqual([2, 3]);
    expect(g.get(2)!.map((x) => [x.id, x.tokens])).toEqual([
      ['a', 'second'],
      ['c', 'c'],
    ]);
    expect(() => groupByDimension([c('z', 0)])).toThrow(/empty vector/);
  });
  test('chunked and clampLimit', () => {
    expect(chunked([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunked([], 3)).toEqual([]);
    expect(clampLimit(5.7, 10)).toBe(5);
    expect(clampLimit(50, 10)).toBe(10);
    expect(clampLimit(-1, 10)).toBe(0);
    expect(clampLimit(Number.NaN, 10)).toBe(0);
  });
});
