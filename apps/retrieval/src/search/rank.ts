import type { SearchHit, SearchRpcResponse } from '@ragnest/contracts';
import { termSimilarity, type QueryTerms } from '@ragnest/nlp';
import type { Candidate } from '@ragnest/search';

type DocAgg = SearchRpcResponse['docAggs'][number];

export interface RankParams {
  vectorSimilarityWeight: number;
  similarityThreshold: number;
  page: number;
  pageSize: number;
}

export interface Ranked {
  total: number;
  hits: SearchHit[];
  docAggs: DocAgg[];
}

/**
 * Scores every candidate as RAGFlow does — similarity = w·vector + (1−w)·term, with the term similarity the
 * share of the query's weighted terms the chunk covers — thresholds, ranks, pages and counts hits per
 * document. `live` (engines that do not follow the feed): the candidates still searchable → their
 * document's name; the others are dropped. Candidates are never copied: scores live in typed arrays indexed
 * like the candidates, which costs a fraction of an object per candidate on this per-query path.
 */
export function rankCandidates(candidates: readonly Candidate[], query: QueryTerms, p: RankParams, live: Map<string, string> | null): Ranked {
  const n = candidates.length;
  const w = p.vectorSimilarityWeight;
  const sim = new Float64Array(n);
  const term = new Float64Array(n);
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = candidates[i]!;
    if (live && !live.has(c.id)) continue;
    const t = termSimilarity(query, c.tokens);
    const s = w * c.vectorSimilarity + (1 - w) * t;
    // RAGFlow: with w = 0 (keywords only) no threshold applies
    if (w > 0 && s < p.similarityThreshold) continue;
    if (w === 0 && t <= 0) continue;
    sim[i] = s;
    term[i] = t;
    kept.push(i);
  }
  kept.sort((a, b) => sim[b]! - sim[a]! || candidates[a]!.id.localeCompare(candidates[b]!.id));
  const docName = (c: Candidate) => (live ? live.get(c.id) : c.documentName) ?? '';
  const aggs = new Map<string, DocAgg>();
  for (const i of kept) {
    const c = candidates[i]!;
    const a = aggs.get(c.documentId);
    if (a) a.count++;
    else aggs.set(c.documentId, { documentId: c.documentId, documentName: docName(c), count: 1 });
  }
  const end = Math.min(kept.length, p.page * p.pageSize);
  const hits: SearchHit[] = [];
  for (let k = (p.page - 1) * p.pageSize; k < end; k++) {
    const i = kept[k]!;
    const c = candidates[i]!;
    hits.push({
      chunkId: c.id,
      documentId: c.documentId,
      documentName: docName(c),
      similarity: round(sim[i]!),
      vectorSimilarity: round(c.vectorSimilarity),
      termSimilarity: round(term[i]!),
    });
  }
  // Array.prototype.sort is stable: documents with equal counts keep the order of their best hit
  return { total: kept.length, hits, docAggs: [...aggs.values()].sort((a, b) => b.count - a.count) };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
