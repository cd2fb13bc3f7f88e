/** The real OpenAI-compatible provider (official `openai` client) against a local OpenAI-protocol server. */
import { LlmError, LocalOpenAIServer, OpenAICompatibleChatModel, type LlmDelta, type LocalReply } from '@ragnest/llm';

let reply: (body: { messages: { content: string }[] }) => LocalReply = () => ({ pieces: ['Hello', ', ', 'world', '.'] });
const server = new LocalOpenAIServer({ apiKey: 'sk-local', reply: (b) => reply(b) });
let baseUrl = '';

beforeAll(async () => {
  baseUrl = await server.start();
});
afterAll(() => server.stop());

// piece by piece (batchMs 0): these tests are about the protocol; batching has its own tests below
const model = (over: Partial<ConstructorParameters<typeof OpenAICompatibleChatModel>[0]> = {}) =>
  new OpenAICompatibleChatModel({ baseUrl, apiKey: 'sk-local', model: 'local-model', timeoutMs: 2_000, batchMs: 0, ...over });

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

describe('reading a fast stream in batches (batchMs)', () => {
  const texts = (out: LlmDelta[]) => out.flatMap((d) => (d.type === 'text' ? [d.text] : []));

  test('the first piece is handed on at once; pieces that arrive within batchMs after it come together, in order', async () => {
    reply = () => ({ pieces: ['p0 ', 'p1 ', 'p2 ', 'p3 ', 'p4'], pieceDelayMs: 50, usage: null });
    const out = await collect(model({ batchMs: 200 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal));
    const t = texts(out);
    expect(t.join('')).toBe('p0 p1 p2 p3 p4');
    // p0 alone, then what arrived in the next 200 ms (p1-p3), then the rest: never one hand-on per piece
    expect(t[0]).toBe('p0 ');
    expect(t.length).toBeLessThanOrEqual(3);
    expect(out.at(-1)?.type).toBe('usage');
  });

  test('reasoning and answer text keep their <think> framing when batched together', async () => {
    reply = () => ({ reasoningPieces: ['Let me ', 'think.'], pieces: ['Answer', '.'], usage: null });
    const out = await collect(model({ batchMs: 200 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal));
    expect(texts(out).join('')).toBe('<think>Let me think.</think>Answer.');
  });

  test('waiting between batches is not counted as the model being idle', async () => {
    // each wait for the next batch (300 ms) is longer than the idle timeout (150 ms)
    reply = () => ({ pieces: ['a', 'b', 'c', 'd'], pieceDelayMs: 100 });
    const out = await collect(model({ batchMs: 300, timeoutMs: 150 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal));
    expect(texts(out).join('')).toBe('abcd');
  });

  test('a model that stalls between batches still times out', async () => {
    reply = () => ({ pieces: ['a', 'b'], stallAfterFirstPiece: true });
    const err = await collect(model({ batchMs: 50, timeoutMs: 300 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).message).toMatch(/did not answer within 300 ms/);
  });
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
  const streamed = await collect(model({ baseUrl: 'http://127.0.0.1:9/v1' }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)).catch((e: unknown) => e);
  expect(streamed).toBeInstanceOf(LlmError);
  expect((streamed as LlmError).message).toContain('Cannot reach the model local-model@OpenAI-API-Compatible: connect ECONNREFUSED');
  expect((streamed as LlmError).retryable).toBe(true);
});

describe('the streaming protocol from a raw server', () => {
  // answers every request with what `respond` writes, counting connections
  let respond: (res: import('node:http').ServerResponse) => void = (res) => res.end();
  let connections = 0;
  let raw: import('node:http').Server;
  let rawUrl = '';
  const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
  beforeAll(async () => {
    const { createServer } = await import('node:http');
    raw = createServer((req, res) => {
      req.resume();
      req.on('end', () => respond(res));
    });
    raw.keepAliveTimeout = 10_000;
    raw.on('connection', () => connections++);
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    rawUrl = `http://127.0.0.1:${(raw.address() as import('node:net').AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    raw.closeAllConnections();
    await new Promise((r) => raw.close(r));
  });
  const texts = async (m = model({ baseUrl: rawUrl })) =>
    (await collect(m.stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal))).flatMap((d) => (d.type === 'text' ? [d.text] : []));

  test('events split across packets, CRLF lines and comments are read; the connection is kept for the next call', async () => {
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const body = `: keep-alive\r\n\r\n${chunk('Hel')}${chunk('lo')}`.replace(/\n\n/g, '\r\n\r\n');
      res.write(body.slice(0, 17));
      setTimeout(() => res.end(`${body.slice(17)}data: [DONE]\n\n`), 20);
    };
    const before = connections;
    expect(await texts()).toEqual(['Hel', 'lo']);
    expect(await texts()).toEqual(['Hel', 'lo']);
    expect(connections - before).toBe(1);
  });

  test('"error": null in ordinary chunks is not an error', async () => {
    respond = (res) =>
      res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'fine' } }], error: null })}\n\ndata: [DONE]\n\n`);
    expect(await texts()).toEqual(['fine']);
  });

  test('nothing after [DONE] is taken as answer', async () => {
    respond = (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end(`${chunk('a')}data: [DONE]\n\n${chunk('b')}`);
    expect(await texts()).toEqual(['a']);
  });

  test('a server that holds the response open after [DONE] does not hold up the answer', async () => {
    let held: import('node:http').ServerResponse | undefined;
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`${chunk('done')}data: [DONE]\n\n`);
      held = res;
    };
    const started = Date.now();
    const out = await collect(model({ baseUrl: rawUrl, timeoutMs: 5_000 }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal));
    expect(out.filter((d) => d.type === 'text')).toEqual([{ type: 'text', text: 'done' }]);
    expect(out.at(-1)?.type).toBe('usage');
    // cut off after a one-second grace, long before the five-second idle timeout
    expect(Date.now() - started).toBeLessThan(2_500);
    held?.end();
  });

  test('a gzip-compressed stream is decoded', async () => {
    const { gzipSync } = await import('node:zlib');
    respond = (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Encoding': 'gzip' }).end(gzipSync(`${chunk('zip')}${chunk('ped')}data: [DONE]\n\n`));
    expect(await texts()).toEqual(['zip', 'ped']);
  });

  test('an error event mid-stream is an LlmError with the provider message, after the pieces before it', async () => {
    respond = (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end(`${chunk('partial')}data: {"error":{"message":"context length exceeded"}}\n\n`);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const d of model({ baseUrl: rawUrl }).stream([{ role: 'user', content: 'q' }], {}, new AbortController().signal)) if (d.type === 'text') seen.push(d.text);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['partial']);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).message).toBe('The model local-model@OpenAI-API-Compatible failed: context length exceeded');
  });

  test('an unreadable event is an LlmError naming it', async () => {
    respond = (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end('data: {not json\n\n');
    const err = await texts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).message).toContain('unreadable stream event: {not json');
  });

  test('an error status with a plain-text body reports that text', async () => {
    respond = (res) => res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway upstream');
    const err = await texts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).message).toBe('The model local-model@OpenAI-API-Compatible failed (HTTP 502): bad gateway upstream');
    expect((err as LlmError).retryable).toBe(true);
  });

  test('a connection cut mid-stream is an LlmError, not a quiet end', async () => {
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(chunk('cut'));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const err = await texts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).message).toContain('stopped streaming');
  });

  test('aborting a gzip-compressed stream ends the iteration', async () => {
    const { createGzip } = await import('node:zlib');
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Encoding': 'gzip' });
      const z = createGzip();
      z.pipe(res);
      z.write(chunk('first'));
      z.flush();
    };
    const ctl = new AbortController();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const d of model({ baseUrl: rawUrl }).stream([{ role: 'user', content: 'q' }], {}, ctl.signal)) {
        if (d.type === 'text') seen.push(d.text);
        ctl.abort();
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['first']);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(LlmError);
  });
});
