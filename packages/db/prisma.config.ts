// Prisma 7 CLI config: used for `prisma generate` only (the client runs on @prisma/adapter-pg, no engine).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ragnest' },
});
