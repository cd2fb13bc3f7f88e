#!/usr/bin/env node
// `npm test`: every tier (unit, integration against the real Postgres and Redis, e2e against the booted
// apps) with one Jest, plus the migration check and lint. Extra arguments go to Jest (e.g. --selectProjects unit).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

const check = spawnSync(process.execPath, ['packages/db/scripts/migrate.mjs', 'check'], { cwd: root, stdio: 'inherit' });
if (check.status !== 0) process.exit(check.status ?? 1);

// lint (no floating promises, public-entry imports only, zero warnings) unless only some tests were asked for
if (args.length === 0) {
  const lint = spawnSync(process.execPath, ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', '.'], { cwd: root, stdio: 'inherit' });
  if (lint.status !== 0) process.exit(lint.status ?? 1);
}

const jest = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js', '--ci', ...args],
  { cwd: root, stdio: 'inherit', env: { ...process.env, RAGNEST_TEST: '1' } },
);
process.exit(jest.status ?? 1);
