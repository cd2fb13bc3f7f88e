#!/usr/bin/env node
// `npm start`: the whole system on one machine with embedded defaults. Applies migrations, makes sure the
// default tenant's API key exists, runs the four apps as child processes (restarting any that crash), and
// prints the base URL and the API key once the API answers /health. Ctrl-C stops everything cleanly.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrateDeploy } from '../packages/db/scripts/migrate.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
env.DATA_DIR = path.resolve(env.DATA_DIR || path.join(root, '.data'));
env.DATABASE_URL ||= 'postgresql://postgres@127.0.0.1:5432/ragnest';
env.PORT ||= '9380';
const say = (msg) => process.stdout.write(`[ragnest] ${msg}\n`);

mkdirSync(env.DATA_DIR, { recursive: true });
say(`applying database migrations to ${env.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}`);
try {
  await migrateDeploy(env.DATABASE_URL);
} catch (err) {
  say(`cannot prepare the database: ${err.message}`);
  process.exit(1);
}

if (!env.API_KEY) {
  const keyFile = path.join(env.DATA_DIR, 'api_key');
  if (existsSync(keyFile)) env.API_KEY = readFileSync(keyFile, 'utf8').trim();
  else {
    env.API_KEY = `ragflow-${randomBytes(24).toString('base64url')}`;
    writeFileSync(keyFile, env.API_KEY + '\n', { mode: 0o600 });
  }
}

// Parsing is CPU-bound and a Node process computes on one core: one ingest-worker per core (up to 4) keeps
// the machine busy while documents parse. INGEST_REPLICAS overrides it.
const ingestReplicas = Number(env.INGEST_REPLICAS || Math.min(4, availableParallelism()));
if (!Number.isInteger(ingestReplicas) || ingestReplicas < 1) {
  say(`INGEST_REPLICAS must be a positive integer, got ${env.INGEST_REPLICAS}`);
  process.exit(1);
}
// The ingest-worker's live data is small (documents stream, pdf.js pages are released as it goes), but with
// Node's default heap limit garbage from parsing and OCR piles up to ~1 GB before V8 collects it; a limit makes
// it collect sooner at no measurable cost (peak 782–993 → 666 MB on the bench). INGEST_MAX_OLD_SPACE_MB overrides.
const ingestHeapMb = Number(env.INGEST_MAX_OLD_SPACE_MB || 768);
if (!Number.isInteger(ingestHeapMb) || ingestHeapMb < 128) {
  say(`INGEST_MAX_OLD_SPACE_MB must be an integer of at least 128, got ${env.INGEST_MAX_OLD_SPACE_MB}`);
  process.exit(1);
}
const apps = [
  { name: 'retrieval', main: 'apps/retrieval/dist/main.js' },
  { name: 'embedding', main: 'apps/embedding/dist/main.js' },
  ...Array.from({ length: ingestReplicas }, (_, i) => ({
    name: ingestReplicas > 1 ? `ingest-worker#${i + 1}` : 'ingest-worker',
    main: 'apps/ingest-worker/dist/main.js',
    nodeArgs: [`--max-old-space-size=${ingestHeapMb}`],
  })),
  { name: 'api', main: 'apps/api/dist/main.js' },
];
const children = new Map();
let stopping = false;

function launch(app, attempt = 0) {
  const child = spawn(process.execPath, [...(app.nodeArgs ?? []), path.join(root, app.main)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.set(app.name, child);
  const started = Date.now();
  child.on('exit', (code, signal) => {
    children.delete(app.name);
    if (stopping) return;
    // crash loop protection: back off, but keep the system up
    const next = Date.now() - started > 30_000 ? 0 : attempt + 1;
    const delay = Math.min(30_000, 500 * 2 ** next);
    say(`${app.name} exited (${signal ?? code}); restarting in ${delay} ms`);
    setTimeout(() => !stopping && launch(app, next), delay);
  });
}
for (const app of apps) launch(app);

const base = `http://127.0.0.1:${env.PORT}`;
(async () => {
  for (let i = 0; i < 600 && !stopping; i++) {
    try {
      const res = await fetch(`${base}/health`);
      if (res.status === 200) {
        say('RagNest is ready.');
        say(`  base URL: ${base}`);
        say(`  API key:  ${env.API_KEY}`);
        say(`  health:   ${base}/health   metrics: ${base}/metrics   data: ${env.DATA_DIR}`);
        return;
      }
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!stopping) say(`the API did not become healthy; see ${base}/health`);
})();

function stop(signal) {
  if (stopping) return;
  stopping = true;
  say(`stopping (${signal}): letting running jobs finish...`);
  for (const c of children.values()) c.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const c of children.values()) c.kill('SIGKILL');
    process.exit(1);
  }, Number(env.SHUTDOWN_GRACE_MS || 20_000) + 5_000);
  deadline.unref();
  const wait = setInterval(() => {
    if (children.size === 0) {
      clearInterval(wait);
      say('stopped.');
      process.exit(0);
    }
  }, 100);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
