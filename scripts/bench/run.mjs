#!/usr/bin/env node
// `npm run bench`: drives a running RagNest through its HTTP API and prints ingest throughput
// (upload → searchable), retrieval latency at concurrency 8, and peak RSS of each app.
//
//   npm run bench -- [--mb 20] [--chunks 100000] [--large-mb 0] [--queries 2000] [--concurrency 8]
//                    [--settle 90] [--chat 1000] [--chat-concurrency 50] [--base-url http://host:9380 --api-key ragflow-...]
//                    [--office-mb 6] [--office-file-mb 1] [--office-formats docx,xlsx,pptx] [--ocr-pages 8]
//                    [--large-pdf-pages 0] [--large-csv-mb 0] [--ingest-replicas <cores, at most 4>] [--replica-join 1]
// --office-mb: generated DOCX, XLSX and PPTX (--office-formats), an equal share each, in files of about
// --office-file-mb; MB/s and chunks/s per format, and the peak RSS of every process during each format.
// --ocr-pages: scanned pages (rendered text, no text layer) as PNG uploads and as one image-only PDF, through OCR;
// pages/s, and pages/s per ingest-worker replica.
// --large-pdf-pages / --large-csv-mb: one text PDF of that many pages / one CSV of that many MB, generated on disk
// under .bench/ and uploaded as a streamed multipart body; each prints the peak RSS of every process during it.
// --ingest-replicas: ingest-worker processes in the self-booted stack (default as `npm start`: one per core, at most 4; INGEST_REPLICAS works too).
// Every section can run alone: set the others to 0 (e.g. --mb 0 --chunks 0 --chat 0 --office-mb 0 --ocr-pages 8).
// --settle: seconds to wait after the retrieval corpus is indexed, so background index builds finish; then (self-booted
// stack) until the apps idle, at most 30 s more. The chat section waits for the stack to idle too.
// --corpus: the retrieval corpus and its queries: `uniform` (default; English drawn uniformly from ~70 words, so
// every query term is in about a third of the chunks) or `zipf` (English-like words with Zipf's law over a
// 50,000-word vocabulary, queries of three content words).
// --chat: streaming chat completions measured against a local OpenAI-protocol model (0 = skip; needs the
// self-booted stack, which is pointed at that model).
// --replica-join 1: last, a second retrieval replica starts beside the first and loads the retrieval corpus' index:
// seconds until ready, and the queries answered meanwhile (self-booted stack with --chunks > 0; 0 = skip).
//
// Without --base-url it boots its own stack (the four apps, embedded defaults) on a fresh database and
// data directory, so RSS can be read from /proc. Not a test: it asserts nothing, it reports.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openAsBlob, readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrateDeploy } from '../../packages/db/scripts/migrate.mjs';
import { html, markdown, pdf, queries, rng, text, zipfQueries, zipfText } from './corpus.mjs';
import { chatOverhead, startChatModel } from './chat.mjs';
import { pidCpuSeconds, serverCpuDelta, serverCpuTicks } from './proc.mjs';
import { ingestNodeArgs, ingestReplicas, serviceNodeArgs } from '../app-processes.mjs';
import { docxFile, pptxFile, scannedPagePng, scannedPdf, writeCsv, writeTextPdf, xlsxFile } from './files.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const arg = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const MB = 1024 * 1024;
const opts = {
  mb: Number(arg('mb', 20)),
  chunks: Number(arg('chunks', 100000)),
  largeMb: Number(arg('large-mb', 0)),
  queries: Number(arg('queries', 2000)),
  concurrency: Number(arg('concurrency', 8)),
  settle: Number(arg('settle', 90)),
  corpus: arg('corpus', 'uniform'),
  baseUrl: arg('base-url', ''),
  apiKey: arg('api-key', ''),
  chat: Number(arg('chat', 1000)),
  chatConcurrency: Number(arg('chat-concurrency', 50)),
  officeMb: Number(arg('office-mb', 6)),
  officeFileMb: Number(arg('office-file-mb', 1)),
  officeFormats: arg('office-formats', 'docx,xlsx,pptx').split(','),
  ocrPages: Number(arg('ocr-pages', 8)),
  largePdfPages: Number(arg('large-pdf-pages', 0)),
  largeCsvMb: Number(arg('large-csv-mb', 0)),
  replicaJoin: Number(arg('replica-join', 1)),
  // as `npm start` runs it: one ingest-worker per core, at most 4
  ingestReplicas: ingestReplicas(process.env, arg('ingest-replicas')),
};
if (opts.corpus !== 'uniform' && opts.corpus !== 'zipf') {
  console.error(`--corpus must be uniform or zipf, got ${opts.corpus}`);
  process.exit(2);
}
const log = (...a) => console.log('[bench]', ...a);

// ---------------------------------------------------------------- stack
const apps = ['retrieval', 'embedding', 'ingest-worker', 'api'];
const children = [];
/** the environment the self-booted stack's apps run with */
let stackEnv = {};

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One app process of the self-booted stack, as `npm start` runs it. */
function spawnApp(app, extraEnv = {}) {
  // BENCH_CPU_PROFILE=<app>[,<app>…] writes a V8 CPU profile of those apps to .bench/profiles
  const prof = (process.env.BENCH_CPU_PROFILE ?? '').split(',').includes(app) ? ['--cpu-prof', `--cpu-prof-dir=${path.join(root, '.bench/profiles')}`] : [];
  // as `npm start` runs it (scripts/start.mjs): the ingest-worker with a heap limit, api and retrieval with a larger young generation
  const heap = app === 'ingest-worker' ? ingestNodeArgs(process.env) : app === 'api' || app === 'retrieval' ? serviceNodeArgs(process.env) : [];
  return spawn(process.execPath, [...heap, ...prof, path.join(root, `apps/${app}/dist/main.js`)], { env: { ...stackEnv, ...extraEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function bootStack(extraEnv = {}) {
  const dataDir = path.join(root, '.bench/data');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const dbUrl = `postgresql://postgres@127.0.0.1:5432/ragnest_bench_${Date.now()}`;
  bootedDbUrl = dbUrl; // dropped at exit even when a section fails
  await migrateDeploy(dbUrl);
  const port = await freePort();
  const apiKey = `ragflow-${randomBytes(16).toString('hex')}`;
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    API_KEY: apiKey,
    REDIS_PREFIX: `ragnest-bench-${Date.now()}`,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  stackEnv = env;
  const replicas = { 'ingest-worker': opts.ingestReplicas };
  for (const [app, i, n] of apps.flatMap((a) => Array.from({ length: replicas[a] ?? 1 }, (_, i) => [a, i, replicas[a] ?? 1]))) {
    children.push({ app, label: n > 1 ? `${app}#${i + 1}` : app, child: spawnApp(app) });
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${baseUrl}/health`)).status === 200) return { baseUrl, apiKey, dbUrl };
    } catch {}
    await sleep(250);
  }
  throw new Error('stack did not become healthy');
}

/**
 * A Postgres with autovacuum off (this machine's CI configuration) never vacuums or analyzes the bench database:
 * each chunk row is written three times (insert, vector, feed stamp), so after a bulk load two of every three
 * versions are dead and each primary-key lookup of the hit rows wades through them. A default Postgres'
 * autovacuum would have cleaned up after the load; here the bench does what it would have done, and says so.
 */
async function vacuumUnlessAutovacuum(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SHOW autovacuum');
    if (rows[0]?.autovacuum !== 'off') return;
    const t0 = performance.now();
    await client.query('VACUUM (ANALYZE)');
    log(`  Postgres runs with autovacuum = off here: vacuumed and analyzed the bench database as autovacuum would (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } finally {
    await client.end();
  }
}

/** CPU seconds (user + system) each app has used so far, from /proc. */
/** An app's process and its children (the api's workers when API_WORKERS > 1). */
function pidsOf(child) {
  try {
    return [child.pid, ...readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [child.pid];
  }
}

function cpuSeconds() {
  const out = {};
  for (const { app, child } of children) {
    for (const pid of pidsOf(child)) {
      try {
        out[app] = (out[app] ?? 0) + pidCpuSeconds(pid);
      } catch {}
    }
  }
  return out;
}

/**
 * Waits until the stack is idle — all apps together below 5 % of a core over a second, twice in a row — or
 * `maxSecs` passed; returns the seconds waited, whether it got quiet, and the first and last second's CPU by
 * app. Work left over from earlier sections (index maintenance, a worker's post-load garbage collection)
 * otherwise lands in the next section's measurement window.
 */
async function waitQuiet(maxSecs) {
  const t0 = performance.now();
  let quiet = 0;
  let first;
  let last = {};
  while (quiet < 2 && performance.now() - t0 < maxSecs * 1000) {
    const a = cpuSeconds();
    await sleep(1000);
    const b = cpuSeconds();
    last = Object.fromEntries(Object.keys(b).map((k) => [k, Number((b[k] - (a[k] ?? 0)).toFixed(2))]));
    first ??= last;
    quiet = Object.values(last).reduce((x, y) => x + y, 0) < 0.05 ? quiet + 1 : 0;
  }
  return { secs: (performance.now() - t0) / 1000, quiet: quiet >= 2, first, last };
}

/** Before a measured section: waits (at most 30 s) for the stack this script booted to idle, and says how long. */
async function settleQuietly() {
  if (!children.length) return;
  const w = await waitQuiet(30);
  log(`  waited ${w.secs.toFixed(1)} s for the stack to idle (CPU s in the first second: ${JSON.stringify(w.first)})${w.quiet ? '' : '; it did not, in the last second: ' + JSON.stringify(w.last)}`);
}

/** Resident memory of an app: its process plus its children's (kB field of /proc/<pid>/status). */
function memoryOf(child, field) {
  let bytes = 0;
  for (const pid of pidsOf(child)) {
    try {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) bytes += Number(m[1]) * 1024;
    } catch {}
  }
  return bytes;
}

/** This process's own CPU seconds (the benchmark client). */
const selfCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Highest VmRSS of each process while a case runs, sampled every 200 ms (VmHWM is the peak over the whole life of
 * the process, so it cannot tell cases apart). Replicas are reported one by one (ingest-worker#1, #2, …).
 */
function rssSampler() {
  const peak = {};
  const sample = () => {
    for (const { label, child } of children) peak[label] = Math.max(peak[label] ?? 0, memoryOf(child, 'VmRSS'));
  };
  sample();
  const timer = setInterval(sample, 200);
  return () => {
    clearInterval(timer);
    sample();
    return Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / MB)]));
  };
}

function peakRss() {
  const out = {};
  for (const { app, child } of children) out[app] = Math.max(out[app] ?? 0, memoryOf(child, 'VmHWM'));
  return out;
}

// ---------------------------------------------------------------- http
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let BASE = '';
let KEY = '';

/**
 * fetch, sent again once when the server had closed the idle keep-alive connection fetch reused ("other side
 * closed": the request never reached the app). Seen between sections on the loaded 2-core machine, after a few
 * seconds spent generating files; Node's server drops idle connections after 5 s.
 */
async function send(url, init) {
  try {
    return await fetch(url, init());
  } catch (err) {
    // a kept-alive connection the server closed as it was reused (its idle timeout raced the request):
    // nothing was processed, so the request is sent again once on a new connection
    const stale = /other side closed/.test(err?.cause?.message ?? '') || ['EPIPE', 'ECONNRESET'].includes(err?.cause?.code);
    if (!stale) throw err;
    return fetch(url, init());
  }
}

async function call(method, p, body) {
  const res = await send(`${BASE}${p}`, () => ({
    method,
    headers: { Authorization: `Bearer ${KEY}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  }));
  const json = await res.json();
  if (json.code !== 0) throw new Error(`${method} ${p}: ${JSON.stringify(json).slice(0, 300)}`);
  return json.data;
}
// the latency loop's client: node:http on kept-alive connections costs the shared 2 cores far less CPU per
// request than fetch, so the measurement takes less from the system it measures. For the same reason a reply
// is checked by its envelope's first bytes (`{"code":0,`), and parsed whole one time in 50.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const OK_PREFIX = Buffer.from('{"code":0,');
let posted = 0;
function post(p, body) {
  const payload = Buffer.from(JSON.stringify(body));
  const url = new URL(`${BASE}${p}`);
  const whole = posted++ % 50 === 0;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', 'Content-Length': payload.length } },
      (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => {
          const buf = Buffer.concat(parts);
          if (res.statusCode !== 200 || !buf.subarray(0, OK_PREFIX.length).equals(OK_PREFIX)) {
            reject(new Error(`POST ${p}: ${res.statusCode} ${buf.toString('utf8', 0, 300)}`));
            return;
          }
          if (!whole) return resolve(undefined);
          const json = JSON.parse(buf.toString('utf8'));
          if (json.code !== 0) reject(new Error(`POST ${p}: ${buf.toString('utf8', 0, 300)}`));
          else resolve(json.data);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
async function upload(datasetId, files) {
  // a file on disk goes as a file-backed Blob, which fetch streams from disk while sending
  const blobs = await Promise.all(files.map((f) => (f.path ? openAsBlob(f.path) : new Blob([f.content]))));
  const form = () => {
    const fd = new FormData();
    files.forEach((f, i) => fd.append('file', blobs[i], f.name));
    return fd;
  };
  const res = await send(`${BASE}/api/v1/datasets/${datasetId}/documents`, () => ({ method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: form() }));
  const json = await res.json();
  if (json.code !== 0) throw new Error(`upload: ${JSON.stringify(json).slice(0, 300)}`);
  return json.data;
}
async function waitDone(datasetId, n) {
  for (;;) {
    const data = await call('GET', `/api/v1/datasets/${datasetId}/documents?page_size=100000`);
    const docs = data.docs;
    const failed = docs.filter((d) => d.run === 'FAIL');
    if (failed.length) throw new Error(`documents failed: ${failed.map((d) => `${d.name}: ${d.progress_msg.split('\n').pop()}`).join('; ')}`);
    if (docs.length >= n && docs.every((d) => d.run === 'DONE')) return docs;
    await sleep(200);
  }
}

/** Uploads files, parses them, waits until every one is DONE and a query on them has been answered (searchable). */
async function ingest(name, files, parserConfig) {
  const cpu0 = cpuSeconds();
  const server0 = serverCpuTicks();
  const ds = await call('POST', '/api/v1/datasets', { name: `${name}-${Date.now()}`, ...(parserConfig ? { parser_config: parserConfig } : {}) });
  const bytes = files.reduce((s, f) => s + (f.path ? statSync(f.path).size : f.content.length), 0);
  const rss = rssSampler();
  const t0 = performance.now();
  const mono0 = process.hrtime.bigint() / 1000n;
  const ids = [];
  for (let i = 0; i < files.length; i += 16) ids.push(...(await upload(ds.id, files.slice(i, i + 16))).map((d) => d.id));
  const uploadSecs = (performance.now() - t0) / 1000;
  await call('POST', `/api/v1/datasets/${ds.id}/chunks`, { document_ids: ids });
  const docs = await waitDone(ds.id, ids.length);
  // DONE means every chunk is on the index feed; a query is answered only once the retrieval replica that takes
  // it has applied the feed up to then, so the first query after DONE is when the corpus is searchable (with
  // one replica, as the self-booted stack runs: with several, each catches up on its first query)
  const q0 = performance.now();
  await call('POST', '/api/v1/retrieval', { dataset_ids: [ds.id], question: 'searchable', page_size: 1 });
  const firstQueryMs = performance.now() - q0;
  const secs = (performance.now() - t0) / 1000;
  // the measured window on the monotonic clock (µs), the clock of V8 CPU profiles (BENCH_CPU_PROFILE)
  if (process.env.BENCH_CPU_PROFILE) log(`  ${name} window (monotonic µs): ${mono0}-${process.hrtime.bigint() / 1000n}`);
  const peakRssMB = rss();
  const chunks = docs.reduce((s, d) => s + d.chunk_count, 0);
  // Postgres and Redis as a whole (other databases' work on the machine counts too)
  const cpu1 = { ...cpuSeconds(), ...serverCpuDelta(server0, serverCpuTicks()) };
  const cpuPerMB = Object.fromEntries(Object.keys(cpu1).map((a) => [a, Number(((cpu1[a] - (cpu0[a] ?? 0)) / (bytes / MB)).toFixed(3))]));
  const cpuSecs = Object.fromEntries(Object.keys(cpu1).map((a) => [a, Number((cpu1[a] - (cpu0[a] ?? 0)).toFixed(1))]));
  return { datasetId: ds.id, bytes, secs, uploadSecs, firstQueryMs, chunks, mbPerSec: bytes / MB / secs, chunksPerSec: chunks / secs, cpuSecondsPerMB: cpuPerMB, cpuSeconds: cpuSecs, peakRssMB };
}

const fmtRss = (m) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(' · ');

function splitFiles(r, kind, lang, totalBytes, fileBytes) {
  const files = [];
  for (let i = 0; i * fileBytes < totalBytes; i++) {
    const size = Math.min(fileBytes, totalBytes - i * fileBytes);
    const ext = kind;
    const content =
      kind === 'txt' ? Buffer.from(text(r, lang, size)) : kind === 'md' ? Buffer.from(markdown(r, lang, size)) : Buffer.from(html(r, lang, size));
    files.push({ name: `${lang}-${i}.${ext}`, content });
  }
  return files;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Queries at `concurrency`, each timed. A warm-up of as many queries as are measured runs first, at the same
 * concurrency, as the chat section does (BENCH_RETRIEVAL_WARMUP overrides it; 50, one at a time, until session 15):
 * a server runs warm, and the first thousand queries of fresh processes are slower while V8 compiles the request
 * path (measured: p50 24.5 ms over the first 1,000 queries, 16–18 ms from the fourth 1,000 on; the api's CPU per
 * query 1.4 → 1.0 ms). The warm-up's own p50 is reported too.
 */
async function retrievalLatency(datasetId, n, concurrency) {
  const warm = Number(process.env.BENCH_RETRIEVAL_WARMUP ?? Math.max(50, n));
  const qs = opts.corpus === 'zipf' ? zipfQueries(rng(7), n + warm) : queries(rng(7), n + warm);
  const run = async (from, to, lat) => {
    let next = from;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < to) {
          const q = qs[next++];
          const s = performance.now();
          await post('/api/v1/retrieval', { dataset_ids: [datasetId], question: q });
          lat.push(performance.now() - s);
        }
      }),
    );
  };
  const warmLat = [];
  await run(0, warm, warmLat);
  warmLat.sort((a, b) => a - b);
  const lat = [];
  const cpu0 = { ...cpuSeconds(), 'bench client': selfCpuSeconds() };
  const server0 = serverCpuTicks();
  const t0 = performance.now();
  const mono0 = process.hrtime.bigint() / 1000n;
  await run(warm, qs.length, lat);
  const secs = (performance.now() - t0) / 1000;
  // the measured window on the monotonic clock (µs), the clock of V8 CPU profiles (BENCH_CPU_PROFILE)
  if (process.env.BENCH_CPU_PROFILE) log(`  retrieval window (monotonic µs): ${mono0}-${process.hrtime.bigint() / 1000n}`);
  const cpu1 = { ...cpuSeconds(), ...serverCpuDelta(server0, serverCpuTicks()), 'bench client': selfCpuSeconds() };
  // CPU milliseconds per query, by app (the apps only when this script booted them), Postgres (every
  // backend, so other work on the machine shows up too), Redis, and this client
  const cpuMsPerQuery = Object.fromEntries(Object.keys(cpu1).map((app) => [app, Number(((1000 * (cpu1[app] - (cpu0[app] ?? 0))) / lat.length).toFixed(2))]));
  lat.sort((a, b) => a - b);
  return { n: lat.length, qps: lat.length / secs, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), cpuMsPerQuery, warmup: { n: warm, p50: percentile(warmLat, 50) } };
}

/**
 * A second retrieval replica joins the running stack: seconds until its own /health says it has loaded the
 * in-memory index, its CPU and peak RSS for that, and the queries sent through the api meanwhile (one at a time),
 * which the first replica must answer while the new one loads (a loading replica takes no query). Then it stops.
 */
async function replicaJoin(datasetId) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawnApp('retrieval', { METRICS_PORT: String(port) });
  const qs = queries(rng(11), 100_000);
  let ready = false;
  let readySecs = NaN;
  const waitReady = (async () => {
    for (let i = 0; i < 3000 && !ready; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) {
          readySecs = (performance.now() - t0) / 1000;
          ready = true;
          return;
        }
      } catch {}
      await sleep(100);
    }
    throw new Error('the second retrieval replica did not become ready in 300 s');
  })();
  let n = 0;
  let failed = 0;
  let slowest = 0;
  const slow = [];
  while (!ready && n < qs.length) {
    const s = performance.now();
    try {
      await post('/api/v1/retrieval', { dataset_ids: [datasetId], question: qs[n] });
    } catch {
      failed++;
    }
    const ms = performance.now() - s;
    slowest = Math.max(slowest, ms);
    if (ms > 1000) slow.push(`${ms.toFixed(0)} ms at +${((s - t0) / 1000).toFixed(1)} s`);
    n++;
    await sleep(20);
  }
  await waitReady;
  const cpu = pidCpuSeconds(child.pid);
  const peakRssMB = Math.round(memoryOf(child, 'VmHWM') / MB);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { readySecs, cpuSeconds: cpu, peakRssMB, queries: n, failed, slowestMs: slowest, slowerThan1s: slow };
}

// ---------------------------------------------------------------- main
async function main() {
  let dbUrl;
  if (opts.baseUrl) {
    BASE = opts.baseUrl;
    KEY = opts.apiKey;
  } else {
    log('booting the four apps with embedded defaults...');
    if (opts.chat > 0) chatModel = await startChatModel();
    const s = await bootStack(chatModel ? { LLM_BASE_URL: chatModel.baseUrl, LLM_MODEL: 'bench-model' } : {});
    BASE = s.baseUrl;
    KEY = s.apiKey;
    dbUrl = s.dbUrl;
  }
  // the CPU model too: figures from machines of the same core count but another processor are not comparable
  const cpus = (await import('node:os')).cpus();
  const results = { machine: `${cpus.length} cores, ${cpus[0]?.model.trim() ?? 'unknown CPU'}`, node: process.version };
  log(`machine: ${results.machine}; Node.js ${process.version}`);

  if (opts.mb > 0) {
    const r = rng(1);
    const share = (opts.mb * MB) / 7;
    const per = {
      txt: [...splitFiles(r, 'txt', 'en', share, 1 * MB), ...splitFiles(r, 'txt', 'zh', share, 1 * MB)],
      md: [...splitFiles(r, 'md', 'en', share, 1 * MB), ...splitFiles(r, 'md', 'zh', share, 1 * MB)],
      html: [...splitFiles(r, 'html', 'en', share / 2, 512 * 1024), ...splitFiles(r, 'html', 'zh', share / 2, 512 * 1024)],
    };
    const pdfPages = Math.max(20, Math.round(share / 4000));
    per.pdf = Array.from({ length: Math.ceil(pdfPages / 50) }, (_, i) => ({ name: `en-${i}.pdf`, content: pdf(r, 50) }));
    const all = Object.values(per).flat();
    // steady state, as a server runs: one small file of each kind first, not counted, so the measured run does not
    // include each process's one-time loading (the jieba dictionary, PDFium, the JIT's first compilations)
    const w = rng(2);
    await ingest('bench-warmup', [
      { name: 'warm-en.txt', content: Buffer.from(text(w, 'en', 20_000)) },
      { name: 'warm-zh.txt', content: Buffer.from(text(w, 'zh', 20_000)) },
      { name: 'warm.md', content: Buffer.from(markdown(w, 'en', 20_000)) },
      { name: 'warm.html', content: Buffer.from(html(w, 'zh', 20_000)) },
      { name: 'warm.pdf', content: pdf(w, 4) },
    ]);
    log(`ingesting ${all.length} files, ${(all.reduce((s, f) => s + f.content.length, 0) / MB).toFixed(1)} MB (txt, md, html in English and Chinese; pdf in English)...`);
    results.ingest = await ingest('bench-mixed', all);
    log(`  ${results.ingest.mbPerSec.toFixed(2)} MB/s, ${results.ingest.chunksPerSec.toFixed(0)} chunks/s end to end (${results.ingest.chunks} chunks in ${results.ingest.secs.toFixed(1)} s; first query after DONE ${results.ingest.firstQueryMs.toFixed(0)} ms)`);
    if (children.length) log(`  CPU seconds per MB by app: ${JSON.stringify(results.ingest.cpuSecondsPerMB)}`);
    results.perFormat = {};
    for (const [fmt, files] of Object.entries(per)) {
      const res = await ingest(`bench-${fmt}`, files);
      results.perFormat[fmt] = res;
      const extra = fmt === 'pdf' ? `, ${((files.length * 50) / res.secs).toFixed(1)} pages/s` : '';
      log(`  ${fmt}: ${res.mbPerSec.toFixed(2)} MB/s, ${res.chunksPerSec.toFixed(0)} chunks/s${extra}`);
    }
  }

  if (opts.officeMb > 0) {
    // a third of the volume per format, in files of about --office-file-mb
    const r = rng(11);
    const make = { docx: (b) => docxFile(r, b), xlsx: async (b) => xlsxFile(r, b), pptx: (b) => pptxFile(r, b) };
    const formats = opts.officeFormats.filter((f) => make[f]);
    const share = (opts.officeMb * MB) / formats.length;
    const nFiles = Math.max(1, Math.round(share / (opts.officeFileMb * MB)));
    const per = Object.fromEntries(formats.map((f) => [f, []]));
    log(`generating office files: ${nFiles} each of ${formats.join(', ')}, ~${(share / nFiles / MB).toFixed(1)} MB each...`);
    for (let i = 0; i < nFiles; i++) for (const f of formats) per[f].push({ name: `office-${i}.${f}`, content: await make[f](share / nFiles) });
    results.office = {};
    for (const [fmt, files] of Object.entries(per)) {
      const res = await ingest(`bench-${fmt}`, files);
      results.office[fmt] = res;
      log(`  ${fmt}: ${(res.bytes / MB).toFixed(1)} MB → ${res.chunks} chunks in ${res.secs.toFixed(1)} s: ${res.mbPerSec.toFixed(2)} MB/s, ${res.chunksPerSec.toFixed(0)} chunks/s; CPU s/MB ${JSON.stringify(res.cpuSecondsPerMB)}`);
      if (children.length) log(`    peak RSS during ${fmt} (MB): ${fmtRss(res.peakRssMB)}`);
    }
  }

  if (opts.ocrPages > 0) {
    const r = rng(13);
    const pngs = [];
    for (let i = 0; i < opts.ocrPages; i++) pngs.push(await scannedPagePng(r));
    const workers = opts.ingestReplicas; // with --base-url: as many as that stack runs, say so with --ingest-replicas
    results.ocr = {};
    log(`OCR: ${opts.ocrPages} scanned pages (1700×2200 px) as PNG uploads, then as one image-only PDF; ${workers} ingest-worker(s)...`);
    const cases = {
      png: pngs.map((content, i) => ({ name: `scan-${i}.png`, content })),
      pdf: [{ name: 'scans.pdf', content: await scannedPdf(pngs) }],
    };
    for (const [kind, files] of Object.entries(cases)) {
      const res = await ingest(`bench-ocr-${kind}`, files);
      const pagesPerSec = opts.ocrPages / res.secs;
      results.ocr[kind] = { ...res, pages: opts.ocrPages, pagesPerSec, pagesPerSecPerWorker: pagesPerSec / workers, workers };
      log(`  ${kind}: ${opts.ocrPages} pages in ${res.secs.toFixed(1)} s: ${pagesPerSec.toFixed(2)} pages/s, ${(pagesPerSec / workers).toFixed(2)} pages/s per worker (${res.chunks} chunks)` +
          (children.length ? `; ingest-worker CPU ${(res.cpuSeconds['ingest-worker'] / opts.ocrPages).toFixed(2)} s per page` : ''));
      if (children.length) log(`    peak RSS during ${kind} (MB): ${fmtRss(res.peakRssMB)}`);
    }
  }

  if (opts.largePdfPages > 0) {
    mkdirSync(path.join(root, '.bench'), { recursive: true });
    const file = path.join(root, '.bench/large.pdf');
    const bytes = await writeTextPdf(rng(17), file, opts.largePdfPages);
    log(`large PDF: ${opts.largePdfPages} pages (${(bytes / MB).toFixed(1)} MB, written to ${path.relative(root, file)}), streamed upload...`);
    const res = await ingest('bench-large-pdf', [{ name: 'large.pdf', path: file }]);
    results.largePdf = { ...res, pages: opts.largePdfPages, pagesPerSec: opts.largePdfPages / res.secs };
    log(`  ${res.chunks} chunks in ${res.secs.toFixed(1)} s (upload ${res.uploadSecs.toFixed(1)} s): ${(opts.largePdfPages / res.secs).toFixed(1)} pages/s`);
    if (children.length) log(`  peak RSS during the case (MB): ${fmtRss(res.peakRssMB)}`);
    rmSync(file, { force: true });
  }

  if (opts.largeCsvMb > 0) {
    mkdirSync(path.join(root, '.bench'), { recursive: true });
    const file = path.join(root, '.bench/large.csv');
    const bytes = await writeCsv(rng(19), file, opts.largeCsvMb * MB);
    log(`large CSV: ${(bytes / MB).toFixed(0)} MB written to ${path.relative(root, file)}, streamed upload...`);
    const res = await ingest('bench-large-csv', [{ name: 'large.csv', path: file }]);
    results.largeCsv = res;
    log(`  ${res.chunks} chunks in ${res.secs.toFixed(1)} s (upload ${res.uploadSecs.toFixed(1)} s): ${res.mbPerSec.toFixed(2)} MB/s, ${res.chunksPerSec.toFixed(0)} chunks/s`);
    if (children.length) log(`  peak RSS during the case (MB): ${fmtRss(res.peakRssMB)}; CPU s/MB ${JSON.stringify(res.cpuSecondsPerMB)}`);
    rmSync(file, { force: true });
  }

  if (opts.chunks > 0) {
    // chunk_token_num 128 closes a chunk once it exceeds 128 tokens: measured ~1.2 KB of the uniform English
    // each, ~430 bytes of the Zipfian words (short pseudo-words take ~2.5 bytes per token)
    const bytes = opts.chunks * (opts.corpus === 'zipf' ? 430 : 1230);
    log(`building a retrieval corpus of ~${opts.chunks} chunks (${(bytes / MB).toFixed(0)} MB, chunk_token_num 128, ${opts.corpus} words)...`);
    const files =
      opts.corpus === 'zipf'
        ? Array.from({ length: Math.ceil(bytes / (4 * MB)) }, (_, i) => ({ name: `zipf-${i}.txt`, content: Buffer.from(zipfText(rng(3 + i), Math.min(4 * MB, bytes - i * 4 * MB))) }))
        : splitFiles(rng(3), 'txt', 'en', bytes, 4 * MB);
    const res = await ingest('bench-retrieval', files, { chunk_token_num: 128 });
    results.retrievalCorpus = res;
    log(`  ${res.chunks} chunks indexed at ${res.mbPerSec.toFixed(2)} MB/s, ${res.chunksPerSec.toFixed(0)} chunks/s (first query after DONE ${res.firstQueryMs.toFixed(0)} ms); letting index maintenance settle...`);
    if (dbUrl) await vacuumUnlessAutovacuum(dbUrl);
    await sleep(opts.settle * 1000);
    await settleQuietly();
    results.retrieval = await retrievalLatency(res.datasetId, opts.queries, opts.concurrency);
    const q = results.retrieval;
    log(`  retrieval over HTTP, concurrency ${opts.concurrency}: p50 ${q.p50.toFixed(1)} ms, p95 ${q.p95.toFixed(1)} ms, p99 ${q.p99.toFixed(1)} ms, ${q.qps.toFixed(0)} req/s (after ${q.warmup.n} warm-up queries, p50 ${q.warmup.p50.toFixed(1)} ms)`);
    log(`  CPU ms per query: ${JSON.stringify(q.cpuMsPerQuery)}`);
  }

  if (opts.largeMb > 0) {
    log(`ingesting one ${opts.largeMb} MB text file...`);
    const content = Buffer.from(text(rng(9), 'en', opts.largeMb * MB));
    results.large = await ingest('bench-large', [{ name: 'large.txt', content }]);
    log(`  ${results.large.mbPerSec.toFixed(2)} MB/s, ${results.large.chunks} chunks`);
    if (children.length) log(`  peak RSS during the case (MB): ${fmtRss(results.large.peakRssMB)}`);
  }

  if (opts.chat > 0 && chatModel) {
    log(`chat: ${opts.chat} streaming completions at concurrency ${opts.chatConcurrency}, against the model directly and through the chat API...`);
    results.chatOverhead = await chatOverhead({ base: BASE, key: KEY, modelUrl: chatModel.baseUrl, requests: opts.chat, concurrency: opts.chatConcurrency, call, upload, waitDone, cpu: children.length ? cpuSeconds : undefined,
      // before the measured streams: the stack idle
      quiet: settleQuietly, dbName: dbUrl ? new URL(dbUrl).pathname.slice(1) : undefined });
    const c = results.chatOverhead;
    log(`  model alone: TTFB p50 ${c.model.ttfbP50.toFixed(1)} ms, total p50 ${c.model.totalP50.toFixed(1)} ms`);
    log(`  through chat: TTFB p50 ${c.chat.ttfbP50.toFixed(1)} ms (p95 ${c.chat.ttfbP95.toFixed(1)}), total p50 ${c.chat.totalP50.toFixed(1)} ms (p95 ${c.chat.totalP95.toFixed(1)})`);
    log(`  overhead: TTFB p50 +${c.overheadMs.ttfbP50.toFixed(1)} ms, p95 +${c.overheadMs.ttfbP95.toFixed(1)} ms; total p50 +${c.overheadMs.totalP50.toFixed(1)} ms`);
    if (children.length) log(`  CPU ms per chat request by app: ${JSON.stringify(c.cpuMsPerRequest)}`);
  } else if (opts.chat > 0) {
    log('chat: skipped (needs the self-booted stack, which it points at its local model)');
  }

  if (opts.replicaJoin && children.length && results.retrievalCorpus) {
    log(`a second retrieval replica starts (a restart or a scale-out) and loads the ${results.retrievalCorpus.chunks}-chunk index while the first serves...`);
    results.replicaJoin = await replicaJoin(results.retrievalCorpus.datasetId);
    const j = results.replicaJoin;
    log(`  ready after ${j.readySecs.toFixed(1)} s (CPU ${j.cpuSeconds.toFixed(1)} s, peak RSS ${j.peakRssMB} MB); meanwhile ${j.queries} queries answered, ${j.failed} failed, slowest ${j.slowestMs.toFixed(0)} ms${j.slowerThan1s.length ? ` (over 1 s: ${j.slowerThan1s.join(', ')})` : ''}`);
  }

  if (children.length) {
    results.peakRssMB = Object.fromEntries(Object.entries(peakRss()).map(([k, v]) => [k, Math.round(v / MB)]));
    log(`peak RSS (MB): ${JSON.stringify(results.peakRssMB)}`);
  }
  console.log(JSON.stringify(results, null, 2));
  return dbUrl;
}

let exitCode = 0;
let chatModel;
let bootedDbUrl;
await main().catch((err) => {
  console.error('[bench] failed:', err.message, err.cause ?? '');
  exitCode = 1;
});
for (const { child } of children) child.kill('SIGTERM');
await chatModel?.server.stop();
await sleep(1500);
const dbUrl = bootedDbUrl;
if (dbUrl && !existsSync(path.join(root, '.bench/keep'))) {
  const pg = (await import('pg')).default;
  const admin = new URL(dbUrl);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  await c.end();
}
process.exit(exitCode);
