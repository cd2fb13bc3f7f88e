/**
 * `npm start`'s launcher: migrations on a database it creates, the default tenant's key generated once and
 * printed, the four apps healthy, and Ctrl-C (SIGINT) stopping everything cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PG_ADMIN_URL, REDIS_URL, freePort, uniquePrefix } from '@ragnest/testkit';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('launcher: creates the database, prints URL and key, serves the API, stops on SIGINT', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ragnest-start-'));
  const dbName = `ragnest_start_${Date.now()}`;
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: url.toString(), PORT: String(port), REDIS_URL, REDIS_PREFIX: uniquePrefix('start'), LOG_LEVEL: 'warn', API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  try {
    const deadline = Date.now() + 90_000;
    while (!out.includes('API key:') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain(`base URL: http://127.0.0.1:${port}`);
    const key = /API key:\s+(\S+)/.exec(out)?.[1];
    expect(key).toMatch(/^ragflow-/);
    expect(readFileSync(path.join(dataDir, 'api_key'), 'utf8').trim()).toBe(key);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/datasets`, { headers: { Authorization: `Bearer ${key}` } });
    expect(await res.json()).toEqual({ code: 0, data: [], total_datasets: 0 });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped.');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await c.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
