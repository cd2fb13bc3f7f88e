import type { EmbeddingProvider } from './port.js';

export interface HashingEmbedderOptions {
  /** Output dimension (number of hash buckets), default 384. */
  dimension?: number;
  /** Word tokenizer; the app injects RagNest's analyzer (jieba segmentation + stemming). */
  tokenize: (text: string) => string[];
}

export const HASHING_MODEL_ID = 'ragnest-hashing-v1@Builtin';

// ---- stable 32-bit hashing (FNV-1a over UTF-16 code units, murmur3 finaliser) ---------------------------
// These constants and the feature layout below define "ragnest-hashing-v1": vectors are persisted, so any
// change to them must ship under a new model id.
// Module-level bindings for the hot loops: in vm contexts (Jest) every global lookup such as `Math` is slow.
const imul = Math.imul;
const log = Math.log;
const sqrt = Math.sqrt;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SEED_TOKEN = 0x1b873593;
const SEED_TOKEN_BIGRAM = 0x68e31da4;
const SEED_CHAR_TRIGRAM = 0x3c6ef372;
const SEED_CJK_BIGRAM = 0x510e527f;
const SEED_CJK_UNIGRAM = 0x1f83d9ab;
const SEED_EMPTY = 0x5be0cd19;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of s[start, end). */
function fnv(s: string, start: number, end: number, seed: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Han, kana, Hangul and CJK compatibility ideographs: scripts written without spaces. */
function isCjk(c: number): boolean {
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x3040 && c <= 0x30ff) ||
    (c >= 0xac00 && c <= 0xd7af) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xd800 && c <= 0xdbff) // surrogate pair lead: CJK extension B+ (and emoji; harmless)
  );
}

/** Has at least one letter/digit-like code unit (skips punctuation/space-only tokens). */
function isWordish(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30) continue;
    if (c <= 0x39) return true;
    if (c < 0x41) continue;
    if (c <= 0x5a) return true;
    if (c < 0x61) continue;
    if (c <= 0x7a) return true;
    if (c < 0xc0) continue;
    // general / CJK / fullwidth punctuation blocks
    if ((c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xff0f)) continue;
    if ((c >= 0xff1a && c <= 0xff20) || (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff65)) continue;
    return true;
  }
  return false;
}

/** Very common words: kept (they carry some meaning in bigrams) but damped, in lieu of corpus IDF. */
const STOPWORDS = new Set(
  (
    'a an the and or but if then else of to in on at by for with from as into onto over under about above below ' +
    'between through during before after up down out off again further once is am are was were be been being ' +
    'have has had having do does did doing will would shall should can could may might must it its itself this ' +
    'that these those there here what which who whom whose when where why how all any both each few more most ' +
    'other some such no nor not only own same so than too very just also i me my we our you your he him his she ' +
    'her they them their one s t don isn aren wasn weren via per ' +
    '的 了 和 是 在 有 与 及 或 也 都 就 而 但 把 被 让 对 从 向 于 以 为 之 其 这 那 这个 那个 这些 那些 一个 ' +
    '我 你 他 她 它 我们 你们 他们 她们 它们 自己 什么 怎么 如何 哪 吗 呢 吧 啊 呀 着 过 地 得 所 等 就是 ' +
    '可以 因为 所以 如果 虽然 但是 然后 而且 并且 或者 还是 没有 不是 一些 进行 通过 以及 之一'
  ).split(/\s+/),
);

const STOP_DAMPING = 0.15;
/** Share of a token's L2 mass given to its character n-grams. */
const SUBWORD_WEIGHT = 0.7;
const CJK_UNIGRAM_WEIGHT = 0.25;
const TOKEN_BIGRAM_WEIGHT = 0.45;
/** A lone CJK character (what a segmenter leaves of unknown text) says less than a word. */
const SINGLE_CJK_CHAR_WEIGHT = 0.5;
/** CJK tokens longer than this are treated as unsegmented text. */
const LONG_CJK = 4;
const LONG_CJK_TOKEN_SHARE = 0.3;

interface TokenStat {
  tf: number;
  hash: number;
  stop: boolean;
}

/**
 * Built-in, offline, deterministic embedding: signed feature hashing of words, word bigrams and character
 * n-grams (3-grams inside non-CJK words, 1-/2-grams inside CJK words) into `dimension` buckets, L2-normalised.
 * It captures lexical overlap (including inflected forms and differently segmented Chinese), not synonyms.
 */
export class HashingEmbedder implements EmbeddingProvider {
  readonly modelId = HASHING_MODEL_ID;
  private readonly dim: number;
  private readonly tokenize: (text: string) => string[];
  private readonly acc: Float64Array;
  private readonly emptyVector: Float32Array;

  constructor(opts: HashingEmbedderOptions) {
    const dim = opts.dimension ?? 384;
    if (!Number.isInteger(dim) || dim < 8 || dim > 65536) {
      throw new RangeError(`HashingEmbedder: dimension must be an integer in [8, 65536], got ${dim}`);
    }
    if (typeof opts.tokenize !== 'function') throw new TypeError('HashingEmbedder: tokenize is required');
    this.dim = dim;
    this.tokenize = opts.tokenize;
    this.acc = new Float64Array(dim);
    // Empty input: a fixed unit vector (cosine against it stays defined), spread over pseudo-random signs.
    const empty = new Float32Array(dim);
    const v = 1 / sqrt(dim);
    for (let i = 0; i < dim; i++) empty[i] = fmix32((SEED_EMPTY + i) >>> 0) & 1 ? v : -v;
    this.emptyVector = empty;
  }

  async dimension(): Promise<number> {
    return this.dim;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    let sinceYield = 0;
    for (const text of texts) {
      signal?.throwIfAborted();
      out.push(this.embedText(text));
      // Keep the event loop responsive on big batches (~every 256 KB of text).
      sinceYield += text.length;
      if (sinceYield > 256 * 1024) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    signal?.throwIfAborted();
    return out;
  }

  /** The vectors of texts already run through the tokenizer (identical to embed() of the texts). */
  async embedTokens(tokenLists: string[][], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const tokens of tokenLists) {
      signal?.throwIfAborted();
      out.push(this.embedTokenList(tokens));
    }
    return out;
  }

  /** Synchronous single-text embedding (same result as embed([text])[0]). */
  embedText(text: string): Float32Array {
    return this.embedTokenList(this.tokenize(text ?? ''));
  }

  private embedTokenList(tokens: Iterable<string>): Float32Array {
    const acc = this.acc;
    acc.fill(0);
    const stats = new Map<string, TokenStat>();
    const seq: TokenStat[] = [];
    for (const raw of tokens) {
      if (!raw || !isWordish(raw)) continue;
      const tok = raw.toLowerCase();
      let st = stats.get(tok);
      if (!st) {
        st = { tf: 0, hash: fnv(tok, 0, tok.length, SEED_TOKEN), stop: STOPWORDS.has(tok) };
        stats.set(tok, st);
      }
      st.tf++;
      seq.push(st);
    }
    if (seq.length === 0) return this.emptyVector.slice();

    stats.forEach((st, tok) => {
      let w = 1 + log(st.tf);
      if (st.stop) w *= STOP_DAMPING;
      else if (tok.length === 1) w *= tok.charCodeAt(0) < 0x80 ? 0.3 : SINGLE_CJK_CHAR_WEIGHT;
      this.addSubwords(tok, w, st);
    });
    for (let i = 1; i < seq.length; i++) {
      const a = seq[i - 1] as TokenStat;
      const b = seq[i] as TokenStat;
      const w = TOKEN_BIGRAM_WEIGHT * (a.stop && b.stop ? STOP_DAMPING : a.stop || b.stop ? 0.5 : 1);
      this.add((imul(a.hash ^ SEED_TOKEN_BIGRAM, 0x9e3779b1) + b.hash) >>> 0, w);
    }

    let norm = 0;
    for (let i = 0; i < acc.length; i++) norm += (acc[i] as number) * (acc[i] as number);
    if (norm === 0) return this.emptyVector.slice(); // every feature cancelled out: vanishingly unlikely
    const inv = 1 / sqrt(norm);
    const v = new Float32Array(acc.length);
    for (let i = 0; i < acc.length; i++) v[i] = (acc[i] as number) * inv;
    return v;
  }

  private add(h: number, w: number): void {
    const m = fmix32(h);
    const idx = m % this.dim;
    this.acc[idx] = (this.acc[idx] as number) + (imul(m, 0x27d4eb2d) < 0 ? -w : w);
  }

  /** Adds the token feature and its character n-grams. */
  private addSubwords(tok: string, w: number, st: TokenStat): void {
    const n = tok.length;
    let cjk = false;
    for (let i = 0; i < n; i++) {
      if (isCjk(tok.charCodeAt(i))) {
        cjk = true;
        break;
      }
    }
    if (cjk) {
      // A CJK "word" longer than LONG_CJK chars is text the segmenter left whole: the exact-token feature is
      // then nearly useless, so most of its weight goes to the character bigrams.
      const long = n > LONG_CJK;
      this.add(st.hash, long ? w * LONG_CJK_TOKEN_SHARE : w);
      // character bigrams (also for 2-char words, so "机器学习" unsegmented overlaps "机器" + "学习"), plus unigrams
      const bigrams = n - 1;
      if (bigrams > 0) {
        const wb = ((long ? 1 : SUBWORD_WEIGHT) * w) / sqrt(bigrams);
        for (let i = 0; i < bigrams; i++) this.add(fnv(tok, i, i + 2, SEED_CJK_BIGRAM), wb);
      }
      const wu = (CJK_UNIGRAM_WEIGHT * w) / sqrt(n);
      for (let i = 0; i < n; i++) this.add(fnv(tok, i, i + 1, SEED_CJK_UNIGRAM), wu);
      return;
    }
    this.add(st.hash, w);
    // 3-grams of "\u0002tok\u0003" (word boundaries marked): n trigrams for an n-char word
    const wt = (SUBWORD_WEIGHT * w) / sqrt(n);
    for (let i = -1; i < n - 1; i++) {
      let h = (FNV_OFFSET ^ SEED_CHAR_TRIGRAM) >>> 0;
      for (let j = i; j < i + 3; j++) {
        h ^= j < 0 ? 0x02 : j >= n ? 0x03 : tok.charCodeAt(j);
        h = imul(h, FNV_PRIME);
      }
      this.add(h >>> 0, wt);
    }
  }
}
