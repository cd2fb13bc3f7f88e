import { LlmError, type ChatModel, type LlmDelta, type LlmMessage, type LlmParams, type LlmUsage } from '@ragnest/llm';
import type { AgentEvent, AgentModels, AgentReference, AgentRetrieval, ReferenceChunk, RetrievalQuery, RunResult } from '../../src/index.js';

/** A ChatModel test double: answers from a function of the messages, in pieces, and records what it was sent. */
export class FakeChatModel implements ChatModel {
  readonly calls: { messages: LlmMessage[]; params: LlmParams; signal: AbortSignal }[] = [];
  constructor(
    private readonly reply: (messages: LlmMessage[]) => string,
    readonly id = 'fake-model@Test',
    private readonly opts: { pieceDelayMs?: number; failWith?: LlmError } = {},
  ) {}

  async *stream(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): AsyncIterable<LlmDelta> {
    this.calls.push({ messages, params, signal });
    if (this.opts.failWith) throw this.opts.failWith;
    const text = this.reply(messages);
    const pieces = text.match(/.{1,5}/gs) ?? [];
    for (const p of pieces) {
      if (this.opts.pieceDelayMs) await new Promise((r) => setTimeout(r, this.opts.pieceDelayMs));
      signal.throwIfAborted();
      yield { type: 'text', text: p };
    }
    yield { type: 'usage', usage: usageOf(messages, text) };
  }

  async complete(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): Promise<{ text: string; usage: LlmUsage }> {
    this.calls.push({ messages, params, signal });
    if (this.opts.failWith) throw this.opts.failWith;
    const text = this.reply(messages);
    return { text, usage: usageOf(messages, text) };
  }
}

function usageOf(messages: LlmMessage[], text: string): LlmUsage {
  const prompt = messages.reduce((n, m) => n + m.content.length, 0);
  return { promptTokens: prompt, completionTokens: text.length, totalTokens: prompt + text.length };
}

export function models(model: ChatModel | null): AgentModels & { asked: (string | undefined)[] } {
  const asked: (string | undefined)[] = [];
  return {
    asked,
    resolve: async (llmId) => {
      asked.push(llmId);
      return model;
    },
  };
}

export function chunk(id: string, content: string, doc = 'doc1'): ReferenceChunk {
  return {
    id,
    content,
    document_id: doc,
    document_name: `${doc}.txt`,
    dataset_id: 'ds1',
    image_id: '',
    positions: [],
    url: null,
    similarity: 0.8,
    vector_similarity: 0.7,
    term_similarity: 0.9,
    doc_type: '',
  };
}

/** A retrieval double over a fixed corpus: chunks whose content shares a word with the question. */
export class FakeRetrieval implements AgentRetrieval {
  readonly queries: RetrievalQuery[] = [];
  constructor(private readonly corpus: ReferenceChunk[]) {}
  async retrieve(q: RetrievalQuery): Promise<AgentReference> {
    this.queries.push(q);
    const words = q.question.toLowerCase().split(/\W+/).filter((w) => w.length > 3);
    const chunks = this.corpus.filter((c) => words.some((w) => c.content.toLowerCase().includes(w))).slice(0, q.topN);
    const aggs = new Map<string, number>();
    for (const c of chunks) aggs.set(c.document_id, (aggs.get(c.document_id) ?? 0) + 1);
    return { total: chunks.length, chunks, doc_aggs: [...aggs].map(([doc_id, count]) => ({ doc_id, doc_name: `${doc_id}.txt`, count })) };
  }
}

/** Drains a run: its events and its result. */
export async function collect(gen: AsyncGenerator<AgentEvent, RunResult>): Promise<{ events: AgentEvent[]; result: RunResult }> {
  const events: AgentEvent[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { events, result: r.value };
    events.push(r.value);
  }
}

export const messageText = (events: AgentEvent[]) =>
  events
    .filter((e): e is Extract<AgentEvent, { type: 'message' }> => e.type === 'message')
    .map((e) => e.text)
    .join('');
