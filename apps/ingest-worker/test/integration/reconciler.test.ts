import { createPrisma, type PrismaClient } from '@ragnest/db';
import { createTestDatabase, deferred, settlesWithin, type TestDatabase } from '@ragnest/testkit';
import type { AppConfig } from '@ragnest/config';
import type { QueueProducer } from '@ragnest/runtime';
import { ReconcilerService } from '../../src/reconcile/reconciler.service.js';

// the reconciler's lock key (one pass at a time across replicas)
const LOCK_KEY = 724_311_001;

let tdb: TestDatabase;
let db: PrismaClient;
let other: PrismaClient;

beforeAll(async () => {
  tdb = await createTestDatabase('reconciler');
  db = createPrisma(tdb.url, { poolSize: 4 });
  other = createPrisma(tdb.url, { poolSize: 1 });
});
afterAll(async () => {
  await db?.$disconnect();
  await other?.$disconnect();
  await tdb?.drop();
});

const config = { workers: { reconcileIntervalMs: 60_000 } } as unknown as AppConfig;
// nothing is pending in this database and the queues are idle: the passes enqueue nothing
const producer = {
  enqueue: () => Promise.reject(new Error('nothing should be enqueued')),
  queue: () => ({ getJobCounts: () => Promise.resolve({ waiting: 0, active: 0, delayed: 0 }) }),
} as unknown as QueueProducer;

/** A reconciler on `client` that counts the passes it really ran (past the lock). */
function reconciler(client = db) {
  const svc = new ReconcilerService(client, config, producer);
  const inner = svc as unknown as { reconcile: (...args: unknown[]) => Promise<unknown> };
  const run = inner.reconcile.bind(svc);
  const passes = { n: 0 };
  inner.reconcile = (...args) => {
    passes.n++;
    return run(...args);
  };
  return { svc, passes };
}

const advisoryLocks = async () =>
  (await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = ${LOCK_KEY}`)[0]!.n;

test('a pass waits its turn: while another replica holds the lock it does nothing, then it runs', async () => {
  const { svc, passes } = reconciler();
  const held = deferred();
  const isLocked = deferred();
  const holder = other.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      isLocked.resolve();
      await held.promise;
    },
    { timeout: 30_000 },
  );
  await Promise.race([isLocked.promise, holder]);
  await svc.pass();
  expect(passes.n).toBe(0);
  held.resolve();
  await holder;
  await svc.pass();
  expect(passes.n).toBe(1);
});

test('no pass leaves the lock behind on a pooled connection', async () => {
  const a = reconciler();
  const b = reconciler();
  for (let i = 0; i < 15; i++) await Promise.all([a.svc.pass(), b.svc.pass(), db.$queryRaw`SELECT 1`]);
  expect(await advisoryLocks()).toBe(0);
  // and another replica (another client, a pool of one connection: the pass needs no second one) takes its turn
  const c = reconciler(other);
  await c.svc.pass();
  expect(c.passes.n).toBe(1);
});

test('shutdown waits for the pass in progress before the database clients close, and no pass starts after it', async () => {
  const { svc, passes } = reconciler();
  const none = { parse: 0, embed: 0, index: 0, finished: 0 };
  // hold the pass inside its transaction, where a disconnect would cut it off
  const hold = deferred();
  const inner = svc as unknown as { reconcile: (...args: unknown[]) => Promise<unknown> };
  const counted = inner.reconcile;
  inner.reconcile = async (...args) => {
    await hold.promise;
    return counted(...args);
  };
  const running = svc.pass();
  const stopping = svc.beforeApplicationShutdown();
  expect(await settlesWithin(stopping, 100)).toBe(false);
  hold.resolve();
  await stopping;
  await expect(running).resolves.toEqual(none);
  expect(passes.n).toBe(1);
  await expect(svc.pass()).resolves.toEqual(none);
  expect(passes.n).toBe(1);
  expect(await advisoryLocks()).toBe(0);
});
