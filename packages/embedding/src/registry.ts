import { HashingEmbedder, HASHING_MODEL_ID } from './hashing.js';
import { createEmbeddingProvider, type EmbeddingConfig } from './factory.js';
import { analyze } from '@ragnest/nlp';
import { PermanentEmbeddingError, type EmbeddingProvider } from './port.js';

/**
 * The embedding models this installation runs, by RAGFlow model id (`model@provider`): the built-in one
 * always, plus the configured remote one. Datasets name their model; workers and search look it up here.
 */
export class EmbeddingRegistry {
  private readonly providers = new Map<string, EmbeddingProvider>();

  constructor(cfg: EmbeddingConfig) {
    this.providers.set(HASHING_MODEL_ID, new HashingEmbedder({ tokenize: cfg.tokenize }));
    if (cfg.provider === 'openai') {
      const remote = createEmbeddingProvider(cfg);
      this.providers.set(remote.modelId, remote);
    }
  }

  get(modelId: string): EmbeddingProvider {
    const p = this.providers.get(modelId);
    if (!p) throw new PermanentEmbeddingError(`Embedding model ${modelId} is not available on this server`);
    return p;
  }

  modelIds(): string[] {
    return [...this.providers.keys()];
  }
}

/** The registry with RagNest's analyzer (jieba + stemming) as the built-in model's tokenizer. */
export function createEmbeddingRegistry(cfg: Omit<EmbeddingConfig, 'tokenize'>): EmbeddingRegistry {
  return new EmbeddingRegistry({ ...cfg, tokenize: analyze });
}

export interface ChunkText {
  /** chunk content (HTML tags are stripped) */
  content: string;
  /** questions, when the chunk has them: embedded instead of the content (RAGFlow) */
  questions: string[];
  /** the analyzer tokens of `content`, space-separated, when already known (chunk.content_tokens) */
  contentTokens?: string;
}

const stripTags = (s: string) => (s.includes('<') ? s.replace(/<\/?(table|tr|td|th|caption|thead|tbody|br|p|div|span)[^>]*>/gi, ' ') : s);

/**
 * RAGFlow's chunk vector: v = w·emb(document title) + (1−w)·emb(chunk text), where the title is the file
 * name without its extension and w = filename_embd_weight (default 0.1); re-normalised. Texts go to the
 * provider in one call (it batches).
 */
export async function embedChunks(
  provider: EmbeddingProvider,
  chunks: ChunkText[],
  documentName: string,
  titleWeight = 0.1,
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  if (chunks.length === 0) return [];
  const title = documentName.replace(/\.[^.]+$/, '');
  const texts = chunks.map((c) => {
    const t = c.questions.length ? c.questions.join('\n') : stripTags(c.content);
    return t.trim() ? t : 'None';
  });
  const w = Math.min(Math.max(titleWeight, 0), 1);
  // a model that works on analyzer tokens takes the stored ones where they are exactly what it would compute
  const reuse = chunks.map((c, i) =>
    !!provider.embedTokens && c.contentTokens !== undefined && c.contentTokens !== '' && !c.questions.length && texts[i] === c.content,
  );
  const fromTokens = reuse.some(Boolean)
    ? await provider.embedTokens!(chunks.filter((_, i) => reuse[i]).map((c) => c.contentTokens!.split(' ')), signal)
    : [];
  const viaText = texts.filter((_, i) => !reuse[i]);
  const all = await provider.embed(w > 0 ? [title || 'None', ...viaText] : viaText, signal);
  const titleVec = w > 0 ? all[0]! : null;
  const textVecs = w > 0 ? all.slice(1) : all;
  let a = 0;
  let b = 0;
  const vecs = reuse.map((r) => (r ? fromTokens[a++]! : textVecs[b++]!));
  return vecs.map((v) => {
    if (!titleVec) return v;
    const out = new Float32Array(v.length);
    let norm = 0;
    for (let i = 0; i < v.length; i++) {
      const x = w * titleVec[i]! + (1 - w) * v[i]!;
      out[i] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < out.length; i++) out[i]! /= norm;
    return out;
  });
}

/** Vectors are stored in Postgres as little-endian float32 bytes. */
export function vectorToBytes(v: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(v.length * 4);
  new Float32Array(out.buffer).set(v);
  return out;
}

export function bytesToVector(b: Uint8Array): Float32Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}
