import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the local server answers to one request. */
export interface LocalReply {
  /** the answer, as the pieces it is streamed in */
  pieces: string[];
  /** wait before the response headers (ms) */
  firstByteDelayMs?: number;
  /** wait between streamed pieces (ms) */
  pieceDelayMs?: number;
  /** answer with this HTTP error status and OpenAI error body instead */
  errorStatus?: number;
  errorMessage?: string;
  /** send headers and the first piece, then never finish (a stalled upstream) */
  stallAfterFirstPiece?: boolean;
  /** usage to report; omitted → counted as whitespace-separated words */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export interface LocalOpenAIServerOptions {
  reply: (body: { model: string; messages: { role: string; content: string }[]; stream?: boolean; [k: string]: unknown }) => LocalReply;
  /** expected `Authorization: Bearer <key>`; other keys get 401 */
  apiKey?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A small server speaking OpenAI's chat-completions protocol (JSON and SSE streaming, usage chunk,
 * error bodies). The provider tests, the end-to-end tests and the chat benchmark run the real client
 * against it, so what they measure is the platform, not a remote model.
 */
export class LocalOpenAIServer {
  private server?: Server;
  /** requests received / closed by the client before the answer ended / currently open */
  readonly stats = { requests: 0, clientAborts: 0, active: 0 };
  readonly bodies: Record<string, unknown>[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly opts: LocalOpenAIServerOptions) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || !/\/chat\/completions$/.test(req.url ?? '')) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.opts.apiKey && req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Parameters<LocalOpenAIServerOptions['reply']>[0];
    this.stats.requests++;
    this.stats.active++;
    this.bodies.push(body);
    if (this.bodies.length > 1000) this.bodies.splice(0, 500);
    let finished = false;
    res.on('close', () => {
      this.stats.active--;
      if (!finished) this.stats.clientAborts++;
    });
    const r = this.opts.reply(body);
    if (r.firstByteDelayMs) await sleep(r.firstByteDelayMs);
    if (res.destroyed) return;
    if (r.errorStatus) {
      finished = true;
      res.writeHead(r.errorStatus, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: r.errorMessage ?? 'upstream error', type: 'server_error' } }));
      return;
    }
    const text = r.pieces.join('');
    const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
    const promptTokens = body.messages.reduce((n, m) => n + words(m.content), 0);
    const usage = r.usage === undefined ? { prompt_tokens: promptTokens, completion_tokens: words(text), total_tokens: promptTokens + words(text) } : r.usage;
    const base = { id: 'chatcmpl-local', created: Math.floor(Date.now() / 1000), model: body.model, system_fingerprint: 'local' };
    if (!body.stream) {
      finished = true;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null }], ...(usage ? { usage } : {}) }),
      );
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    for (let i = 0; i < r.pieces.length; i++) {
      if (res.destroyed) return;
      send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: r.pieces[i] } : { content: r.pieces[i] }, finish_reason: null }] });
      if (r.stallAfterFirstPiece) return;
      if (r.pieceDelayMs) await sleep(r.pieceDelayMs);
    }
    if (res.destroyed) return;
    send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
    if (includeUsage && usage) send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    finished = true;
    res.end('data: [DONE]\n\n');
  }
}
