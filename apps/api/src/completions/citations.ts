import { citationMarker, type MarkerStyle } from '@ragnest/llm';
import { buildQuery, type QueryTerms } from '@ragnest/nlp';

export type { MarkerStyle };
const marker = citationMarker;

// Complete markers a model writes: ##n$$, [ID:n], (ID:n), 【ID:n】, [ID n], ref n (RAGFlow's repair list).
const MARKER = /##\s*(\d+)\s*\$\$|[[(【]\s*ID\s*[:：]?\s*(\d+)\s*[\])】]|\bref\s*(\d+)\b/gi;
// A tail that may still become a marker once more text arrives.
const PARTIAL_TAIL = /(?:#{1,2}\s*\d*\s*\$?|[[(【]\s*(?:I|ID\s*[:：]?\s*\d*\s*)?|\b(?:r|re|ref\s*\d*))$/i;
const ANY_MARKER = /##\s*\d+\s*\$\$|[[(【]\s*ID\s*[:：]?\s*\d+\s*[\])】]/gi;

/** Removes citation markers (history sent back to the model, RAGFlow strips them too). */
export function stripMarkers(text: string): string {
  return text.replace(ANY_MARKER, '').replace(/ {2,}/g, ' ');
}

export interface CitableChunk {
  /** analyzed tokens of the chunk, space separated (content_ltks) */
  tokens: string;
}

/**
 * Every chunk's tokens and adjacent token pairs → the chunks holding them (ascending), so a sentence is
 * matched against all chunks with one lookup per query term instead of one per term and chunk. A token
 * never contains a space and a pair always does, so both share one map.
 */
export class ChunkTerms {
  private readonly holders = new Map<string, number[]>();
  private readonly count: number;

  constructor(chunks: readonly CitableChunk[]) {
    this.count = chunks.length;
    chunks.forEach((c, i) => {
      const toks = c.tokens.split(' ');
      for (let k = 0; k < toks.length; k++) {
        const t = toks[k]!;
        if (!t) continue;
        this.add(t, i);
        const next = toks[k + 1];
        if (next) this.add(`${t} ${next}`, i);
      }
    });
  }

  private add(key: string, chunk: number): void {
    const list = this.holders.get(key);
    if (!list) this.holders.set(key, [chunk]);
    else if (list[list.length - 1] !== chunk) list.push(chunk);
  }

  /**
   * termSimilarity (Σ q over the query's tokens and pairs a chunk has / Σ q) for every chunk: each chunk's
   * terms are summed in the query's order, as termSimilarity sums them, so the numbers are the same.
   */
  similarities(q: QueryTerms): number[] {
    const hit = new Float64Array(this.count);
    if (q.total <= 0) return Array.from(hit);
    for (const [key, v] of q.weights) {
      const list = this.holders.get(key);
      if (list) for (const i of list) hit[i]! += v;
    }
    return Array.from(hit, (h) => Math.min(1, h / q.total));
  }
}

const LATIN_END = '.?;!';
const CJK_END = '；。？！';

/**
 * Turns the model's token stream into the answer users see, without ever rewriting text already sent:
 * markers the model writes are normalised to the chosen style (a partial marker is held back until it is
 * complete); when the model writes none, markers are inserted after each finished sentence whose
 * similarity to a chunk passes the threshold (RAGFlow's insert_citations, §4). Because insertion only
 * ever appends, cumulative answers stay prefix-stable and deltas never need a correction.
 */
export class CitationStream {
  private out = '';
  private pending = '';
  private sentenceStart = 0;
  private inFence = false;
  private modelWroteMarkers = false;
  /** each finished sentence's similarity to every chunk (null: no terms), kept for finish()'s lower bars */
  private readonly sentences: (number[] | null)[] = [];
  /** the chunks' terms, built at the first sentence to match */
  private terms?: ChunkTerms;
  readonly cited = new Set<number>();

  constructor(
    private readonly chunks: CitableChunk[],
    private readonly style: MarkerStyle,
    /** quote on and something retrieved */
    private readonly enabled: boolean,
  ) {}

  get text(): string {
    return this.out;
  }

  private get inserting(): boolean {
    return this.enabled && !this.modelWroteMarkers;
  }

  /** Feeds model text; returns the text newly committed to the answer. */
  push(delta: string): string {
    const before = this.out.length;
    if (!this.enabled) {
      this.out += delta;
      return delta;
    }
    this.pending += delta;
    this.drain(false);
    return this.out.slice(before);
  }

  /** Flushes what was held back and cites the last sentence; returns the text newly committed. */
  finish(): string {
    const before = this.out.length;
    if (!this.enabled) return '';
    this.drain(true);
    if (this.inserting) {
      this.endSentence();
      if (this.cited.size === 0) {
        // nothing passed 0.63: lower the bar as RAGFlow does (×0.8 down to 0.3) and cite at the end
        for (let thr = 0.63 * 0.8; thr > 0.3; thr *= 0.8) {
          const found = new Set<number>();
          for (const sims of this.sentences) for (const i of this.pick(sims, thr)) found.add(i);
          if (found.size) {
            for (const i of [...found].slice(0, 4)) {
              this.cited.add(i);
              this.out += ` ${marker(i, this.style)}`;
            }
            break;
          }
        }
      }
    }
    return this.out.slice(before);
  }

  private drain(final: boolean): void {
    // normalise complete markers in what is pending
    let text = '';
    let last = 0;
    MARKER.lastIndex = 0;
    for (let m = MARKER.exec(this.pending); m; m = MARKER.exec(this.pending)) {
      const end = m.index + m[0].length;
      // "ref1" at the very end may still grow into "ref12"
      if (m[3] !== undefined && end === this.pending.length && !final) break;
      const n = Number(m[1] ?? m[2] ?? m[3]);
      text += this.pending.slice(last, m.index);
      if (n < this.chunks.length) {
        this.modelWroteMarkers = true;
        this.cited.add(n);
        text += marker(n, this.style);
      } else if (m[3] !== undefined) {
        text += m[0]; // "ref 12" with no such chunk is ordinary text
      }
      last = end;
    }
    let rest = this.pending.slice(last);
    let hold = '';
    if (!final) {
      const tail = PARTIAL_TAIL.exec(rest);
      if (tail) {
        hold = rest.slice(tail.index);
        rest = rest.slice(0, tail.index);
      }
    }
    this.pending = hold;
    this.commit(text + rest);
  }

  private commit(text: string): void {
    if (!this.inserting) {
      this.out += text;
      return;
    }
    // appended in runs between sentence ends, not a character at a time
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (CJK_END.includes(c)) {
        this.out += text.slice(from, i + 1);
        from = i + 1;
        this.endSentence();
      } else if (c === '\n') {
        this.out += text.slice(from, i);
        from = i; // the newline follows the sentence's markers
        this.endSentence();
      } else if (c === ' ' || c === '\t') {
        // a Latin end mark after a letter, digit, bracket or quote, then a space, ends a sentence
        const prev = i > from ? text[i - 1] : this.out[this.out.length - 1];
        if (prev === undefined || !LATIN_END.includes(prev)) continue;
        this.out += text.slice(from, i);
        from = i;
        if (this.out.length >= 2 && /[\p{L}\p{N})\]"”]/u.test(this.out[this.out.length - 2]!)) this.endSentence();
      }
    }
    this.out += text.slice(from);
  }

  private endSentence(): void {
    const sentence = this.out.slice(this.sentenceStart);
    this.sentenceStart = this.out.length;
    const fences = sentence.split('```').length - 1;
    const wasInFence = this.inFence;
    if (fences % 2 === 1) this.inFence = !this.inFence;
    if (wasInFence || fences > 0 || sentence.trim().length < 5) return;
    const sims = this.similarities(sentence);
    this.sentences.push(sims);
    for (const i of this.pick(sims, 0.63)) {
      this.cited.add(i);
      this.out += ` ${marker(i, this.style)}`;
    }
    this.sentenceStart = this.out.length;
  }

  /** A sentence's similarity to each chunk; null when it has no terms. */
  private similarities(sentence: string): number[] | null {
    const q = buildQuery(sentence);
    if (!q.tokens.length) return null;
    this.terms ??= new ChunkTerms(this.chunks);
    return this.terms.similarities(q);
  }

  /** Chunks cited by a sentence: every chunk within 1% of the best similarity, above `threshold`, at most 4, each once per answer. */
  private pick(sims: number[] | null, threshold: number): number[] {
    if (!sims) return [];
    const max = Math.max(...sims);
    if (!(max >= threshold)) return [];
    return sims
      .map((s, i) => [s, i] as const)
      .filter(([s, i]) => s >= 0.99 * max && !this.cited.has(i))
      .sort((a, b) => b[0] - a[0])
      .slice(0, 4)
      .map(([, i]) => i);
  }
}
