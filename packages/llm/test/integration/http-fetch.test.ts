/** httpFetch: the transport the official `openai` client uses (node:http, keep-alive), as a fetch. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { httpFetch } from '../../src/http-fetch.js';

let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');
let connections = 0;
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 10_000;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('sends method, headers and body; returns status, headers and body', async () => {
  handler = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.writeHead(201, { 'Content-Type': 'application/json', 'X-Request-Id': 'r1' }).end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body: Buffer.concat(chunks).toString() })));
  };
  const res = await httpFetch(`${base}/v1/x`, { method: 'POST', headers: new Headers({ Authorization: 'Bearer k' }), body: '{"a":"é"}' });
  expect(res.status).toBe(201);
  expect(res.ok).toBe(true);
  expect(res.headers.get('x-request-id')).toBe('r1');
  expect(await res.json()).toEqual({ method: 'POST', auth: 'Bearer k', body: '{"a":"é"}' });
});

test('keeps the connection alive across requests', async () => {
  handler = (_req, res) => res.end('ok');
  await (await httpFetch(`${base}/warm`)).text();
  const before = connections;
  for (let i = 0; i < 5; i++) expect(await (await httpFetch(`${base}/again`)).text()).toBe('ok');
  expect(connections).toBe(before);
});

test('a compressed body is decoded', async () => {
  handler = (_req, res) => res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(gzipSync('data: hello\n\n'));
  expect(await (await httpFetch(`${base}/gz`)).text()).toBe('data: hello\n\n');
});

test('an error status is a response, not a rejection', async () => {
  handler = (_req, res) => res.writeHead(503).end('busy');
  const res = await httpFetch(`${base}/err`);
  expect([res.status, res.ok, await res.text()]).toEqual([503, false, 'busy']);
});

test('aborting rejects with an AbortError before the headers, and errors the body after them', async () => {
  handler = () => undefined; // never answers
  const early = new AbortController();
  const pending = httpFetch(`${base}/hang`, { signal: early.signal });
  setTimeout(() => early.abort(), 20);
  await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

  handler = (_req, res) => res.writeHead(200, { 'Content-Type': 'text/event-stream' }).write('data: 1\n\n');
  const late = new AbortController();
  const res = await httpFetch(`${base}/stream`, { signal: late.signal });
  const reader = res.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: 1\n\n');
  late.abort();
  await expect(reader.read()).rejects.toBeDefined();
});

test('an unreachable server rejects', async () => {
  await expect(httpFetch('http://127.0.0.1:1/x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});
