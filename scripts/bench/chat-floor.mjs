// The floor under the chat overhead target (issue 4): a relay that does only what any chat gateway must do
// for a streamed completion — take an HTTP POST, call the model through the official `openai` client (over the
// same keep-alive transport the api uses), and stream cumulative SSE events to the client, at most one every
// 20 ms as the api does — with no auth, database, retrieval, prompt, citations or persistence. It runs in its
// own process, against the bench's model, with the bench's clients, at the bench's concurrency, so its
// overhead is a lower bound for the api's on this machine.
//
//   node scripts/bench/chat-floor.mjs [--requests 1000] [--concurrency 50] [--extra-cpu-ms 0] [--relays 1]
import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startChatModel, timed, pool } from './chat.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

if (process.argv.includes('--relay') && cluster.isPrimary && Number(arg('relays', 1)) > 1) {
  // --relays N: N relay processes sharing the port (node:cluster), as an api scaled out on one machine
  for (let i = 0; i < Number(arg('relays', 1)); i++) cluster.fork();
  let ready = 0;
  cluster.on('message', (_w, m) => {
    if (++ready === Number(arg('relays', 1))) process.stdout.write(`${m}\n`);
  });
} else if (process.argv.includes('--relay')) {
  const { OpenAICompatibleChatModel } = await import('../../packages/llm/dist/index.js');
  const model = new OpenAICompatibleChatModel({ baseUrl: arg('model'), model: 'bench' });
  // --extra-cpu-ms: CPU spent per request before the model is called, standing in for the work a real
  // gateway does first (auth, loading the chat, retrieval, prompt): how much the overhead grows with it
  const extra = Number(arg('extra-cpu-ms', 0));
  const burn = () => {
    const until = performance.now() + extra;
    while (performance.now() < until);
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const { question } = JSON.parse(body);
      if (extra > 0) burn();
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
  server.listen(Number(arg('port', 0)), '127.0.0.1', () => {
    if (cluster.isWorker) process.send(server.address().port);
    else process.stdout.write(`${server.address().port}\n`);
  });
} else {
  const requests = Number(arg('requests', 1000));
  const concurrency = Number(arg('concurrency', 50));
  const { server, baseUrl } = await startChatModel();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--relay', '--model', baseUrl, '--extra-cpu-ms', arg('extra-cpu-ms', '0'), '--relays', arg('relays', '1'), '--port', String(20000 + Math.floor(Math.random() * 20000))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  // the relay process and, with --relays, its workers
  const cpu = () => {
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(') ') + 2).split(' ');
        if (Number(pid) === child.pid || Number(f[1]) === child.pid) total += (Number(f[11]) + Number(f[12])) / 100;
      } catch {}
    }
    return total;
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
