// Chat overhead over the model: time to first answer byte and total time of streaming chat completions,
// minus the same figures measured directly against the model (a local OpenAI-protocol server with a fixed
// first-byte delay and pace), at the same concurrency. Used by run.mjs (`--chat N`).
import http from 'node:http';
import { LocalOpenAIServer } from '../../packages/llm/dist/index.js';
import { serverCpuDelta, serverCpuTicks } from './proc.mjs';

// BENCH_PIECES changes the piece count (e.g. 4 vs 32 separates the api's cost per request from its cost per piece)
const PIECES = Number(process.env.BENCH_PIECES ?? 32);
const FIRST_BYTE_MS = 50;
const PIECE_MS = 5;

/** The model: 32 pieces (BENCH_PIECES), 50 ms to the first, 5 ms apart. */
export async function startChatModel() {
  const server = new LocalOpenAIServer({
    reply: () => ({
      pieces: Array.from({ length: PIECES }, (_, i) => `Foxes eat rodents and fruit, piece ${i}. `),
      firstByteDelayMs: FIRST_BYTE_MS,
      pieceDelayMs: PIECE_MS,
    }),
  });
  const baseUrl = await server.start();
  return { server, baseUrl };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// The clients use node:http with kept-alive sockets: the bench shares the machine's cores with the stack it
// measures, and Node's fetch (undici, WHATWG streams) cost it about twice the CPU per streamed request.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

/**
 * Streams one POST; returns ms to the first chunk carrying answer text (`isContent` on what arrived so far)
 * and ms to the end. A request that fails, or a stream that ends without answer text, rejects. A request sent
 * on a kept-alive socket the server had just closed is sent again once (Node's documented pattern).
 */
export function timed(url, headers, body, isContent, retried = false) {
  const u = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length, ...headers } },
      (res) => {
        let ttfb = 0;
        let head = '';
        res.on('data', (d) => {
          if (ttfb) return;
          head += d.toString('utf8');
          if (res.statusCode === 200 && isContent(head)) ttfb = performance.now() - t0;
        });
        res.on('end', () => {
          if (ttfb) resolve({ ttfb, total: performance.now() - t0 });
          else reject(new Error(`POST ${u.pathname}: ${res.statusCode}, no answer text: ${head.slice(0, 300)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err) => {
      if (!retried && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) resolve(timed(url, headers, body, isContent, true));
      else reject(err);
    });
    req.end(payload);
  });
}

export async function pool(n, concurrency, fn) {
  const out = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) out.push(await fn(next++));
    }),
  );
  const ttfb = out.map((r) => r.ttfb).sort((a, b) => a - b);
  const total = out.map((r) => r.total).sort((a, b) => a - b);
  return { n: out.length, ttfbP50: pct(ttfb, 50), ttfbP95: pct(ttfb, 95), totalP50: pct(total, 50), totalP95: pct(total, 95) };
}

/**
 * @param {{ base: string, key: string, modelUrl: string, requests: number, concurrency: number,
 *           call: Function, upload: Function, waitDone: Function, cpu?: () => Record<string, number>, dbName?: string,
 *           quiet?: () => Promise<void> }} o  quiet: waits for the stack to idle before the measured streams
 */
export async function chatOverhead(o) {
  // an assistant over a small parsed dataset, so retrieval and citations are part of the path
  const ds = await o.call('POST', '/api/v1/datasets', { name: `bench-chat-${Date.now()}` });
  const content = Buffer.from(
    Array.from({ length: 40 }, (_, i) => `Foxes are small omnivorous mammals; fox number ${i} eats rodents, fruit and insects near lake ${i}.`).join('\n\n'),
  );
  await o.upload(ds.id, [{ name: 'foxes.txt', content }]);
  const docs = await o.call('GET', `/api/v1/datasets/${ds.id}/documents`);
  await o.call('POST', `/api/v1/datasets/${ds.id}/chunks`, { document_ids: docs.docs.map((d) => d.id) });
  await o.waitDone(ds.id, 1);
  const chat = await o.call('POST', '/api/v1/chats', { name: `bench-chat-${Date.now()}`, dataset_ids: [ds.id] });
  // The warm-up is as long as the measured run: after 50 requests V8 was still compiling the chat path
  // (perf: a fifth of the api's CPU on TurboFan threads in the measured window, and every app's CPU per request
  // 10-35% above its steady state), so the figures measured the JIT's start-up, not the server.
  // BENCH_CHAT_WARMUP overrides it (the figures before 2026-11-30 used 50).
  const warm = Number(process.env.BENCH_CHAT_WARMUP ?? Math.max(50, o.requests));
  const sessions = [];
  for (let i = 0; i < o.requests + warm; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, o.requests + warm - i) }, () => o.call('POST', `/api/v1/chats/${chat.id}/sessions`, {})));
    sessions.push(...batch.map((s) => s.id));
  }
  const direct = (i) =>
    timed(`${o.modelUrl}/chat/completions`, {}, { model: 'bench', stream: true, messages: [{ role: 'user', content: `question ${i}` }] }, (b) => b.includes('"content"'));
  const viaChat = (i) =>
    timed(
      `${o.base}/api/v1/chats/${chat.id}/completions`,
      { Authorization: `Bearer ${o.key}` },
      { question: `What do foxes eat? (${i})`, stream: true, session_id: sessions[i] },
      (b) => /"answer":"[^"]/.test(b),
    );
  await pool(warm, Math.min(o.concurrency, warm), (i) => viaChat(o.requests + i)); // warm-up
  await o.quiet?.();
  const model = await pool(o.requests, o.concurrency, direct);
  const cpu0 = o.cpu?.() ?? {};
  const server0 = serverCpuTicks(o.dbName);
  const self0 = process.cpuUsage();
  const mono0 = process.hrtime.bigint() / 1000n;
  const chatRes = await pool(o.requests, o.concurrency, viaChat);
  const cpu1 = o.cpu?.() ?? {};
  // this process is the model server and the clients; postgres: the backends of the bench's database when known
  const self = process.cpuUsage(self0);
  const local = {
    'bench (model + clients)': (self.user + self.system) / 1e6,
    [o.dbName ? 'postgres (bench database)' : 'postgres (machine-wide)']: serverCpuDelta(server0, serverCpuTicks(o.dbName)).postgres,
  };
  for (const [k, v] of Object.entries(local)) {
    cpu0[k] = 0;
    cpu1[k] = v;
  }
  // the measured window on the monotonic clock (µs), the clock of V8 CPU profiles (BENCH_CPU_PROFILE)
  if (process.env.BENCH_CPU_PROFILE) console.log(`[bench]   chat window (monotonic µs): ${mono0}-${process.hrtime.bigint() / 1000n}`);
  // CPU milliseconds per chat request, by app (apps only when run.mjs booted the stack); postgres: the
  // backends alive at the end (the apps' pools keep theirs)
  const cpuMsPerRequest = Object.fromEntries(Object.keys(cpu1).map((app) => [app, Number(((1000 * (cpu1[app] - (cpu0[app] ?? 0))) / o.requests).toFixed(2))]));
  return {
    requests: o.requests,
    concurrency: o.concurrency,
    model,
    chat: chatRes,
    cpuMsPerRequest,
    overheadMs: {
      ttfbP50: chatRes.ttfbP50 - model.ttfbP50,
      ttfbP95: chatRes.ttfbP95 - model.ttfbP95,
      totalP50: chatRes.totalP50 - model.totalP50,
      totalP95: chatRes.totalP95 - model.totalP95,
    },
  };
}
