// The floor under the chat overhead target (issue 4): a relay that does only what any chat gateway must do
// for a streamed completion — take an HTTP POST, call the model through the official `openai` client (over the
// same keep-alive transport the api uses), and stream cumulative SSE events to the client, at most one every
// 20 ms as the api does — with no auth, database, retrieval, prompt, citations or persistence. It runs in its
// own process, against the bench's model, with the bench's clients, at the bench's concurrency, so its
// overhead is a lower bound for the api's on this machine.
//
//   node scripts/bench/chat-floor.mjs [--requests 1000] [--concurrency 50]
import { spawn } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startChatModel, timed, pool } from './chat.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

if (process.argv.includes('--relay')) {
  const { OpenAICompatibleChatModel } = await import('../../packages/llm/dist/index.js');
  const model = new OpenAICompatibleChatModel({ baseUrl: arg('model'), model: 'bench' });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const { question } = JSON.parse(body);
      const ctl = new AbortController();
      res.on('close', () => ctl.abort());
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
      let answer = '';
      let last = 0;
      for await (const d of model.stream([{ role: 'user', content: question }], {}, ctl.signal)) {
        if (d.type !== 'text') continue;
        answer += d.text;
        const now = performance.now();
        if (now - last >= 20) {
          last = now;
          res.write(`data:${JSON.stringify({ code: 0, data: { answer, reference: {} } })}\n\n`);
        }
      }
      res.end(`data:${JSON.stringify({ code: 0, data: { answer, reference: {} } })}\n\ndata:{"code": 0, "data": true}\n\n`);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
} else {
  const requests = Number(arg('requests', 1000));
  const concurrency = Number(arg('concurrency', 50));
  const { server, baseUrl } = await startChatModel();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--relay', '--model', baseUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const cpu = () => {
    const st = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(') ') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  const direct = (i) => timed(`${baseUrl}/chat/completions`, {}, { model: 'bench', stream: true, messages: [{ role: 'user', content: `question ${i}` }] }, (b) => b.includes('"content"'));
  const relay = (i) => timed(`http://127.0.0.1:${port}/`, {}, { question: `What do foxes eat? (${i})` }, (b) => /"answer":"[^"]/.test(b));
  await pool(100, concurrency, relay); // warm-up
  const model = await pool(requests, concurrency, direct);
  const c0 = cpu();
  const self0 = process.cpuUsage();
  const via = await pool(requests, concurrency, relay);
  const self = process.cpuUsage(self0);
  const relayMs = ((cpu() - c0) * 1000) / requests;
  console.log(
    JSON.stringify(
      {
        requests,
        concurrency,
        model,
        relay: via,
        overheadMs: { ttfbP50: via.ttfbP50 - model.ttfbP50, ttfbP95: via.ttfbP95 - model.ttfbP95, totalP50: via.totalP50 - model.totalP50 },
        cpuMsPerRequest: { relay: Number(relayMs.toFixed(2)), 'bench (model + clients)': Number(((self.user + self.system) / 1000 / requests).toFixed(2)) },
      },
      null,
      2,
    ),
  );
  child.kill();
  await server.stop();
}
