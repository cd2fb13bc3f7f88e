#!/usr/bin/env node
// `npm start`: the whole system on one machine with embedded defaults. Applies migrations, makes sure the
// default tenant's API key exists, runs the four apps as child processes (restarting any that crash), and
// prints the base URL and the API key once the API answers /health. Ctrl-C stops everything cleanly.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrateDeploy } from '../packages/db/scripts/migrate.mjs';
import { ingestNodeArgs, ingestReplicas, serviceNodeArgs } from './app-processes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
env.DATA_DIR = path.resolve(env.DATA_DIR || path.join(root, '.data'));
env.DATABASE_URL ||= 'postgresql://postgres@127.0.0.1:5432/ragnest';
env.PORT ||= '9380';
const say = (msg) => process.stdout.write(`[ragnest] ${msg}\n`);

// settings first: a mistake stops here, before anything is created
let ingest;
let serviceArgs;
try {
  ingest = { replicas: ingestReplicas(env), nodeArgs: ingestNodeArgs(env) };
  serviceArgs = serviceNodeArgs(env);
} catch (err) {
  say(err.message);
  process.exit(1);
}
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

const apps = [
  { name: 'retrieval', main: 'apps/retrieval/dist/main.js', nodeArgs: serviceArgs },
  { name: 'embedding', main: 'apps/embedding/dist/main.js' },
  ...Array.from({ length: ingest.replicas }, (_, i) => ({
    name: ingest.replicas > 1 ? `ingest-worker#${i + 1}` : 'ingest-worker',
    main: 'apps/ingest-worker/dist/main.js',
    nodeArgs: ingest.nodeArgs,
  })),
  { name: 'api', main: 'apps/api/dist/main.js', nodeArgs: serviceArgs },
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
