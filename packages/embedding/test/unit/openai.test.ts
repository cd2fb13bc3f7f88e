import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createEmbeddingProvider,
  OpenAICompatibleEmbedder,
  parseRetryAfter,
  PermanentEmbeddingError,
} from '../../src/index.js';

interface Seen {
  body: { model: string; input: string[] };
  headers: IncomingMessage['headers'];
  url: string;
}
type Handler = (req: Seen, res: ServerResponse) => void | Promise<void>;

/** Deterministic fake embedding: [len, code of first char, 1, 0, …] (before normalisation). */
function fakeVector(text: string, dim = 4): number[] {
  const v = new Array<number>(dim).fill(0);
  v[0] = text.length;
  v[1] = text.charCodeAt(0) || 0;
  v[2] = 1;
  return v;
}

function ok(res: ServerResponse, input: string[], opts: { reverse?: boolean; dim?: number } = {}): void {
  let data = input.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t, opts.dim) }));
  if (opts.reverse) data = data.reverse();
  res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ object: 'list', data, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }));
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // connection: close, so a test's requests never ride on a socket pooled by an earlier test
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...headers });
  res.end(JSON.stringify(body));
}

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('OpenAICompatibleEmbedder against a local OpenAI-protocol server', () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;
  let seen: Seen[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const s: Seen = { body: JSON.parse(Buffer.concat(chunks).toString() || '{}'), headers: req.headers, url: req.url ?? '' };
        seen.push(s);
        void handler(s, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen = [];
    handler = (s, res) => ok(res, s.body.input);
  });

  const make = (o: Partial<ConstructorParameters<typeof OpenAICompatibleEmbedder>[0]> = {}): OpenAICompatibleEmbedder =>
    new OpenAICompatibleEmbedder({ baseUrl, model: 'bge-m3', retryBaseDelayMs: 5, maxRetryDelayMs: 50, ...o });

  test('posts {model, input} to /embeddings with the API key and names the model', async () => {
    const e = make({ apiKey: 'sk-test', baseUrl: `${baseUrl}/`, providerName: 'Ollama' });
    expect(e.modelId).toBe('bge-m3@Ollama');
    expect(make().modelId).toBe('bge-m3@OpenAI-API-Compatible');
    const [v] = await e.embed(['hello']);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('/v1/embeddings');
    expect(seen[0]?.body).toEqual({ model: 'bge-m3', input: ['hello'] });
    expect(seen[0]?.headers.authorization).toBe('Bearer sk-test');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(v).toBeInstanceOf(Float32Array);
    expect(norm(v as Float32Array)).toBeCloseTo(1, 5);
    // direction preserved: [5, 104, 1, 0] normalised
    const raw = fakeVector('hello');
    const n = Math.hypot(...raw);
    expect(Array.from(v as Float32Array).map((x) => +x.toFixed(5))).toEqual(raw.map((x) => +(x / n).toFixed(5)));
  });

  test('no Authorization header without an API key; empty input makes no request', async () => {
    await make().embed(['x']);
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(await make().embed([])).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  test('batches in order with batchSize and keeps results in input order', async () => {
    const texts = Array.from({ length: 37 }, (_, i) => `text number ${i}${'x'.repeat(i)}`);
    const out = await make({ batchSize: 16 }).embed(texts);
    expect(seen.map((s) => s.body.input.length)).toEqual([16, 16, 5]);
    expect(seen.flatMap((s) => s.body.input)).toEqual(texts);
    expect(out).toHaveLength(37);
    out.forEach((v, i) => {
      const raw = fakeVector(texts[i] as string);
      const n = Math.hypot(...raw);
      expect(v[0]).toBeCloseTo((raw[0] as number) / n, 5);
    });
  });

  test('default batch size is 16', async () => {
    await make().embed(Array.from({ length: 20 }, (_, i) => `t${i}`));
    expect(seen.map((s) => s.body.input.length)).toEqual([16, 4]);
  });

  test('orders results by index, not by position in data', async () => {
    handler = (s, res) => ok(res, s.body.input, { reverse: true });
    const texts = ['a', 'bb', 'ccc', 'dddd'];
    const out = await make().embed(texts);
    out.forEach((v, i) => {
      const raw = fakeVector(texts[i] as string);
      expect(v[0]).toBeCloseTo((raw[0] as number) / Math.hypot(...raw), 5);
    });
  });

  test('retries 429 and 503 with backoff, then succeeds', async () => {
    let n = 0;
    handler = (s, res) => {
      n++;
      if (n === 1) return json(res, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '0' });
      if (n === 2) return json(res, 503, { error: 'model is loading' });
      ok(res, s.body.input);
    };
    const out = await make().embed(['a', 'b']);
    expect(out).toHaveLength(2);
    expect(seen).toHaveLength(3);
    expect(seen.every((s) => s.body.input.join() === 'a,b')).toBe(true);
  });

  test('honours Retry-After', async () => {
    let n = 0;
    handler = (s, res) => {
      if (++n === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' });
      ok(res, s.body.input);
    };
    const t0 = Date.now();
    await make({ maxRetryDelayMs: 5000 }).embed(['a']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
  });

  test('gives up after maxRetries with a transient (non-permanent) error naming the cause', async () => {
    handler = (_s, res) => json(res, 500, { detail: 'CUDA out of memory' });
    const err = await make({ maxRetries: 2 }).embed(['a']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentEmbeddingError);
    expect((err as Error).message).toMatch(/failed after 3 attempt\(s\).*HTTP 500: CUDA out of memory/);
    expect(seen).toHaveLength(3);
  });

  test('401 is permanent, not retried, and carries the provider message', async () => {
    handler = (_s, res) =>
      json(res, 401, { error: { message: 'Incorrect API key provided: sk-bad', type: 'invalid_request_error' } });
    const err = await make({ apiKey: 'sk-bad' }).embed(['a']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentEmbeddingError);
    expect((err as PermanentEmbeddingError).permanent).toBe(true);
    expect((err as Error).message).toContain('HTTP 401: Incorrect API key provided: sk-bad');
    expect(seen).toHaveLength(1);
  });

  test.each([
    [400, { error: 'input is too long' }, 'HTTP 400: input is too long'],
    [403, { message: 'forbidden for this project' }, 'HTTP 403: forbidden for this project'],
    [404, { error: { message: 'model "nope" not found, try pulling it first' } }, 'model "nope" not found'],
  ])('%i is permanent with the message', async (status, body, expected) => {
    handler = (_s, res) => json(res, status, body);
    const err = await make().embed(['a']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentEmbeddingError);
    expect((err as Error).message).toContain(expected);
    expect(seen).toHaveLength(1);
  });

  test('a plain-text error body is still reported', async () => {
    handler = (_s, res) => {
      res.writeHead(404, { 'content-type': 'text/plain', connection: 'close' });
      res.end('404 page not found');
    };
    await expect(make().embed(['a'])).rejects.toThrow('HTTP 404: 404 page not found');
  });

  test('a request that exceeds timeoutMs is abandoned and retried', async () => {
    let n = 0;
    handler = (s, res) => {
      if (++n === 1) return; // never answer
      ok(res, s.body.input);
    };
    const t0 = Date.now();
    const out = await make({ timeoutMs: 200 }).embed(['a']);
    expect(out).toHaveLength(1);
    expect(seen).toHaveLength(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  test('persistent timeouts end in a clear error', async () => {
    handler = () => undefined;
    await expect(make({ timeoutMs: 100, maxRetries: 1 }).embed(['a'])).rejects.toThrow(
      /failed after 2 attempt\(s\): timed out after 100 ms/,
    );
    expect(seen).toHaveLength(2);
  });

  test('a body that stalls after the headers also times out', async () => {
    handler = (_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.write('{"data": [');
    };
    await expect(make({ timeoutMs: 150, maxRetries: 0 }).embed(['a'])).rejects.toThrow(/timed out after 150 ms/);
  });

  test('network errors are retried', async () => {
    let n = 0;
    handler = (s, res) => {
      if (++n === 1) {
        res.socket?.destroy();
        return;
      }
      ok(res, s.body.input);
    };
    expect(await make().embed(['a'])).toHaveLength(1);
    expect(seen).toHaveLength(2);
  });

  test('connection refused ends in a network error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = new OpenAICompatibleEmbedder({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      model: 'm',
      maxRetries: 1,
      retryBaseDelayMs: 1,
    });
    await expect(e.embed(['a'])).rejects.toThrow(/failed after 2 attempt\(s\): network error: ECONNREFUSED/);
  });

  test.each([
    ['not JSON', () => '<html>Welcome to nginx</html>', /not JSON: <html>Welcome to nginx/],
    ['no data', () => JSON.stringify({ embeddings: [[1, 2]] }), /missing "data" array/],
    ['count mismatch', () => JSON.stringify({ data: [{ index: 0, embedding: [1, 2] }] }), /expected 2 embeddings, got 1/],
    [
      'non-numeric values',
      () => JSON.stringify({ data: [0, 1].map((index) => ({ index, embedding: [1, 'x'] })) }),
      /embedding\[1\] is not a number/,
    ],
    [
      'bad index',
      () => JSON.stringify({ data: [0, 5].map((index) => ({ index, embedding: [1, 2] })) }),
      /index 5 out of range/,
    ],
    [
      'duplicate index',
      () => JSON.stringify({ data: [0, 0].map((index) => ({ index, embedding: [1, 2] })) }),
      /duplicate index 0/,
    ],
    [
      'ragged dimensions',
      () => JSON.stringify({ data: [{ index: 0, embedding: [1, 2] }, { index: 1, embedding: [1, 2, 3] }] }),
      /different lengths/,
    ],
    [
      'zero vector',
      () => JSON.stringify({ data: [0, 1].map((index) => ({ index, embedding: [0, 0] })) }),
      /zero or non-finite vector/,
    ],
    ['embedding missing', () => JSON.stringify({ data: [{ index: 0 }, { index: 1 }] }), /not an array of numbers/],
  ])('malformed response (%s) → clear permanent error', async (_name, body, expected) => {
    handler = (_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(body());
    };
    const err = await make().embed(['a', 'b']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentEmbeddingError);
    expect((err as Error).message).toMatch(/malformed embeddings response|zero or non-finite/);
    expect((err as Error).message).toMatch(expected);
    expect(seen).toHaveLength(1);
  });

  test('accepts base64-encoded float32 embeddings', async () => {
    handler = (s, res) => {
      const data = s.body.input.map((_t, index) => {
        const b = Buffer.alloc(8);
        b.writeFloatLE(3, 0);
        b.writeFloatLE(4, 4);
        return { index, embedding: b.toString('base64') };
      });
      json(res, 200, { data });
    };
    const [v] = await make().embed(['a']);
    expect(Array.from(v as Float32Array).map((x) => +x.toFixed(5))).toEqual([0.6, 0.8]);
  });

  test('dimension(): configured → no request; otherwise discovered once with "ok"', async () => {
    expect(await make({ dimension: 4 }).dimension()).toBe(4);
    expect(seen).toHaveLength(0);
    handler = (s, res) => ok(res, s.body.input, { dim: 7 });
    const e = make();
    const [d1, d2] = await Promise.all([e.dimension(), e.dimension()]);
    expect(d1).toBe(7);
    expect(d2).toBe(7);
    expect(await e.dimension()).toBe(7);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body.input).toEqual(['ok']);
  });

  test('a dimension mismatch is a permanent configuration error', async () => {
    handler = (s, res) => ok(res, s.body.input, { dim: 8 });
    await expect(make({ dimension: 4 }).embed(['a'])).rejects.toThrow(
      /returned 8-dimensional vectors, expected 4/,
    );
  });

  test('empty strings are sent as a space and long inputs are truncated', async () => {
    await make({ maxInputChars: 10 }).embed(['', 'abcdefghijklmnop', 'short']);
    expect(seen[0]?.body.input).toEqual([' ', 'abcdefghij', 'short']);
  });

  test('an abort during a request rejects promptly with the abort reason and stops', async () => {
    handler = () => undefined; // hang
    const ctl = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ctl.abort(), 100);
    const err = await make({ timeoutMs: 10_000 }).embed(['a', 'b'], ctl.signal).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(seen).toHaveLength(1);
  });

  test('an abort during backoff stops retrying', async () => {
    handler = (_s, res) => json(res, 503, { error: 'busy' });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('job cancelled')), 150);
    const e = make({ retryBaseDelayMs: 1000, maxRetryDelayMs: 1000, maxRetries: 5 });
    await expect(e.embed(['a'], ctl.signal)).rejects.toThrow('job cancelled');
    expect(seen).toHaveLength(1);
  });

  test('an already-aborted signal makes no request', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(make().embed(['a'], ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(0);
  });

  test('createEmbeddingProvider builds and validates the remote provider', async () => {
    const p = createEmbeddingProvider({ provider: 'openai', baseUrl, model: 'bge-m3', batchSize: 2, tokenize: () => [] });
    expect(p).toBeInstanceOf(OpenAICompatibleEmbedder);
    expect(p.modelId).toBe('bge-m3@OpenAI-API-Compatible');
    await p.embed(['a', 'b', 'c']);
    expect(seen.map((s) => s.body.input.length)).toEqual([2, 1]);
    expect(() => createEmbeddingProvider({ provider: 'openai', model: 'm', tokenize: () => [] })).toThrow(/baseUrl/);
    expect(() => createEmbeddingProvider({ provider: 'openai', baseUrl, tokenize: () => [] })).toThrow(/model/);
  });
});

describe('parseRetryAfter', () => {
  test('seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
