// Prisma 6.19 CLI config for `migrate deploy` / `migrate diff` (driven by scripts/migrate.mjs).
// Its WASM schema engine runs through the pg driver adapter: no native engine download, works offline.
// The Prisma 7 schema has no datasource url, which the 6.19 parser requires, so scripts/migrate.mjs
// writes a compatible copy of the schema and points RAGNEST_MIGRATE_SCHEMA at it.
import path from 'node:path';
import { defineConfig } from 'prisma6/config';
import { PrismaPg } from '@prisma/adapter-pg';

export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  schema: process.env.RAGNEST_MIGRATE_SCHEMA ?? 'prisma/schema.prisma',
  migrations: { path: path.resolve(import.meta.dirname, 'prisma/migrations') },
  async adapter() {
    // `migrate diff` between two datamodels never connects; `deploy` is always given DATABASE_URL.
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ragnest' });
  },
});
