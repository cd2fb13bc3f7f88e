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
}

/** termSimilarity's lookup form: token → index, q per token index, q per pair key (i·n + j). */
interface Compiled {
  index: Map<string, number>;
  tokenQ: Float64Array;
  pairQ: Map<number, number>;
  /** the same token → index map in a term dictionary's ids, for the last dictionary seen */
  byId?: IdIndex;
}

/** The query's tokens as dictionary ids → index, with a 256-bit filter of (id mod 256) that rejects most chunk tokens. */
interface IdIndex {
  dictionary: TermDictionary;
  index: Map<number, number>;
  filter: Uint32Array;
}

/** A search engine's term dictionary: a term's id, undefined when no row holds it. */
export interface TermDictionary {
  lookup(term: string): number | undefined;
}

/** A chunk's tokens in order as ids of an engine's term dictionary, so no token string is materialised. */
export interface TermIdSequence {
  readonly ids: ArrayLike<number>;
  readonly dictionary: TermDictionary;
}

// Derived from the public fields (so a cloned or deserialised QueryTerms still works) and cached per object.
const compiledCache = new WeakMap<QueryTerms, Compiled>();

function compile(q: QueryTerms): Compiled {
  let c = compiledCache.get(q);
  if (c) return c;
  const n = q.tokens.length;
  const index = new Map(q.tokens.map((t, k) => [t, k] as const));
  const tokenQ = new Float64Array(n);
  const pairQ = new Map<number, number>();
  for (const [key, v] of q.weights) {
    const sp = key.indexOf(' ');
    if (sp < 0) {
      const k = index.get(key);
      if (k !== undefined) tokenQ[k] = v;
      continue;
    }
    const a = index.get(key.slice(0, sp));
    const b = index.get(key.slice(sp + 1));
    if (a !== undefined && b !== undefined) pairQ.set(a * n + b, v);
  }
  c = { index, tokenQ, pairQ };
  compiledCache.set(q, c);
  return c;
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

/** An analyzed sequence's distinct tokens (first occurrence order), each one's weight w_t (summing to 1), and each position's token index. */
export interface WeighedTokens {
  tokens: string[];
  weights: number[];
  /** position in the sequence → index in `tokens` */
  at: number[];
}

/** The token weights of RAGFlow's term_weight, for a sequence already analyzed (buildQuery's first step). */
export function weighTokens(seq: readonly string[]): WeighedTokens {
  const index = new Map<string, number>();
  const tokens: string[] = [];
  const at: number[] = [];
  for (const t of seq) {
    let k = index.get(t);
    if (k === undefined) {
      k = tokens.length;
      index.set(t, k);
      tokens.push(t);
    }
    at.push(k);
  }
  const raw = tokens.map(tokenWeight);
  const sum = raw.reduce((a, b) => a + b, 0);
  return { tokens, weights: raw.map((r) => (sum > 0 ? r / sum : 0)), at };
}

export function buildQuery(question: string): QueryTerms {
  const seq = analyze(question);
  const { tokens, weights: w } = weighTokens(seq);
  const tokenWeights = new Map<string, number>();
  tokens.forEach((t, k) => tokenWeights.set(t, w[k]!));

  // Repeated tokens and pairs accumulate, as RAGFlow's query dict does.
  const weights = new Map<string, number>();
  const add = (key: string, v: number) => weights.set(key, (weights.get(key) ?? 0) + v);
  for (const t of seq) add(t, 0.4 * tokenWeights.get(t)!);
  for (let k = 0; k + 1 < seq.length; k++) {
    const a = seq[k]!;
    const b = seq[k + 1]!;
    add(`${a} ${b}`, 0.6 * Math.max(tokenWeights.get(a)!, tokenWeights.get(b)!));
  }
  let total = 0;
  for (const v of weights.values()) total += v;
  return { tokens, tokenWeights, weights, total };
}

/**
 * Σ_{k∈Q∩D} q_k / Σ_{k∈Q} q_k, where D is the chunk's tokens plus its adjacent pairs.
 * Measured: 200 chunks × 400 tokens in ~0.5 ms as arrays, ~1 ms as space-joined strings.
 */
export function termSimilarity(query: QueryTerms, chunkTokens: string | string[] | TermIdSequence): number {
  if (query.total <= 0) return 0;
  const c = compile(query);
  const hit =
    typeof chunkTokens === 'string'
      ? hitsInString(query, c, chunkTokens)
      : Array.isArray(chunkTokens)
        ? hitsInArray(c, chunkTokens)
        : hitsInIds(c, idIndex(query, c, chunkTokens.dictionary), chunkTokens.ids);
  return Math.min(1, hit / query.total);
}

/** The query's token → index map in the dictionary's ids (built once per query and dictionary). */
function idIndex(query: QueryTerms, c: Compiled, dictionary: TermDictionary): IdIndex {
  if (c.byId?.dictionary === dictionary) return c.byId;
  const index = new Map<number, number>();
  const filter = new Uint32Array(8);
  query.tokens.forEach((t, k) => {
    const id = dictionary.lookup(t);
    if (id === undefined) return;
    index.set(id, k);
    filter[(id >>> 5) & 7]! |= 1 << (id & 31);
  });
  c.byId = { dictionary, index, filter };
  return c.byId;
}

// Over dictionary ids: a chunk token outside the filter is no query token, without a Map lookup.
function hitsInIds(c: Compiled, q: IdIndex, ids: ArrayLike<number>): number {
  const { index, filter } = q;
  const hits = new Hits(c);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const idx = (filter[(id >>> 5) & 7]! & (1 << (id & 31))) === 0 ? undefined : index.get(id);
    if (idx === undefined) hits.prev = -1;
    else hits.add(idx);
  }
  return hits.hit;
}

// One pass with a single Map lookup per chunk token; pairs are checked only where both sides are query tokens.
function hitsInArray(c: Compiled, toks: string[]): number {
  const hits = new Hits(c);
  for (const t of toks) {
    const idx = c.index.get(t);
    if (idx === undefined) hits.prev = -1;
    else hits.add(idx);
  }
  return hits.hit;
}

/** One chunk's Σ q over its query tokens (each once) and adjacent query-token pairs (each once), in token order. */
class Hits {
  hit = 0;
  /** the previous token's query index, -1 after a token that is none */
  prev = -1;
  private readonly seen: Uint8Array;
  private seenPairs: Set<number> | undefined;
  constructor(private readonly c: Compiled) {
    this.seen = new Uint8Array(c.tokenQ.length);
  }
  add(idx: number): void {
    const c = this.c;
    if (!this.seen[idx]) {
      this.seen[idx] = 1;
      this.hit += c.tokenQ[idx]!;
    }
    if (this.prev >= 0) {
      const key = this.prev * c.tokenQ.length + idx;
      const q = c.pairQ.get(key);
      if (q !== undefined && !(this.seenPairs ??= new Set()).has(key)) {
        this.seenPairs.add(key);
        this.hit += q;
      }
    }
    this.prev = idx;
  }
}

// Splitting a stored token string would allocate every token; searching for the few query terms is cheaper.
function hitsInString(query: QueryTerms, c: Compiled, s: string): number {
  let hit = 0;
  query.tokens.forEach((t, k) => {
    if (containsTerm(s, t)) hit += c.tokenQ[k]!;
  });
  const n = query.tokens.length;
  for (const [key, q] of c.pairQ) {
    if (containsTerm(s, `${query.tokens[Math.floor(key / n)]} ${query.tokens[key % n]}`)) hit += q;
  }
  return hit;
}

/** `term` occurs in the space-separated token string as whole tokens. */
function containsTerm(s: string, term: string): boolean {
  let i = s.indexOf(term);
  while (i >= 0) {
    const end = i + term.length;
    if ((i === 0 || s.charCodeAt(i - 1) === 32) && (end === s.length || s.charCodeAt(end) === 32)) return true;
    i = s.indexOf(term, i + 1);
  }
  return false;
}
