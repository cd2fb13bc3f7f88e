import { setTimeout as sleep } from 'node:timers/promises';
import { createParser } from 'eventsource-parser';
import OpenAI from 'openai';
import { countTokens } from '@ragnest/nlp';
import { httpFetch, httpRequest, type RawResponse } from './http-fetch.js';
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
  /**
   * After the first piece of a streamed answer, the response is read at most once per this many ms (default
   * STREAM_BATCH_MS; 0 reads every piece as it arrives). Pieces that arrive in between are read and handed on
   * together, as one text: a fast model costs one read, parse and hand-on per batch instead of per token.
   */
  batchMs?: number;
}

const TIMEOUT = Symbol('llm-timeout');
/** Default OpenAICompatibleChatOptions.batchMs: at most 100 reads a second per answer, still more often than a screen refreshes. */
export const STREAM_BATCH_MS = 10;
/** How long the end of a streamed response is awaited after its `[DONE]` event. */
const DONE_GRACE_MS = 1_000;

function estimateUsage(messages: LlmMessage[], completion: string): LlmUsage {
  const promptTokens = messages.reduce((n, m) => n + countTokens(m.content) + 4, 0);
  const completionTokens = countTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

function toUsage(u: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined): LlmUsage | undefined {
  if (!u || typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return undefined;
  return { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens };
}

/** An error's message; not `instanceof Error`, which fails for errors from another realm (node core under a test VM). */
const messageOf = (err: unknown): string =>
  typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? (err as { message: string }).message : String(err);

/** The model failures an API client may see (no secrets, no stack traces), each worded in one place. */
const fail = {
  timeout: (model: string, ms: number) => new LlmError(`The model ${model} did not answer within ${ms} ms`, 504, true),
  http: (model: string, status: number, msg: string) => new LlmError(`The model ${model} failed (HTTP ${status}): ${msg}`, status, status === 429 || status >= 500),
  unreachable: (model: string, detail: string) => new LlmError(`Cannot reach the model ${model}: ${detail}`, 502, true),
  other: (model: string, msg: string) => new LlmError(`The model ${model} failed: ${msg}`, 502, false),
};

/** An error of the official client as what the client may see. */
function describe(err: unknown, model: string, timeoutMs: number): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return fail.timeout(model, timeoutMs);
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const body = err.error as { message?: unknown } | undefined;
    return fail.http(model, err.status, typeof body?.message === 'string' ? body.message : err.message);
  }
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = (err as { cause?: unknown }).cause;
    return fail.unreachable(model, cause instanceof Error ? cause.message : err.message);
  }
  return fail.other(model, messageOf(err));
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** The provider's message from an error response (its body read up to 64 KB): OpenAI's `{error: {message}}` and the usual variants. */
async function errorBody(res: RawResponse): Promise<string> {
  let text = '';
  res.body.setEncoding('utf8');
  for await (const s of res.body as AsyncIterable<string>) {
    text += s;
    if (text.length > 65_536) {
      res.body.destroy();
      break;
    }
  }
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown } | null;
    const e = j?.error as { message?: unknown } | string | undefined;
    for (const m of [typeof e === 'string' ? e : e?.message, j?.message, j?.detail]) if (typeof m === 'string' && m) return m;
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 500) || res.statusText || 'no details';
}

interface StreamChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null } | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
  error?: { message?: unknown } | string | null;
}

/**
 * Any server speaking OpenAI's chat-completions protocol (OpenAI, DeepSeek, DashScope compatible mode,
 * Ollama, vLLM, Xinference, LM Studio…): whole answers through the official `openai` client, streamed ones
 * over node:http (see `stream`). Retries are left to the caller: a chat answer that already streamed to a
 * user cannot be silently restarted.
 */
export class OpenAICompatibleChatModel implements ChatModel {
  readonly id: string;
  private readonly client: OpenAI;
  private readonly timeoutMs: number;
  private readonly batchMs: number;
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: OpenAICompatibleChatOptions) {
    this.id = `${opts.model}@${opts.factory ?? 'OpenAI-API-Compatible'}`;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.batchMs = opts.batchMs ?? STREAM_BATCH_MS;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'text/event-stream', 'user-agent': 'ragnest', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) };
    this.client = new OpenAI({
      baseURL: this.baseUrl,
      // local servers (Ollama, vLLM) need no key, but the client insists on one
      apiKey: opts.apiKey || 'none',
      maxRetries: 0,
      timeout: this.timeoutMs,
      fetch: httpFetch,
    });
  }

  private body(messages: LlmMessage[], params: LlmParams) {
    const body: Record<string, unknown> = { model: this.opts.model, messages };
    for (const k of ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'max_tokens'] as const) {
      const v = params[k];
      if (typeof v === 'number' && Number.isFinite(v)) body[k] = v;
    }
    return body;
  }

  /**
   * Streams over node:http with the SSE parsed by eventsource-parser, not through the `openai` client: its
   * fetch Response, web streams and per-event promises cost more than half of the api's CPU per relayed answer
   * (measured 1.6 → 0.7 ms per 32-piece stream), and chat streams are the api's hottest path. The protocol is
   * the documented one: POST /chat/completions with `stream: true`, `data:` events, `[DONE]`; an error status
   * or an `error` event becomes an LlmError with the provider's message.
   */
  async *stream(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): AsyncIterable<LlmDelta> {
    if (signal.aborted) throw abortError(signal);
    // one controller per call: aborted by the caller's signal or by the idle timer
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // The idle timer covers waiting for the model only: a consumer that holds a piece (a slow client applying
    // backpressure) must not make a healthy upstream look stalled. One timer per call, re-armed only when it
    // fires early, instead of a clear and a new timer per streamed piece.
    let waitingSince = performance.now();
    let waiting = true;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const left = waiting ? waitingSince + this.timeoutMs - performance.now() : this.timeoutMs;
      if (left > 0) {
        timer = setTimeout(check, left);
        return;
      }
      timedOut = true;
      ctl.abort(TIMEOUT);
    };
    let text = '';
    let thinking = false;
    let usage: LlmUsage | undefined;
    let completed = false;
    try {
      timer = setTimeout(check, this.timeoutMs);
      const request = JSON.stringify({ ...this.body(messages, params), stream: true, stream_options: { include_usage: true } });
      let res: RawResponse;
      try {
        res = await httpRequest(new URL(`${this.baseUrl}/chat/completions`), { method: 'POST', headers: this.headers, body: request, signal: ctl.signal });
      } catch (err) {
        if (ctl.signal.aborted) throw err;
        throw fail.unreachable(this.id, messageOf(err));
      }
      if (res.status < 200 || res.status >= 300) {
        throw fail.http(this.id, res.status, await errorBody(res));
      }
      let events: { event?: string; data: string }[] = [];
      let done = false;
      const parser = createParser({
        onEvent: (ev) => {
          if (ev.data === '[DONE]') done = true;
          else if (!done) events.push(ev);
        },
      });
      res.body.setEncoding('utf8');
      // leaving the loop at [DONE] must not destroy the body (see below)
      const body = res.body;
      const reader = (body.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<string>)[Symbol.asyncIterator]();
      /** when the last text was handed on: the next read waits for batchMs after it */
      let handedAt = -Infinity;
      for (;;) {
        const wait = handedAt + this.batchMs - performance.now();
        // what arrives meanwhile is buffered by the stream and read in one go below (the idle timer is off:
        // this wait is ours, not the model's)
        if (wait > 0) await sleep(wait);
        waitingSince = performance.now();
        waiting = true;
        const next = await reader.next();
        if (next.done) break;
        waiting = false;
        parser.feed(next.value);
        const batch = events;
        events = [];
        // the texts read now: handed on as one piece when batching, else one by one as the model sent them
        const out: string[] = [];
        /** a bad or error event: raised after the text read before it has been handed on */
        let failure: LlmError | undefined;
        for (const ev of batch) {
          let chunk: StreamChunk;
          try {
            chunk = JSON.parse(ev.data) as StreamChunk;
          } catch {
            failure = new LlmError(`The model ${this.id} sent an unreadable stream event: ${ev.data.slice(0, 200)}`, 502, false);
            break;
          }
          // some servers send `"error": null` in every chunk
          if ((chunk?.error !== undefined && chunk.error !== null) || ev.event === 'error') {
            const e = chunk?.error;
            failure = fail.other(this.id, typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : ev.data.slice(0, 500));
            break;
          }
          const delta = chunk?.choices?.[0]?.delta;
          usage = toUsage(chunk?.usage) ?? usage;
          // reasoning models on DeepSeek's API / vLLM send thinking separately: pass it on inside <think> tags,
          // the form Ollama and others use in the content itself
          const thought = delta?.reasoning_content;
          if (typeof thought === 'string' && thought.length) {
            out.push(thinking ? thought : `<think>${thought}`);
            thinking = true;
          }
          const piece = delta?.content;
          if (typeof piece === 'string' && piece.length) {
            text += piece;
            out.push(thinking ? `</think>${piece}` : piece);
            thinking = false;
          }
        }
        if (out.length) {
          if (this.batchMs > 0) yield { type: 'text', text: out.length === 1 ? out[0]! : out.join('') };
          else for (const text of out) yield { type: 'text', text };
          handedAt = performance.now();
        }
        if (failure) throw failure;
        if (done) break;
      }
      if (done && !body.readableEnded) {
        // the rest, normally just the end of the response, is read and dropped so the connection can be reused;
        // a server that holds the response open after [DONE] is waited for only briefly, then cut off
        await new Promise<void>((resolve) => {
          const finish = () => {
            clearTimeout(grace);
            body.off('end', finish);
            body.off('close', finish);
            resolve();
          };
          const grace = setTimeout(finish, DONE_GRACE_MS);
          body.once('end', finish);
          body.once('close', finish);
          body.resume();
        });
        if (!body.readableEnded) body.destroy();
      }
      if (thinking) yield { type: 'text', text: '</think>' };
      if (timedOut) throw fail.timeout(this.id, this.timeoutMs);
      if (signal.aborted) throw abortError(signal);
      completed = true;
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (timedOut) throw fail.timeout(this.id, this.timeoutMs);
      if (err instanceof LlmError) throw err;
      throw new LlmError(`The model ${this.id} stopped streaming: ${messageOf(err)}`, 502, true);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // a consumer that stops early (client gone) must not leave the upstream request open
      if (!completed && !ctl.signal.aborted) ctl.abort();
    }
    yield { type: 'usage', usage: usage ?? estimateUsage(messages, text) };
  }

  async complete(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): Promise<{ text: string; usage: LlmUsage }> {
    if (signal.aborted) throw abortError(signal);
    try {
      const res = await this.client.chat.completions.create(
        { ...(this.body(messages, params) as { model: string; messages: LlmMessage[] }), stream: false },
        { signal, timeout: this.timeoutMs },
      );
      const text = res.choices?.[0]?.message?.content ?? '';
      return { text, usage: toUsage(res.usage) ?? estimateUsage(messages, text) };
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      throw describe(err, this.id, this.timeoutMs);
    }
  }
}
