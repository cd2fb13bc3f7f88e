import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { createTestDatabase, uniquePrefix, REDIS_URL, type TestDatabase } from './db.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type AppName = 'api' | 'ingest-worker' | 'embedding' | 'retrieval';
const MAIN: Record<AppName, string> = {
  api: 'apps/api/dist/main.js',
  'ingest-worker': 'apps/ingest-worker/dist/main.js',
  embedding: 'apps/embedding/dist/main.js',
  retrieval: 'apps/retrieval/dist/main.js',
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface StackProcess {
  app: AppName;
  child: ChildProcess;
  output: string[];
}

export interface Stack {
  baseUrl: string;
  apiKey: string;
  env: Record<string, string>;
  db: TestDatabase;
  processes: StackProcess[];
  /** starts one more replica of an app */
  start(app: AppName, extraEnv?: Record<string, string>): StackProcess;
  /** SIGKILL (or another signal) one process and wait for it to exit */
  kill(p: StackProcess, signal?: NodeJS.Signals): Promise<void>;
  logs(app?: AppName): string;
  stop(): Promise<void>;
}

export interface StackOptions {
  label?: string;
  env?: Record<string, string>;
  replicas?: Partial<Record<AppName, number>>;
  /** more processes with their own settings (e.g. a metrics port per replica), started before the health wait */
  extra?: { app: AppName; env: Record<string, string> }[];
}

/** Boots the built apps as real processes against the real Postgres and Redis, isolated per call. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const db = await createTestDatabase(opts.label ?? 'e2e');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ragnest-e2e-'));
  const port = await freePort();
  const apiKey = `ragflow-test-${Math.random().toString(36).slice(2)}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: uniquePrefix(opts.label ?? 'e2e'),
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    API_KEY: apiKey,
    LOG_LEVEL: process.env.RAGNEST_TEST_LOG_LEVEL ?? 'warn',
    JOB_LOCK_MS: '4000',
    RECONCILE_INTERVAL_MS: '1000',
    INDEX_OPTIMIZE_INTERVAL_MS: '2000',
    SHUTDOWN_GRACE_MS: '3000',
    ...opts.env,
  };
  const processes: StackProcess[] = [];
  const start = (app: AppName, extraEnv: Record<string, string> = {}): StackProcess => {
    const child = spawn(process.execPath, [path.join(root, MAIN[app])], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const p: StackProcess = { app, child, output: [] };
    const keep = (b: Buffer) => {
      p.output.push(b.toString());
      if (p.output.length > 2000) p.output.splice(0, 1000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    processes.push(p);
    return p;
  };
  const replicas = { retrieval: 1, embedding: 1, 'ingest-worker': 1, api: 1, ...opts.replicas };
  for (const app of ['retrieval', 'embedding', 'ingest-worker', 'api'] as AppName[]) for (let i = 0; i < replicas[app]; i++) start(app);
  for (const e of opts.extra ?? []) start(e.app, e.env);
  const baseUrl = `http://127.0.0.1:${port}`;
  const stack: Stack = {
    baseUrl,
    apiKey,
    env,
    db,
    processes,
    start,
    kill: (p, signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
        p.child.once('exit', () => resolve());
        p.child.kill(signal);
      }),
    logs: (app) => processes.filter((p) => !app || p.app === app).map((p) => `--- ${p.app} (pid ${p.child.pid})\n${p.output.join('')}`).join('\n'),
    stop: async () => {
      await Promise.all(processes.map((p) => stack.kill(p, 'SIGTERM')));
      await db.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  // wait for health (every dependency, including the retrieval service)
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      const logs = stack.logs();
      await stack.stop();
      throw new Error(`stack did not become healthy:\n${logs.slice(-5000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return stack;
}
