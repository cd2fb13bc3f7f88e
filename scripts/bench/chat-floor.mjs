// The floor under the chat overhead target (issue 4): a relay that does only what any chat gateway must do
// for a streamed completion — take an HTTP POST, call the model through the official `openai` client (over the
// same keep-alive transport the api uses), and stream cumulative SSE events to the client, at most one every
// 20 ms as the api does — with no auth, database, retrieval, prompt, citations or persistence. It runs in its
// own process, against the bench's model, with the bench's clients, at the bench's concurrency, so its
// overhead is a lower bound for the api's on this machine.
//
//   node scripts/bench/chat-floor.mjs [--requests 1000] [--concurrency 50] [--extra-cpu-ms 0] [--relays 1] [--side-cpu-ms 0]
//
// --extra-cpu-ms adds CPU per request in the relay before the model is called (what the api does besides
// relaying); --side-cpu-ms adds a call to a separate process that spends that much CPU (what the retrieval
// service, Postgres and Redis spend per chat request); --relays runs the relay as N processes (node:cluster).
// "relay" CPU in the output includes the side process.
import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startChatModel, timed, pool } from './chat.mjs';
import { statCpuSeconds, statFields } from './proc.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

/** Spends `ms` of this process's CPU time (not wall time: a preempted loop would burn less than asked). */
function burnCpu(ms) {
  const start = process.cpuUsage();
  for (;;) {
    const u = process.cpuUsage(start);
    if (u.user + u.system >= ms * 1000) return;
  }
}

if (process.argv.includes('--side')) {
  const ms = Number(arg('side-cpu-ms', 0));
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      burnCpu(ms);
      res.end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
} else if (process.argv.includes('--relay') && cluster.isPrimary && Number(arg('relays', 1)) > 1) {
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
  // --side: a second process called once per request before the model, burning --side-cpu-ms of CPU: the
  // retrieval service, Postgres and Redis, which the api's chat path needs and which share the same cores
  const sidePort = Number(arg('side-port', 0));
  const sideAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const side = () =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: sidePort, path: '/', method: 'POST', agent: sideAgent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end('{}');
    });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const { question } = JSON.parse(body);
      if (extra > 0) burnCpu(extra);
      if (sidePort) await side();
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
  const portOf = (p) => new Promise((resolve) => p.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const sideCpu = Number(arg('side-cpu-ms', 0));
  const sideProc = sideCpu > 0 ? spawn(process.execPath, [fileURLToPath(import.meta.url), '--side', '--side-cpu-ms', String(sideCpu)], { stdio: ['ignore', 'pipe', 'inherit'] }) : null;
  const sidePort = sideProc ? await portOf(sideProc) : 0;
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--relay', '--model', baseUrl, '--extra-cpu-ms', arg('extra-cpu-ms', '0'), '--relays', arg('relays', '1'), '--side-port', String(sidePort),
      '--port', String(20000 + Math.floor(Math.random() * 20000))],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await portOf(child);
  // the relay process and, with --relays, its workers
  const cpu = () => {
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const f = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        if (Number(pid) === child.pid || Number(f[1]) === child.pid || Number(pid) === sideProc?.pid) total += statCpuSeconds(f);
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
  // the relay may still hold kept-alive sockets to the side process: let it go first
  child.once('exit', () => sideProc?.kill());
  await server.stop();
}
