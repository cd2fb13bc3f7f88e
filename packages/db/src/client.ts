import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/** Prisma 7 client on the pg driver adapter (no native engine). */
export function createPrisma(databaseUrl: string, opts: { poolSize?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}

export async function pingPostgres(db: PrismaClient): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}
