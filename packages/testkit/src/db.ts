import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.RAGNEST_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

function withDb(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file, cloned from the template that global setup migrated once.
 * Clones are cheap (file copy), so files never share state and nothing is truncated.
 */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const template = process.env.RAGNEST_TEST_TEMPLATE;
  if (!template) throw new Error('RAGNEST_TEST_TEMPLATE is not set: run tests through `npm test` (jest globalSetup)');
  const name = `ragnest_t_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  // CREATE DATABASE ... TEMPLATE fails while another session uses the template; retry briefly
  for (let i = 0; ; i++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      break;
    } catch (err) {
      if (i > 50 || !/being accessed by other users/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    name,
    url: withDb(PG_ADMIN_URL, name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** A Redis key prefix no other test run uses. */
export function uniquePrefix(label = 'test'): string {
  return `ragnest-test:${label}:${randomBytes(4).toString('hex')}`;
}

export const REDIS_URL = process.env.RAGNEST_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
