import { analyze } from './analyzer.js';
import { getIdfTable } from './jieba.js';

/** A question turned into weighted terms (RAGFlow term_weight + query dict semantics). */
export interface QueryTerms {
  /** Distinct analyzed tokens in question order. */
  tokens: string[];
  /** Per-token weight w_t, summing to 1. */
  tokenWeights: Map<string, number>;
  /** Query dict q: tokens (0.4·w_t) and adjacent pairs "a b" (0.6·max(w_a, w_b)). */
  weights: Map<string, number>;
  /** Σ q */
  total: number;
  // Compiled form for termSimilarity: token → index, pair (i*n+j) → weight.
  readonly _index: Map<string, number>;
  readonly _tokenQ: Float64Array;
  readonly _pairQ: Map<number, number>;
}

const NUMBER = /^\d+(?:[.,]\d+)*$/;
const SHORT_LATIN = /^[a-z]{1,2}$/;

function tokenWeight(token: string): number {
  const table = getIdfTable();
  let w = table.get(token) ?? table.median;
  if (NUMBER.test(token)) w *= 2;
  else if (SHORT_LATIN.test(token)) w *= 0.01;
  return w;
}

export function buildQuery(question: string): QueryTerms {
  const seq = analyze(question);
  const tokens = [...new Set(seq)];
  const raw = tokens.map(tokenWeight);
  const sum = raw.reduce((a, b) => a + b, 0);
  const tokenWeights = new Map<string, number>();
  tokens.forEach((t, k) => tokenWeights.set(t, sum > 0 ? raw[k]! / sum : 0));

  const index = new Map<string, number>();
  tokens.forEach((t, k) => index.set(t, k));
  const n = tokens.length;
  const tokenQ = new Float64Array(n);
  const pairQ = new Map<number, number>();
  const weights = new Map<string, number>();
  const add = (key: string, v: number) => weights.set(key, (weights.get(key) ?? 0) + v);

  for (const t of seq) {
    const v = 0.4 * tokenWeights.get(t)!;
    tokenQ[index.get(t)!]! += v;
    add(t, v);
  }
  for (let k = 0; k + 1 < seq.length; k++) {
    const a = seq[k]!;
    const b = seq[k + 1]!;
    const v = 0.6 * Math.max(tokenWeights.get(a)!, tokenWeights.get(b)!);
    const key = index.get(a)! * n + index.get(b)!;
    pairQ.set(key, (pairQ.get(key) ?? 0) + v);
    add(`${a} ${b}`, v);
  }
  let total = 0;
  for (const v of weights.values()) total += v;
  return { tokens, tokenWeights, weights, total, _index: index, _tokenQ: tokenQ, _pairQ: pairQ };
}

/**
 * Σ_{k∈Q∩D} q_k / Σ_{k∈Q} q_k, where D is the chunk's tokens plus its adjacent pairs.
 * One pass over the chunk with a single Map lookup per token, so 200 chunks × 400 tokens take well under 1 ms.
 */
export function termSimilarity(query: QueryTerms, chunkTokens: string | string[]): number {
  if (query.total <= 0) return 0;
  const toks = typeof chunkTokens === 'string' ? chunkTokens.split(' ') : chunkTokens;
  const n = query.tokens.length;
  const seen = new Uint8Array(n);
  let seenPairs: Set<number> | undefined;
  let hit = 0;
  let prev = -1;
  for (const t of toks) {
    const idx = query._index.get(t);
    if (idx === undefined) {
      prev = -1;
      continue;
    }
    if (!seen[idx]) {
      seen[idx] = 1;
      hit += query._tokenQ[idx]!;
    }
    if (prev >= 0) {
      const key = prev * n + idx;
      const q = query._pairQ.get(key);
      if (q !== undefined) {
        seenPairs ??= new Set();
        if (!seenPairs.has(key)) {
          seenPairs.add(key);
          hit += q;
        }
      }
    }
    prev = idx;
  }
  return Math.min(1, hit / query.total);
}
