import { citationMarker, type MarkerStyle } from '@ragnest/llm';
import { analyze, weighTokens } from '@ragnest/nlp';

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
 * Token ids below this bound pack a pair into one number key (ids are assigned per answer's chunks, so a
 * chunk set with a million distinct tokens is the only one whose later pairs are not indexed).
 */
const PAIR_SHIFT = 0x100000;

/**
 * Every chunk's tokens and adjacent token pairs → the chunks holding them (ascending), so a sentence is
 * matched against all chunks with one lookup per query term instead of one per term and chunk. Tokens are
 * numbered as they are first seen and a pair is keyed by its two numbers: building the index costs one
 * string lookup per token of the chunks, and no pair strings.
 */
export class ChunkTerms {
  private readonly ids = new Map<string, number>();
  /** by token id */
  private readonly tokenHolders: number[][] = [];
  private readonly pairHolders = new Map<number, number[]>();
  private readonly count: number;

  constructor(chunks: readonly CitableChunk[]) {
    this.count = chunks.length;
    const ids = this.ids;
    for (let i = 0; i < chunks.length; i++) {
      const toks = chunks[i]!.tokens.split(' ');
      let prev = -1;
      for (const t of toks) {
        if (!t) {
          prev = -1;
          continue;
        }
        let id = ids.get(t);
        if (id === undefined) {
          id = this.tokenHolders.length;
          ids.set(t, id);
          this.tokenHolders.push([]);
        }
        push(this.tokenHolders[id]!, i);
        if (prev >= 0 && id < PAIR_SHIFT) {
          const key = prev * PAIR_SHIFT + id;
          const list = this.pairHolders.get(key);
          if (list) push(list, i);
          else this.pairHolders.set(key, [i]);
        }
        prev = id < PAIR_SHIFT ? id : -1;
      }
    }
  }

  /**
   * termSimilarity(buildQuery(text), chunk) for every chunk, from the text's analyzed tokens `seq`: Σ q over the
   * query's tokens (0.4·w_t) and adjacent pairs (0.6·max(w_a, w_b)) a chunk has, over Σ q. A repeated token or
   * pair counts at each occurrence, as buildQuery accumulates it. Walks the sequence with the tokens' ids in
   * this index, so no query key string is built or hashed (equal to termSimilarity up to rounding).
   */
  similaritiesOf(seq: readonly string[]): Float64Array {
    const hit = new Float64Array(this.count);
    const { weights: w, at } = weighTokens(seq);
    let total = 0;
    let prev = -1;
    for (let t = 0; t < seq.length; t++) {
      const wt = w[at[t]!]!;
      const v = 0.4 * wt;
      total += v;
      const id = this.ids.get(seq[t]!);
      if (id !== undefined) for (const i of this.tokenHolders[id]!) hit[i]! += v;
      if (t > 0) {
        const pv = 0.6 * Math.max(w[at[t - 1]!]!, wt);
        total += pv;
        // the index holds no pair with an id past PAIR_SHIFT (its key could collide with another pair's)
        const list = prev >= 0 && id !== undefined && id < PAIR_SHIFT ? this.pairHolders.get(prev * PAIR_SHIFT + id) : undefined;
        if (list) for (const i of list) hit[i]! += pv;
      }
      prev = id !== undefined && id < PAIR_SHIFT ? id : -1;
    }
    if (total <= 0) return hit.fill(0);
    for (let i = 0; i < hit.length; i++) hit[i] = Math.min(1, hit[i]! / total);
    return hit;
  }
}

/** Appends a chunk index to an ascending holder list once. */
function push(list: number[], chunk: number): void {
  if (list[list.length - 1] !== chunk) list.push(chunk);
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
  private readonly sentences: (Float64Array | null)[] = [];
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
  private similarities(sentence: string): Float64Array | null {
    const seq = analyze(sentence);
    if (!seq.length) return null;
    this.terms ??= new ChunkTerms(this.chunks);
    return this.terms.similaritiesOf(seq);
  }

  /** Chunks cited by a sentence: every chunk within 1% of the best similarity, above `threshold`, at most 4, each once per answer. */
  private pick(sims: Float64Array | null, threshold: number): number[] {
    if (!sims) return [];
    let max = -Infinity;
    for (let i = 0; i < sims.length; i++) if (sims[i]! > max) max = sims[i]!;
    if (!(max >= threshold)) return [];
    const picked: number[] = [];
    for (let i = 0; i < sims.length; i++) if (sims[i]! >= 0.99 * max && !this.cited.has(i)) picked.push(i);
    // best first; equal similarities keep chunk order (a stable sort)
    return picked.sort((a, b) => sims[b]! - sims[a]!).slice(0, 4);
  }
}
