import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { countTokens } from '@ragnest/nlp';
import { LlmError, type ChatModel, type LlmDelta, type LlmMessage, type LlmParams, type LlmUsage } from './port.js';

export interface OpenAICompatibleChatOptions {
  /** API root including the version, e.g. `https://api.openai.com/v1`, `http://host:11434/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** model name sent upstream */
  model: string;
  /** factory part of the RAGFlow model id (default `OpenAI-API-Compatible`) */
  factory?: string;
  /**
   * Longest wait for the response headers and then between two streamed pieces (default 60000 ms).
   * An idle upstream becomes an LlmError instead of a hung stream.
   */
  timeoutMs?: number;
}

// Kept-alive connections shared by every model: a chat turn must not pay a TCP (or TLS) handshake.
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

function estimateUsage(messages: LlmMessage[], completion: string): LlmUsage {
  const promptTokens = messages.reduce((n, m) => n + countTokens(m.content) + 4, 0);
  const completionTokens = countTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

function toUsage(u: WireUsage | null | undefined): LlmUsage | undefined {
  if (!u || typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return undefined;
  return { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens };
}

/** One streamed chunk of the chat-completions protocol, as far as it is read here. */
interface WireChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null } }[];
  usage?: WireUsage | null;
  error?: { message?: unknown } | string;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** The upstream's error text: `error.message` of an OpenAI error body, else the body itself (cut). */
function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.error?.message === 'string') return j.error.message;
    if (typeof j.message === 'string') return j.message;
  } catch {
    /* not JSON */
  }
  return body.trim().slice(0, 500) || 'no error message';
}

/**
 * One HTTP exchange with the upstream: resolves with the response once its headers arrived (2xx), rejects
 * with an LlmError for an error status (its body read) or an unreachable server. `abort` tears it down.
 */
class Exchange {
  private req?: ClientRequest;
  res?: IncomingMessage;

  constructor(
    private readonly url: URL,
    private readonly headers: Record<string, string>,
    private readonly body: string,
    private readonly modelId: string,
  ) {}

  open(): Promise<IncomingMessage> {
    const https = this.url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const headers = { ...this.headers, 'Content-Length': String(Buffer.byteLength(this.body)) };
      const req = (https ? httpsRequest : httpRequest)(this.url, { method: 'POST', headers, agent: https ? agents.https : agents.http });
      this.req = req;
      req.on('error', (err) => reject(new LlmError(`Cannot reach the model ${this.modelId}: ${err.message}`, 502, true)));
      req.on('response', (res) => {
        this.res = res;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.setEncoding('utf8');
          resolve(res);
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 64 * 1024) text += c;
        });
        res.on('error', () => {});
        res.on('end', () => reject(new LlmError(`The model ${this.modelId} failed (HTTP ${status}): ${errorText(text)}`, status, status === 429 || status >= 500)));
        res.on('close', () => reject(new LlmError(`The model ${this.modelId} failed (HTTP ${status})`, status, status === 429 || status >= 500)));
      });
      req.end(this.body);
    });
  }

  /** Closes the connection (an unfinished answer cannot go back to the keep-alive pool). */
  abort(): void {
    this.res?.destroy();
    this.req?.destroy();
  }
}

/**
 * Any server speaking OpenAI's chat-completions protocol (OpenAI, DeepSeek, DashScope compatible mode,
 * Ollama, vLLM, Xinference, LM Studio…), over node:http with kept-alive connections and a small SSE reader
 * (the official client's fetch and web streams cost several times more CPU per streamed piece). Retries are
 * left to the caller: a chat answer that already streamed to a user cannot be silently restarted.
 */
export class OpenAICompatibleChatModel implements ChatModel {
  readonly id: string;
  private readonly timeoutMs: number;
  private readonly url: URL;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: OpenAICompatibleChatOptions) {
    this.id = `${opts.model}@${opts.factory ?? 'OpenAI-API-Compatible'}`;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.url = new URL(`${opts.baseUrl.replace(/\/+$/, '')}/chat/completions`);
    // local servers (Ollama, vLLM) need no key; OpenAI's own client sends a placeholder, so do we
    this.headers = { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${opts.apiKey || 'none'}` };
  }

  private body(messages: LlmMessage[], params: LlmParams, stream: boolean): string {
    const body: Record<string, unknown> = { model: this.opts.model, messages };
    for (const k of ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'max_tokens'] as const) {
      const v = params[k];
      if (typeof v === 'number' && Number.isFinite(v)) body[k] = v;
    }
    if (stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    } else {
      body.stream = false;
    }
    return JSON.stringify(body);
  }

  private timeoutError(): LlmError {
    return new LlmError(`The model ${this.id} did not answer within ${this.timeoutMs} ms`, 504, true);
  }

  /**
   * The exchange's watchdog: it is torn down when `signal` aborts or when the model has been waited for
   * (`arm` … `disarm`) longer than the timeout; errors become LlmErrors, the caller's abort stays its own
   * error. One timer per exchange, re-set only when it fires early: arming per streamed piece is a clock read.
   */
  private guard(signal: AbortSignal) {
    const state = { timedOut: false, exchange: undefined as Exchange | undefined, fail: undefined as ((e: Error) => void) | undefined };
    let timer: NodeJS.Timeout | undefined;
    /** when the current wait for the model began; 0 = not waiting (the consumer holds a piece) */
    let waitingSince = 0;
    const kill = (err: Error) => {
      state.exchange?.abort();
      state.fail?.(err);
    };
    const check = () => {
      timer = undefined;
      if (!waitingSince) return;
      const left = waitingSince + this.timeoutMs - performance.now();
      if (left > 1) {
        timer = setTimeout(check, left);
        return;
      }
      state.timedOut = true;
      kill(this.timeoutError());
    };
    const onAbort = () => kill(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    return {
      state,
      arm: () => {
        waitingSince = performance.now();
        timer ??= setTimeout(check, this.timeoutMs);
      },
      disarm: () => {
        waitingSince = 0;
      },
      release: () => {
        waitingSince = 0;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      },
      error: (err: unknown): Error => {
        if (signal.aborted) return abortError(signal);
        if (state.timedOut) return this.timeoutError();
        if (err instanceof LlmError) return err;
        return new LlmError(`The model ${this.id} failed: ${err instanceof Error ? err.message : String(err)}`, 502, false);
      },
    };
  }

  async *stream(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): AsyncIterable<LlmDelta> {
    if (signal.aborted) throw abortError(signal);
    const g = this.guard(signal);
    const exchange = new Exchange(this.url, this.headers, this.body(messages, params, true), this.id);
    g.state.exchange = exchange;
    let text = '';
    let thinking = false;
    let usage: LlmUsage | undefined;
    let finished = false;
    try {
      g.arm();
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        g.state.fail = reject;
        exchange.open().then(resolve, reject);
      });
      // pieces arrive as 'data' events; the reader pauses the socket while the consumer holds a piece
      const reader = new SseReader(res, (e) => g.state.fail?.(e));
      for (;;) {
        if (signal.aborted) throw abortError(signal);
        const payloads = await new Promise<string[] | null>((resolve, reject) => {
          g.state.fail = reject;
          reader.next(resolve, reject);
        });
        if (payloads === null) break;
        // the idle timer covers waiting for the model only: a consumer that holds a piece (a slow client
        // applying backpressure) must not make a healthy upstream look stalled
        g.disarm();
        for (const data of payloads) {
          if (data === '[DONE]') {
            finished = true;
            continue;
          }
          let chunk: WireChunk;
          try {
            chunk = JSON.parse(data) as WireChunk;
          } catch {
            continue; // a keep-alive comment or a provider's non-JSON line
          }
          if (chunk.error) {
            const m = typeof chunk.error === 'string' ? chunk.error : typeof chunk.error.message === 'string' ? chunk.error.message : JSON.stringify(chunk.error);
            throw new LlmError(`The model ${this.id} failed: ${m}`, 502, false);
          }
          const delta = chunk.choices?.[0]?.delta;
          usage = toUsage(chunk.usage) ?? usage;
          // reasoning models on DeepSeek's API / vLLM send thinking separately: pass it on inside <think> tags,
          // the form Ollama and others use in the content itself
          const thought = delta?.reasoning_content;
          if (typeof thought === 'string' && thought.length) {
            yield { type: 'text', text: thinking ? thought : `<think>${thought}` };
            thinking = true;
          }
          const piece = delta?.content;
          if (typeof piece === 'string' && piece.length) {
            text += piece;
            yield { type: 'text', text: thinking ? `</think>${piece}` : piece };
            thinking = false;
          }
        }
        g.arm();
      }
      finished = true;
      if (thinking) yield { type: 'text', text: '</think>' };
    } catch (err) {
      throw g.error(err);
    } finally {
      g.release();
      // a consumer that stops early (client gone) must not leave the upstream request open
      if (!finished) exchange.abort();
    }
    yield { type: 'usage', usage: usage ?? estimateUsage(messages, text) };
  }

  async complete(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): Promise<{ text: string; usage: LlmUsage }> {
    if (signal.aborted) throw abortError(signal);
    const g = this.guard(signal);
    const exchange = new Exchange(this.url, this.headers, this.body(messages, params, false), this.id);
    g.state.exchange = exchange;
    try {
      g.arm();
      const raw = await new Promise<string>((resolve, reject) => {
        g.state.fail = reject;
        exchange.open().then((res) => {
          let body = '';
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
          res.on('error', reject);
          res.on('close', () => reject(new Error('the connection closed before the answer ended')));
        }, reject);
      });
      let res: { choices?: { message?: { content?: string | null } }[]; usage?: WireUsage | null };
      try {
        res = JSON.parse(raw) as typeof res;
      } catch {
        throw new LlmError(`The model ${this.id} failed: the answer is not JSON`, 502, false);
      }
      const text = res.choices?.[0]?.message?.content ?? '';
      return { text, usage: toUsage(res.usage) ?? estimateUsage(messages, text) };
    } catch (err) {
      exchange.abort();
      throw g.error(err);
    } finally {
      g.release();
    }
  }
}

/** queued payloads at which the upstream socket is paused until the consumer asks again */
const PAUSE_AT = 64;

/**
 * Reads `data:` payloads of a server-sent-event response, a batch at a time: everything that has arrived
 * when the consumer asks, or the next piece to arrive. The socket is paused while many wait unasked.
 */
class SseReader {
  private buf = '';
  private data: string[] = [];
  private ready: string[] = [];
  private ended = false;
  private failed?: Error;
  private waiter?: { resolve: (p: string[] | null) => void; reject: (e: Error) => void };

  constructor(
    private readonly res: IncomingMessage,
    onError: (e: Error) => void,
  ) {
    res.on('data', (chunk: string) => this.feed(chunk));
    res.on('end', () => {
      this.ended = true;
      this.wake();
    });
    const fail = (e: Error) => {
      this.failed ??= e;
      this.wake();
      onError(e);
    };
    res.on('error', fail);
    res.on('close', () => {
      if (!this.ended) fail(new Error('the connection closed before the answer ended'));
    });
  }

  next(resolve: (p: string[] | null) => void, reject: (e: Error) => void): void {
    if (this.ready.length) {
      const out = this.ready;
      this.ready = [];
      resolve(out);
      return;
    }
    if (this.failed) return reject(this.failed);
    if (this.ended) return resolve(null);
    this.waiter = { resolve, reject };
    if (this.res.isPaused()) this.res.resume();
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.ready.length) {
      this.waiter = undefined;
      const out = this.ready;
      this.ready = [];
      w.resolve(out);
    } else if (this.failed) {
      this.waiter = undefined;
      w.reject(this.failed);
    } else if (this.ended) {
      this.waiter = undefined;
      w.resolve(null);
    }
  }

  private feed(chunk: string): void {
    const text = this.buf + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      let line = text.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        // a blank line ends the event
        if (this.data.length) {
          this.ready.push(this.data.length === 1 ? this.data[0]! : this.data.join('\n'));
          this.data = [];
        }
      } else if (line.startsWith('data:')) {
        this.data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
      // comments (":"), event:, id: and retry: lines carry nothing for chat completions
    }
    this.buf = text.slice(start);
    if (!this.ready.length) return;
    if (this.waiter) this.wake();
    // a consumer this far behind holds the upstream until it catches up (bounded memory); a few queued
    // pieces are normal between two reads and not worth a pause and resume each
    else if (this.ready.length >= PAUSE_AT) this.res.pause();
  }
}
