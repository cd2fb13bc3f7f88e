/**
 * Load: 500 concurrent streaming completions held by one api process with bounded memory, while a client that
 * reads nothing holds a very long answer open (backpressure pauses it; it must not slow or break the others).
 * Counts and bounds only — latency is measured by `npm run bench -- --chat`, not asserted here.
 */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { LocalOpenAIServer } from '@ragnest/llm';
import { RagflowHttp, startStack, type Stack } from '@ragnest/testkit';

const model = new LocalOpenAIServer({
  reply: (body) => {
    const last = body.messages[body.messages.length - 1]?.content ?? '';
    if (last === 'very long answer') return { pieces: Array.from({ length: 1500 }, (_, i) => `token${i} `) };
    return { pieces: Array.from({ length: 20 }, (_, i) => `w${i} `), pieceDelayMs: 25 };
  },
});
let stack: Stack;
let api: RagflowHttp;

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

beforeAll(async () => {
  const url = await model.start();
  stack = await startStack({ label: 'chatload', env: { LLM_BASE_URL: url, LLM_MODEL: 'm', LOG_LEVEL: 'error' } });
  api = new RagflowHttp(stack.baseUrl, stack.apiKey);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await model.stop();
});

test('500 concurrent streams complete, memory stays bounded, a stalled reader does not block them', async () => {
  const chat = await api.post('/api/v1/chats', { name: 'load', prompt: { prompt: 'Be brief.', variables: [] } });
  const chatId = chat.json.data.id as string;
  const session = await api.post(`/api/v1/chats/${chatId}/sessions`, {});
  const sessionId = session.json.data.id as string;
  const apiPid = stack.processes.find((p) => p.app === 'api')!.child.pid!;
  // warm up (JIT, connection pools) before the baseline
  await api.post(`/api/v1/chats/${chatId}/completions`, { question: 'warm', stream: false, session_id: sessionId });
  const rssBefore = rssKb(apiPid);

  // the stalled reader: a long cumulative answer (megabytes of events) that nobody reads
  const url = new URL(`${stack.baseUrl}/api/v1/chats/${chatId}/completions`);
  let slowBytes = 0;
  const slowDone = new Promise<string>((resolve, reject) => {
    const req = request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' } },
      (res) => {
        res.pause();
        slowResume = () => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            slowBytes += c.length;
            parts.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
          res.resume();
        };
        slowStarted();
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ question: 'very long answer', session_id: sessionId }));
  });
  let slowResume = () => {};
  let slowStarted = () => {};
  await new Promise<void>((r) => (slowStarted = r));

  // one session per stream, as 500 users would have
  const sessions: string[] = [];
  for (let i = 0; i < 500; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, () => api.post(`/api/v1/chats/${chatId}/sessions`, {})));
    sessions.push(...batch.map((b) => b.json.data.id as string));
  }
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKb(apiPid))), 100);
  const results = await Promise.all(
    Array.from({ length: 500 }, async (_, i) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ question: `question ${i}`, session_id: sessions[i] }),
      });
      return res.text();
    }),
  );
  clearInterval(sampler);
  console.log(`api RSS: ${Math.round(rssBefore / 1024)} MB before, ${Math.round(peakRss / 1024)} MB peak with 500 streams`);

  const finals = results.filter((t) => t.endsWith('data:{"code": 0, "data": true}\n\n'));
  expect(finals).toHaveLength(500);
  for (const t of results) expect(t).toContain('"answer":"w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 "');
  expect(model.stats.requests).toBeGreaterThanOrEqual(502);
  // 500 open streams: the api process grows by well under 300 MB
  expect(peakRss - rssBefore).toBeLessThan(300 * 1024);
  // the stalled reader was still being held while the others finished; its stream is intact once read
  expect(slowBytes).toBe(0);
  slowResume();
  const slow = await slowDone;
  expect(slow.endsWith('data:{"code": 0, "data": true}\n\n')).toBe(true);
  expect(slow).toContain('token1499 ');
}, 180_000);
