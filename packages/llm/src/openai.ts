import OpenAI from 'openai';
import { countTokens } from '@ragnest/nlp';
import { httpFetch } from './http-fetch.js';
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
  /** fetch implementation (tests); default httpFetch (node:http with keep-alive) */
  fetch?: typeof fetch;
}

const TIMEOUT = Symbol('llm-timeout');

function estimateUsage(messages: LlmMessage[], completion: string): LlmUsage {
  const promptTokens = messages.reduce((n, m) => n + countTokens(m.content) + 4, 0);
  const completionTokens = countTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

function toUsage(u: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined): LlmUsage | undefined {
  if (!u || typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return undefined;
  return { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens };
}

/** A provider's error message without secrets or stack traces, safe to show to API clients. */
function describe(err: unknown, model: string, timeoutMs: number, timedOut: boolean): LlmError {
  if (err instanceof LlmError) return err;
  if (timedOut || err instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError(`The model ${model} did not answer within ${timeoutMs} ms`, 504, true);
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const body = err.error as { message?: unknown } | undefined;
    const msg = typeof body?.message === 'string' ? body.message : err.message;
    return new LlmError(`The model ${model} failed (HTTP ${err.status}): ${msg}`, err.status, err.status === 429 || err.status >= 500);
  }
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : err.message;
    return new LlmError(`Cannot reach the model ${model}: ${detail}`, 502, true);
  }
  return new LlmError(`The model ${model} failed: ${err instanceof Error ? err.message : String(err)}`, 502, false);
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * Any server speaking OpenAI's chat-completions protocol (OpenAI, DeepSeek, DashScope compatible mode,
 * Ollama, vLLM, Xinference, LM Studio…), through the official `openai` client. Retries are left to the
 * caller: a chat answer that already streamed to a user cannot be silently restarted.
 */
export class OpenAICompatibleChatModel implements ChatModel {
  readonly id: string;
  private readonly client: OpenAI;
  private readonly timeoutMs: number;

  constructor(private readonly opts: OpenAICompatibleChatOptions) {
    this.id = `${opts.model}@${opts.factory ?? 'OpenAI-API-Compatible'}`;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.client = new OpenAI({
      baseURL: opts.baseUrl.replace(/\/+$/, ''),
      // local servers (Ollama, vLLM) need no key, but the client insists on one
      apiKey: opts.apiKey || 'none',
      maxRetries: 0,
      timeout: this.timeoutMs,
      fetch: opts.fetch ?? httpFetch,
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
      const stream = await this.client.chat.completions.create(
        { ...(this.body(messages, params) as { model: string; messages: LlmMessage[] }), stream: true, stream_options: { include_usage: true } },
        { signal: ctl.signal },
      );
      for await (const chunk of stream) {
        waiting = false;
        const delta = chunk.choices?.[0]?.delta as { content?: string | null; reasoning_content?: string | null } | undefined;
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
        waitingSince = performance.now();
        waiting = true;
      }
      if (thinking) yield { type: 'text', text: '</think>' };
      // the client's stream ends quietly when its request is aborted
      if (timedOut) throw new LlmError(`The model ${this.id} did not answer within ${this.timeoutMs} ms`, 504, true);
      if (signal.aborted) throw abortError(signal);
      completed = true;
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      throw describe(err, this.id, this.timeoutMs, timedOut);
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
      throw describe(err, this.id, this.timeoutMs, false);
    }
  }
}
