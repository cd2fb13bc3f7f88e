#!/usr/bin/env node
// Applies (deploy) or checks (check) the committed migrations with the Prisma 6.19 CLI's WASM engine.
//   node scripts/migrate.mjs deploy            apply pending migrations to $DATABASE_URL (creates the db if missing)
//   node scripts/migrate.mjs check             fail if schema.prisma has changes without a migration
//   node scripts/migrate.mjs diff NAME         write a new migration folder for the pending schema change
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const prisma6 = path.join(path.dirname(require.resolve('prisma6/package.json')), 'build/index.js');

export async function ensureDatabase(url) {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (!rowCount) await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
  } catch (err) {
    // two processes may race to create it
    if (!/already exists/.test(String(err))) throw err;
  } finally {
    await client.end();
  }
}

function v6Schema(source = path.join(pkgDir, 'prisma/schema.prisma'), fileName = 'schema.prisma') {
  const src = readFileSync(source, 'utf8');
  const out = src
    .replace(/datasource db \{\s*provider\s*=\s*"postgresql"\s*\}/, 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}')
    .replace(/generator client \{[\s\S]*?\}/, 'generator client {\n  provider = "prisma-client-js"\n}');
  const dir = path.join(pkgDir, 'node_modules/.ragnest-migrate');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, fileName);
  writeFileSync(file, out);
  return file;
}

function runPrisma6(args, { capture = false } = {}) {
  const fake = path.join(pkgDir, 'prisma/no-native-engine');
  const env = {
    ...process.env,
    RAGNEST_MIGRATE_SCHEMA: v6Schema(),
    // The WASM engine is used; these only stop the CLI from trying to download native engines.
    PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? fake,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fake,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  };
  const res = spawnSync(process.execPath, [prisma6, ...args, '--config', path.join(pkgDir, 'prisma.migrate.config.ts')], {
    cwd: pkgDir,
    env,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'inherit'],
  });
  return res;
}

export async function migrateDeploy(url) {
  await ensureDatabase(url);
  process.env.DATABASE_URL = url;
  const res = runPrisma6(['migrate', 'deploy'], { capture: true });
  if (res.status !== 0) {
    throw new Error(`prisma migrate deploy failed:\n${res.stdout}\n${res.stderr}`);
  }
  return res.stdout;
}

async function main() {
  const [cmd, name] = process.argv.slice(2);
  const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ragnest';
  if (cmd === 'deploy') {
    const out = await migrateDeploy(url);
    process.stdout.write(out.split('\n').filter((l) => /migration|applied|No pending/i.test(l)).join('\n') + '\n');
    return;
  }
  if (cmd === 'check' || cmd === 'diff') {
    // The WASM engine cannot introspect a database for diffs, so each migration is written together with
    // a snapshot of the schema it produces; pending changes = diff(snapshot, schema.prisma).
    const snapshot = path.join(pkgDir, 'prisma/migrations/schema.snapshot.prisma');
    // the WASM engine opens a connection even for a datamodel-to-datamodel diff; give it an empty database
    const scratch = new URL(url);
    scratch.pathname = '/ragnest_migrate_tool';
    await ensureDatabase(scratch.toString());
    process.env.DATABASE_URL = scratch.toString();
    const hasSnapshot = existsSync(snapshot);
    const from = hasSnapshot ? ['--from-schema-datamodel', v6Schema(snapshot, 'snapshot.prisma')] : ['--from-empty'];
    const res = runPrisma6(['migrate', 'diff', ...from, '--to-schema-datamodel', v6Schema(), '--script'], { capture: true });
    if (res.status !== 0) throw new Error(`prisma migrate diff failed:\n${res.stderr}`);
    const sql = res.stdout.trim();
    const pending = sql.length > 0 && !/^-- This is an empty migration\.?$/.test(sql);
    if (cmd === 'check') {
      if (pending) {
        console.error('schema.prisma has changes without a migration. Run: npm run migrate:diff -w @ragnest/db -- <name>\n' + sql);
        process.exitCode = 1;
      } else console.log('migrations are current with schema.prisma');
      return;
    }
    if (!name) throw new Error('usage: migrate.mjs diff <name>');
    if (!pending) { console.log('no schema change'); return; }
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = path.join(pkgDir, 'prisma/migrations', `${stamp}_${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'migration.sql'), sql + '\n');
    writeFileSync(snapshot, readFileSync(path.join(pkgDir, 'prisma/schema.prisma'), 'utf8'));
    console.log(`wrote ${path.relative(pkgDir, dir)}/migration.sql`);
    return;
  }
  console.error('usage: migrate.mjs deploy | check | diff <name>');
  process.exitCode = 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => { console.error(err.message ?? err); process.exit(1); });
}
