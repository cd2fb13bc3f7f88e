import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/** Prisma 7 client on the pg driver adapter (no native engine). */
export function createPrisma(databaseUrl: string, opts: { poolSize?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}

export async function pingPostgres(db: PrismaClient): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/** A write refused by a unique constraint (Prisma P2002): someone else created the same row first. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
