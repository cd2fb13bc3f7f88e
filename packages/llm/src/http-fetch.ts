import http from 'node:http';
import https from 'node:https';
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';

/**
 * node:http(s) with keep-alive agents for model calls: `httpRequest` (the streaming chat path reads the
 * body as a Node stream) and `httpFetch`, a `fetch` on top of it for the official `openai` client (its
 * `fetch` option), which stays in charge of that protocol (request building, errors, timeouts); only the
 * transport changes. Node's built-in fetch (undici's WHATWG implementation) cost about a third more CPU per
 * streamed completion in the api (measured 3.8 → 2.6 ms per 32-piece stream, the bench's model) and chat
 * streams are the api's hottest path. Requests it cannot send as plain bytes (a stream or form body) go to
 * the built-in fetch. Redirects are not followed: a model endpoint that redirects is a configuration error,
 * and the status reaches the caller as the provider's HTTP error.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

function abortError(): Error {
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** The body as bytes to send, or undefined when the built-in fetch must take the request. */
function plainBody(body: unknown): string | Uint8Array | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return undefined;
}

/** Decodes a compressed body (a server may compress even though no Accept-Encoding was sent); destroying the result destroys the response. */
function decoded(res: http.IncomingMessage): Readable {
  const inflate = (z: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress) => pipeline(res, z, () => undefined);
  switch (res.headers['content-encoding']) {
    case 'gzip':
    case 'x-gzip':
      return inflate(zlib.createGunzip());
    case 'deflate':
      return inflate(zlib.createInflate());
    case 'br':
      return inflate(zlib.createBrotliDecompress());
    default:
      return res;
  }
}

/** A response as node:http gives it: the body decoded (gzip, deflate, br) and readable as a Node stream. */
export interface RawResponse {
  status: number;
  statusText: string;
  /** header name/value pairs as received */
  rawHeaders: string[];
  body: Readable;
}

/**
 * One request over the keep-alive agents. `signal` aborts the request and, until it has been read to its
 * end, the response body. Rejects with the connection error (ECONNREFUSED…) or an AbortError.
 */
export function httpRequest(url: URL, init: { method: string; headers: Record<string, string>; body: string | Uint8Array | null; signal?: AbortSignal | null }): Promise<RawResponse> {
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new Error(`Unsupported protocol ${url.protocol}`));
  const signal = init.signal;
  if (signal?.aborted) return Promise.reject(abortError());
  const headers = init.body !== null ? { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) } : init.headers;
  return new Promise<RawResponse>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: init.method, headers, agent });
    let body: Readable | undefined;
    const onAbort = () => {
      req.destroy(abortError());
      body?.destroy(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (err) => {
      done();
      reject(err);
    });
    req.on('response', (res) => {
      res.on('close', done);
      body = decoded(res);
      resolve({ status: res.statusCode ?? 502, statusText: res.statusMessage ?? '', rawHeaders: res.rawHeaders, body });
    });
    req.end(init.body ?? undefined);
  });
}

export const httpFetch = (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const body = plainBody(init.body);
  if (!(url.protocol in agents) || body === undefined || typeof input === 'object' && !(input instanceof URL)) return fetch(input, init);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const method = init.method ?? 'GET';
  const res = await httpRequest(url, { method, headers, body, signal: init.signal });
  const h = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
  // fetch gives no body for these statuses (Response refuses one)
  const empty = res.status === 204 || res.status === 205 || res.status === 304 || method === 'HEAD';
  if (empty) res.body.resume();
  return new Response(empty ? null : (Readable.toWeb(res.body) as ReadableStream<Uint8Array>), { status: res.status, statusText: res.statusText, headers: h });
}) as typeof fetch;
