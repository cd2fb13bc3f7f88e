// Jest global setup: migrate a template database once per migration set; each test file clones it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrateDeploy } from '../packages/db/scripts/migrate.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default async function globalSetup() {
  const admin = process.env.RAGNEST_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const migDir = path.join(root, 'packages/db/prisma/migrations');
  const h = createHash('sha1');
  for (const d of readdirSync(migDir).sort()) {
    if (/^\d+_/.test(d)) h.update(d).update(readFileSync(path.join(migDir, d, 'migration.sql')));
  }
  const name = `ragnest_test_tpl_${h.digest('hex').slice(0, 12)}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      const url = new URL(admin);
      url.pathname = `/${name}`;
      await migrateDeploy(url.toString());
    }
    // remove clones left behind by killed runs (older than a day is impossible to tell; they are cheap)
  } finally {
    await c.end();
  }
  process.env.RAGNEST_TEST_TEMPLATE = name;
}
