/** The real OpenAI-compatible provider (official `openai` client) against a local OpenAI-protocol server. */
import { LlmError, LocalOpenAIServer, OpenAICompatibleChatModel, type LlmDelta, type LocalReply } from '@ragnest/llm';

let reply: (body: { messages: { content: string }[] }) => LocalReply = () => ({ pieces: ['Hello', ', ', 'world', '.'] });
const server = new LocalOpenAIServer({ apiKey: 'sk-local', reply: (b) => reply(b) });
let baseUrl = '';

beforeAll(async () => {
  baseUrl = await server.start();
});
afterAll(() => server.stop());

const model = (over: Partial<ConstructorParameters<typeof OpenAICompatibleChatModel>[0]> = {}) =>
  new OpenAICompatibleChatModel({ baseUrl, apiKey: 'sk-local', model: 'local-model', timeoutMs: 2_000, ...over });

async function collect(it: AsyncIterable<LlmDelta>): Promise<LlmDelta[]> {
  const out: LlmDelta[] = [];
  for await (const d of it) out.push(d);
  return out;
}

const waitFor = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('id is name@factory', () => {
  expect(model().id).toBe('local-model@OpenAI-API-Compatible');
  expect(model({ factory: 'DeepSeek' }).id).toBe('local-model@DeepSeek');
});

test('streams the pieces in order, then the upstream usage', async () => {
  reply = () => ({ pieces: ['Hel', 'lo ', 'there'], usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } });
  const out = await collect(model().stream([{ role: 'user', content: 'hi' }], { temperature: 0.1, max_tokens: 50 }, new AbortController().signal));
  expect(out).toEqual([
    { type: 'text', text: 'Hel' },
    { type: 'text', text: 'lo ' },
    { type: 'text', text: 'there' },
    { type: 'usage', usage: { promptTokens: 11, completionTokens: 3, totalTokens: 14 } },
  ]);
  const sent = server.bodies.at(-1)!;
  expect(sent).toMatchObject({ model: 'local-model', stream: true, temperature: 0.1, max_tokens: 50, stream_options: { include_usage: true } });
  expect(sent.messages).toEqual([{ role: 'user', content: 'hi' }]);
});

test('reasoning_content is passed on inside <think> tags', async () => {
  reply = () => ({ reasoningPieces: ['Let me ', 'think.'], pieces: ['Answer', '.'], usage: null });
  const out = await collect(model().stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal));
  expect(out.flatMap((d) => (d.type === 'text' ? [d.text] : [])).join('')).toBe('<think>Let me think.</think>Answer.');
});

test('a server that reports no usage gets a token estimate', async () => {
  reply = () => ({ pieces: ['one two three'], usage: null });
  const out = await collect(model().stream([{ role: 'user', content: 'count please' }], {}, new AbortController().signal));
  const usage = out.find((d) => d.type === 'usage');
  expect(usage).toBeDefined();
  if (usage?.type !== 'usage') throw new Error('no usage');
  expect(usage.usage.completionTokens).toBe(3);
  expect(usage.usage.promptTokens).toBeGreaterThan(0);
  expect(usage.usage.totalTokens).toBe(usage.usage.promptTokens + 3);
});

test('complete() returns the whole text and usage', async () => {
  reply = () => ({ pieces: ['The answer', ' is 42.'], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } });
  const r = await model().complete([{ role: 'user', content: 'q' }], {}, new AbortController().signal);
  expect(r).toEqual({ text: 'The answer is 42.', usage: { promptTokens: 5, completionTokens: 4, totalTokens: 9 } });
});

test('an upstream HTTP error becomes an LlmError with its status and message', async () => {
  reply = () => ({ pieces: [], errorStatus: 400, errorMessage: 'model not found: nope' });
  const err = await collect(model().stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LlmError);
  expect((err as LlmError).status).toBe(400);
  expect((err as LlmError).message).toContain('model not found: nope');
  expect((err as LlmError).retryable).toBe(false);
  reply = () => ({ pieces: [], errorStatus: 503, errorMessage: 'overloaded' });
  const e2 = await model().complete([{ role: 'user', content: 'q' }], {}, new AbortController().signal).catch((e: unknown) => e);
  expect(e2).toBeInstanceOf(LlmError);
  expect((e2 as LlmError).retryable).toBe(true);
});

test('a wrong API key is reported, the key itself is not', async () => {
  reply = () => ({ pieces: ['x'] });
  const err = await model({ apiKey: 'sk-wrong-secret' }).complete([{ role: 'user', content: 'q' }], {}, new AbortController().signal).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LlmError);
  expect((err as LlmError).status).toBe(401);
  expect((err as LlmError).message).not.toContain('sk-wrong-secret');
});

test('no first byte within the timeout → LlmError 504, not a hang', async () => {
  reply = () => ({ pieces: ['late'], firstByteDelayMs: 1_500 });
  const started = Date.now();
  const err = await collect(model({ timeoutMs: 300 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LlmError);
  expect((err as LlmError).status).toBe(504);
  expect(Date.now() - started).toBeLessThan(1_400);
});

test('a stream that stalls midway times out after the idle timeout', async () => {
  reply = () => ({ pieces: ['first', 'never'], stallAfterFirstPiece: true });
  const seen: string[] = [];
  const err = await (async () => {
    for await (const d of model({ timeoutMs: 300 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)) {
      if (d.type === 'text') seen.push(d.text);
    }
  })().catch((e: unknown) => e);
  expect(seen).toEqual(['first']);
  expect(err).toBeInstanceOf(LlmError);
  expect((err as LlmError).message).toContain('did not answer within 300 ms');
  await waitFor(() => server.stats.active === 0);
});

test('a slow consumer is not mistaken for a stalled model', async () => {
  reply = () => ({ pieces: ['a', 'b', 'c'] });
  const seen: string[] = [];
  for await (const d of model({ timeoutMs: 200 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)) {
    if (d.type === 'text') seen.push(d.text);
    await new Promise((r) => setTimeout(r, 350));
  }
  expect(seen).toEqual(['a', 'b', 'c']);
});

test('aborting the signal mid-stream closes the upstream request', async () => {
  reply = () => ({ pieces: Array.from({ length: 50 }, (_, i) => `p${i} `), pieceDelayMs: 20 });
  const before = server.stats.clientAborts;
  const ctl = new AbortController();
  const seen: string[] = [];
  const err = await (async () => {
    for await (const d of model().stream([{ role: 'user', content: 'q' }], {}, ctl.signal)) {
      if (d.type === 'text') seen.push(d.text);
      if (seen.length === 3) ctl.abort();
    }
  })().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(LlmError);
  expect(seen).toHaveLength(3);
  await waitFor(() => server.stats.clientAborts === before + 1);
});

test('a consumer that stops iterating early also closes the upstream request', async () => {
  reply = () => ({ pieces: Array.from({ length: 50 }, (_, i) => `p${i} `), pieceDelayMs: 20 });
  const before = server.stats.clientAborts;
  for await (const d of model().stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)) {
    if (d.type === 'text') break;
  }
  await waitFor(() => server.stats.clientAborts === before + 1);
});

test('an unreachable server is a clear LlmError', async () => {
  const err = await model({ baseUrl: 'http://127.0.0.1:9/v1' }).complete([{ role: 'user', content: 'q' }], {}, new AbortController().signal).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LlmError);
  expect((err as LlmError).message).toContain('Cannot reach the model');
});
