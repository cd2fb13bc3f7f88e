/**
 * `npm start`'s launcher: migrations on a database it creates, the default tenant's key generated once and
 * printed, the four apps healthy, and Ctrl-C (SIGINT) stopping everything cleanly.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PG_ADMIN_URL, REDIS_URL, freePort, uniquePrefix } from '@ragnest/testkit';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Pids of the app processes (`apps/api/…` for the api's primary and workers) this launcher started: found by their DATA_DIR. */
function appPids(dataDir: string, main = 'apps/'): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(main)) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`DATA_DIR=${dataDir}`)) pids.push(Number(pid));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}
const apiPids = (dataDir: string) => appPids(dataDir, 'apps/api/dist/main.js');

/** A GET on a connection of its own, so node:cluster hands each to the next api worker. */
function getFresh(port: number, p: string, key: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, headers: { Authorization: `Bearer ${key}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return cond();
}

/** `npm start`'s launcher on a database and DATA_DIR of its own, its output collected. */
async function launch(env: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ragnest-start-'));
  const dbName = `ragnest_start_${Date.now()}`;
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: url.toString(), PORT: String(port), REDIS_URL, REDIS_PREFIX: uniquePrefix('start'), LOG_LEVEL: 'warn', API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const launched = { child, dataDir, dbName, port, out: '' };
  child.stdout.on('data', (b: Buffer) => (launched.out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (launched.out += b.toString()));
  return launched;
}

/** Whatever happened: the launcher and its apps gone, the database and DATA_DIR removed. */
async function cleanUp(l: Awaited<ReturnType<typeof launch>>): Promise<void> {
  if (l.child.exitCode === null) l.child.kill('SIGKILL');
  // a launcher killed outright leaves its apps behind
  for (const pid of appPids(l.dataDir)) process.kill(pid, 'SIGKILL');
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${l.dbName}" WITH (FORCE)`);
  await c.end();
  rmSync(l.dataDir, { recursive: true, force: true });
}

test('launcher: creates the database, prints URL and key, serves the API, stops on SIGINT', async () => {
  const l = await launch({});
  const { child, dataDir, port } = l;
  try {
    await until(() => l.out.includes('API key:') || child.exitCode !== null, 90_000);
    expect(l.out).toContain(`base URL: http://127.0.0.1:${port}`);
    const key = /API key:\s+(\S+)/.exec(l.out)?.[1];
    expect(key).toMatch(/^ragflow-/);
    expect(readFileSync(path.join(dataDir, 'api_key'), 'utf8').trim()).toBe(key);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/datasets`, { headers: { Authorization: `Bearer ${key}` } });
    expect(await res.json()).toEqual({ code: 0, data: [], total_datasets: 0 });
    // the api and the retrieval service run with the larger young generation (NODE_SEMI_SPACE_MB), the others without
    const flagsOf = (main: string) => appPids(dataDir, main).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    for (const main of ['apps/api/dist/main.js', 'apps/retrieval/dist/main.js']) {
      expect(flagsOf(main)).toEqual([expect.arrayContaining(['--max-semi-space-size=64'])]);
    }
    expect(flagsOf('apps/embedding/dist/main.js')).toEqual([expect.not.arrayContaining(['--max-semi-space-size=64'])]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(l.out).toContain('stopped.');
  } finally {
    await cleanUp(l);
  }
});

test('launcher: a bad NODE_SEMI_SPACE_MB stops it with a clear message before anything is created', async () => {
  const l = await launch({ NODE_SEMI_SPACE_MB: 'lots' });
  try {
    const code = await new Promise<number | null>((resolve) => (l.child.exitCode !== null ? resolve(l.child.exitCode) : l.child.once('exit', resolve)));
    expect(code).toBe(1);
    expect(l.out).toContain('NODE_SEMI_SPACE_MB must be an integer from 0 to 1024, got lots');
    expect(l.out).not.toContain('applying database migrations');
  } finally {
    await cleanUp(l);
  }
});

test('launcher with API_WORKERS=2: two api workers share the port, /metrics sums both, a killed worker is replaced, SIGINT stops all', async () => {
  const l = await launch({ API_WORKERS: '2', LOG_LEVEL: 'info' });
  const { child, dataDir, port } = l;
  try {
    await until(() => l.out.includes('API key:') || child.exitCode !== null, 90_000);
    const key = /API key:\s+(\S+)/.exec(l.out)?.[1] ?? '';
    expect(key).toMatch(/^ragflow-/);
    // the launcher calls the system ready once /health answers, which one worker is enough for
    expect(await until(() => apiPids(dataDir).length === 3, 30_000)).toBe(true); // the primary and two workers

    const n = 8;
    for (let i = 0; i < n; i++) {
      const res = await getFresh(port, '/api/v1/datasets', key);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ code: 0, data: [], total_datasets: 0 });
    }
    // the requests went to both workers in turn; whichever serves /metrics reports all of them
    const metrics = (await getFresh(port, '/metrics', key)).body;
    const counted = /ragnest_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/datasets"[^}]*status="200"[^}]*\} (\d+)/.exec(metrics);
    expect(Number(counted?.[1])).toBe(n);

    const [primary, ...workers] = apiPids(dataDir).sort((a, b) => a - b);
    expect(primary).toBeDefined();
    process.kill(workers[0]!, 'SIGKILL');
    expect(await until(() => apiPids(dataDir).length === 3 && !apiPids(dataDir).includes(workers[0]!), 30_000)).toBe(true);
    for (let i = 0; i < 4; i++) expect((await getFresh(port, '/api/v1/datasets', key)).status).toBe(200);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    const code = await exited;
    if (code !== 0) process.stderr.write(l.out.split('\n').filter((l) => !/RouterExplorer|RoutesResolver|InstanceLoader/.test(l)).slice(-30).join('\n'));
    expect(code).toBe(0);
    expect(l.out).toContain('stopped.');
    expect(apiPids(dataDir)).toEqual([]);
  } finally {
    await cleanUp(l);
  }
});
