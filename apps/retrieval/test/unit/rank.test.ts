import { buildQuery } from '@ragnest/nlp';
import type { Candidate } from '@ragnest/search';
import { rankCandidates } from '../../src/search/rank.js';

const cand = (id: string, documentId: string, tokens: string, vectorSimilarity: number): Candidate => ({
  id,
  datasetId: 'ds',
  documentId,
  documentName: `${documentId}.txt`,
  tokens,
  vectorSimilarity,
  textScore: 0,
});

const query = buildQuery('fox river');
const candidates = [
  cand('c1', 'd1', 'fox river bank', 0.9), // term 1
  cand('c2', 'd1', 'fox den', 0.5), // term partial
  cand('c3', 'd2', 'lake house', 0.95), // term 0
  cand('c4', 'd2', 'river fox', 0.1),
  cand('c0', 'd3', 'fox river bank', 0.9), // ties with c1: id order breaks it
];
const params = { vectorSimilarityWeight: 0.3, similarityThreshold: 0.2, page: 1, pageSize: 30 };

describe('rankCandidates', () => {
  it('scores w·vector + (1−w)·term, thresholds, and orders by similarity then id', () => {
    const r = rankCandidates(candidates, query, params, null);
    const byId = Object.fromEntries(r.hits.map((h) => [h.chunkId, h]));
    expect(byId.c1!.termSimilarity).toBe(1);
    expect(byId.c1!.similarity).toBeCloseTo(0.3 * 0.9 + 0.7, 6);
    expect(byId.c3!.similarity).toBeCloseTo(0.3 * 0.95, 6);
    expect(r.hits.map((h) => h.chunkId).slice(0, 2)).toEqual(['c0', 'c1']);
    for (let i = 1; i < r.hits.length; i++) expect(r.hits[i - 1]!.similarity).toBeGreaterThanOrEqual(r.hits[i]!.similarity);
    expect(r.total).toBe(r.hits.length);
    expect(r.hits.every((h) => h.similarity >= 0.2)).toBe(true);
  });

  it('drops candidates under the threshold and counts only what passed per document', () => {
    const r = rankCandidates(candidates, query, { ...params, similarityThreshold: 0.5 }, null);
    const ids = r.hits.map((h) => h.chunkId);
    expect(ids).toEqual(expect.arrayContaining(['c0', 'c1']));
    expect(ids).not.toContain('c3'); // 0.3 × 0.95 = 0.285 < 0.5
    expect(r.hits.every((h) => h.similarity >= 0.5)).toBe(true);
    const counts = Object.fromEntries(r.docAggs.map((d) => [d.documentId, d.count]));
    expect(counts).toEqual(Object.fromEntries([...new Set(r.hits.map((h) => h.documentId))].map((d) => [d, r.hits.filter((h) => h.documentId === d).length])));
    expect(r.docAggs[0]!.documentName).toBe(`${r.docAggs[0]!.documentId}.txt`);
  });

  it('keywords only (w = 0): no threshold, but a chunk must share a term', () => {
    const r = rankCandidates(candidates, query, { ...params, vectorSimilarityWeight: 0, similarityThreshold: 0.99 }, null);
    expect(r.hits.map((h) => h.chunkId).sort()).toEqual(['c0', 'c1', 'c2', 'c4']);
  });

  it('pages after ranking and reports the total before paging', () => {
    const all = rankCandidates(candidates, query, { ...params, similarityThreshold: 0 }, null);
    const page2 = rankCandidates(candidates, query, { ...params, similarityThreshold: 0, page: 2, pageSize: 2 }, null);
    expect(page2.total).toBe(all.total);
    expect(page2.hits.map((h) => h.chunkId)).toEqual(all.hits.slice(2, 4).map((h) => h.chunkId));
  });

  it('with a liveness map, keeps only live candidates and names documents from it', () => {
    const live = new Map([['c3', 'renamed.pdf']]);
    const r = rankCandidates(candidates, query, { ...params, similarityThreshold: 0 }, live);
    expect(r.hits.map((h) => h.chunkId)).toEqual(['c3']);
    expect(r.hits[0]!.documentName).toBe('renamed.pdf');
    expect(r.docAggs).toEqual([{ documentId: 'd2', documentName: 'renamed.pdf', count: 1 }]);
  });
});
