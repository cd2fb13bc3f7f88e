import type { EmbeddingProvider } from './port.js';
import { PermanentEmbeddingError } from './port.js';

export interface OpenAICompatibleEmbedderOptions {
  /** API root including the version, e.g. `https://api.openai.com/v1`, `http://host:11434/v1`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Expected vector size; discovered with one request when omitted. */
  dimension?: number;
  /** Texts per request (default 16). */
  batchSize?: number;
  /** Retries of a transient failure per request (default 4, so up to 5 attempts). */
  maxRetries?: number;
  /** Per-attempt timeout, including reading the body (default 60000). */
  timeoutMs?: number;
  /** Provider part of modelId (default `OpenAI-API-Compatible`). */
  providerName?: string;
  /** Inputs longer than this many characters are cut (default 8000); empty inputs are sent as one space. */
  maxInputChars?: number;
  /** First backoff delay (default 500 ms); doubles per retry, with jitter. */
  retryBaseDelayMs?: number;
  /** Cap for one backoff delay, also for a server's Retry-After (default 30000 ms). */
  maxRetryDelayMs?: number;
  /** fetch implementation (default: global fetch). */
  fetch?: typeof fetch;
}

/** Status codes worth retrying; other non-2xx statuses are permanent (bad request, key, model, …). */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransientEmbeddingError';
  }
}

/** Parses Retry-After (delta-seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Best human-readable message from an error body of OpenAI, Ollama, vLLM, TEI, Xinference, … */
function providerMessage(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const e = j['error'];
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
      return (e as { message: string }).message;
    }
    for (const k of ['error', 'detail', 'message']) {
      const v = j[k];
      if (typeof v === 'string' && v) return v;
      if (v !== undefined && v !== null && typeof v !== 'object') return String(v);
      if (Array.isArray(v) || (v && typeof v === 'object')) return JSON.stringify(v).slice(0, 500);
    }
  } catch {
    // not JSON
  }
  const text = body.trim().replace(/\s+/g, ' ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text || '(empty body)';
}

function l2normalize(v: Float32Array, what: string): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  if (!(s > 0) || !Number.isFinite(s)) throw new PermanentEmbeddingError(`${what} is a zero or non-finite vector`);
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * inv;
  return v;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortReason(signal as AbortSignal));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Any server speaking the OpenAI embeddings API (`POST {baseUrl}/embeddings`): OpenAI, Ollama, vLLM, TEI,
 * Xinference, LocalAI, … Transient failures (network, timeout, 408/429/5xx) are retried with exponential
 * backoff and jitter, honouring Retry-After; other 4xx answers throw PermanentEmbeddingError with the
 * provider's message. A request that keeps failing transiently ends in a plain Error (retry later).
 */
export class OpenAICompatibleEmbedder implements EmbeddingProvider {
  readonly modelId: string;
  readonly url: string;
  private readonly opts: Required<
    Pick<
      OpenAICompatibleEmbedderOptions,
      'batchSize' | 'maxRetries' | 'timeoutMs' | 'maxInputChars' | 'retryBaseDelayMs' | 'maxRetryDelayMs'
    >
  >;
  private readonly model: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private dim: number | undefined;
  private discovering: Promise<number> | undefined;

  constructor(options: OpenAICompatibleEmbedderOptions) {
    if (!options.baseUrl) throw new Error('OpenAICompatibleEmbedder: baseUrl is required');
    if (!options.model) throw new Error('OpenAICompatibleEmbedder: model is required');
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new Error(`OpenAICompatibleEmbedder: invalid baseUrl ${JSON.stringify(options.baseUrl)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`OpenAICompatibleEmbedder: baseUrl must be http(s), got ${base.protocol}`);
    }
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.model = options.model;
    this.apiKey = options.apiKey || undefined;
    this.modelId = `${options.model}@${options.providerName ?? 'OpenAI-API-Compatible'}`;
    const posInt = (v: number | undefined, d: number, name: string, min = 1): number => {
      const x = v ?? d;
      if (!Number.isInteger(x) || x < min) throw new RangeError(`OpenAICompatibleEmbedder: invalid ${name}: ${x}`);
      return x;
    };
    this.opts = {
      batchSize: posInt(options.batchSize, 16, 'batchSize'),
      maxRetries: posInt(options.maxRetries, 4, 'maxRetries', 0),
      timeoutMs: posInt(options.timeoutMs, 60_000, 'timeoutMs'),
      maxInputChars: posInt(options.maxInputChars, 8000, 'maxInputChars'),
      retryBaseDelayMs: posInt(options.retryBaseDelayMs, 500, 'retryBaseDelayMs', 0),
      maxRetryDelayMs: posInt(options.maxRetryDelayMs, 30_000, 'maxRetryDelayMs', 0),
    };
    if (options.dimension !== undefined) this.dim = posInt(options.dimension, 0, 'dimension');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  async dimension(): Promise<number> {
    if (this.dim !== undefined) return this.dim;
    this.discovering ??= this.embed(['ok']).then(
      ([v]) => (v as Float32Array).length,
      (err: unknown) => {
        this.discovering = undefined; // let a later call try again
        throw err;
      },
    );
    return this.discovering;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.opts.batchSize) {
      const batch = texts.slice(i, i + this.opts.batchSize).map((t) => this.prepare(t));
      const vectors = await this.requestWithRetry(batch, signal);
      for (const v of vectors) {
        if (this.dim === undefined) this.dim = v.length;
        else if (v.length !== this.dim) {
          throw new PermanentEmbeddingError(
            `${this.modelId} returned ${v.length}-dimensional vectors, expected ${this.dim}` +
              ' (check the configured dimension and model)',
          );
        }
        out.push(v);
      }
    }
    return out;
  }

  private prepare(text: string): string {
    const t = typeof text === 'string' ? text : String(text ?? '');
    if (t.trim() === '') return ' '; // several servers reject empty strings
    if (t.length <= this.opts.maxInputChars) return t;
    // do not split a surrogate pair
    let end = this.opts.maxInputChars;
    const c = t.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
    return t.slice(0, end);
  }

  private async requestWithRetry(batch: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const { maxRetries, retryBaseDelayMs, maxRetryDelayMs } = this.opts;
    let last: TransientError | undefined;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) {
        const backoff = Math.min(maxRetryDelayMs, retryBaseDelayMs * 2 ** (attempt - 1));
        const jittered = backoff / 2 + Math.random() * (backoff / 2);
        const delay = Math.max(jittered, Math.min(last?.retryAfterMs ?? 0, maxRetryDelayMs));
        await sleep(delay, signal);
      }
      try {
        return await this.request(batch, signal);
      } catch (err) {
        if (err instanceof TransientError) {
          last = err;
          continue;
        }
        throw err;
      }
    }
    throw new Error(
      `embedding request to ${this.url} failed after ${maxRetries + 1} attempt(s): ${last?.message ?? 'unknown error'}`,
      { cause: last },
    );
  }

  /** One attempt. Throws TransientError (retry), PermanentEmbeddingError, or the caller's abort reason. */
  private async request(batch: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort(new Error('timeout'));
    }, this.opts.timeoutMs);
    const onAbort = (): void => ctl.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let res: Response;
      let body: string;
      try {
        res = await this.fetchImpl(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: this.model, input: batch }),
          signal: ctl.signal,
        });
        body = await res.text();
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (timedOut) throw new TransientError(`timed out after ${this.opts.timeoutMs} ms`);
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
        throw new TransientError(`network error: ${detail}`);
      }
      if (!res.ok) {
        const msg = `${this.modelId}: HTTP ${res.status}: ${providerMessage(body)}`;
        if (retryableStatus(res.status)) {
          throw new TransientError(msg, parseRetryAfter(res.headers.get('retry-after')));
        }
        throw new PermanentEmbeddingError(msg);
      }
      return this.parse(body, batch.length);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private parse(body: string, expected: number): Float32Array[] {
    const bad = (why: string): PermanentEmbeddingError =>
      new PermanentEmbeddingError(`${this.modelId}: malformed embeddings response from ${this.url}: ${why}`);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw bad(`not JSON: ${providerMessage(body).slice(0, 200)}`);
    }
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw bad('missing "data" array');
    if (data.length !== expected) throw bad(`expected ${expected} embeddings, got ${data.length}`);
    const slots: (Float32Array | undefined)[] = new Array(expected);
    data.forEach((item: unknown, pos: number) => {
      if (!item || typeof item !== 'object') throw bad(`data[${pos}] is not an object`);
      const { embedding, index } = item as { embedding?: unknown; index?: unknown };
      const at = index === undefined ? pos : index;
      if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at >= expected) {
        throw bad(`data[${pos}].index ${JSON.stringify(index)} out of range`);
      }
      if (slots[at]) throw bad(`duplicate index ${at}`);
      let v: Float32Array;
      if (Array.isArray(embedding)) {
        if (embedding.length === 0) throw bad(`data[${pos}].embedding is empty`);
        v = new Float32Array(embedding.length);
        for (let i = 0; i < embedding.length; i++) {
          const x: unknown = embedding[i];
          if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(`data[${pos}].embedding[${i}] is not a number`);
          v[i] = x;
        }
      } else if (typeof embedding === 'string') {
        // encoding_format=base64 (little-endian float32), in case a server defaults to it
        const buf = Buffer.from(embedding, 'base64');
        if (buf.length === 0 || buf.length % 4 !== 0) throw bad(`data[${pos}].embedding is not valid base64 float32`);
        v = new Float32Array(buf.length / 4);
        for (let i = 0; i < v.length; i++) v[i] = buf.readFloatLE(i * 4);
      } else {
        throw bad(`data[${pos}].embedding is not an array of numbers`);
      }
      slots[at] = l2normalize(v, `${this.modelId}: data[${pos}].embedding`);
    });
    const dims = new Set(slots.map((v) => v?.length));
    if (dims.size !== 1) throw bad('embeddings of different lengths in one response');
    return slots as Float32Array[];
  }
}
