#!/usr/bin/env node
// `prisma generate` (Prisma 7). The client needs no engine (it runs on @prisma/adapter-pg); the CLI still
// looks for a schema-engine binary path, so we point it at a placeholder instead of letting it download one.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build/index.js');
const placeholder = path.join(pkgDir, 'prisma/no-native-engine');
const res = spawnSync(process.execPath, [cli, 'generate'], {
  cwd: pkgDir,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? placeholder,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(res.status ?? 1);
