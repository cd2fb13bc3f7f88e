import { createHash } from 'node:crypto';
import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { tryFinishDocument, type Prisma, type PrismaClient } from '@ragnest/db';
import { JobNames, Queues, jobIds } from '@ragnest/contracts';
import { InjectConfig, InjectDb, QueueProducer, settleWithin } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { getLogger } from '@ragnest/logger';

type Tx = Prisma.TransactionClient;

/** One replica at a time runs a pass (transaction-scoped advisory lock). */
const LOCK_KEY = 724_311_001;
/** the transaction holding the lock is the pass: its reads and writes run through it */
const PASS_TX = { maxWait: 30_000, timeout: 10 * 60_000 };
/** Chunk work is only re-enqueued after it has been pending this long with its queue idle. */
const STUCK_AFTER_MS = 30_000;
const BATCH = 128;
/** Shutdown waits this long at most for a pass in progress (a long one is then rolled back with its transaction). */
const SHUTDOWN_WAIT_MS = 10_000;

const groupId = (ids: string[]) => createHash('sha1').update(ids.join(',')).digest('hex').slice(0, 16);

/**
 * Redis holds queues only. If it loses them (flush, restart without persistence) or a job is lost, this
 * pass re-creates the work from what Postgres says is still pending, with deterministic job ids so work
 * already queued is not doubled.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  /** the pass in progress, awaited at shutdown */
  private current?: Promise<unknown>;

  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectConfig() private readonly config: AppConfig,
    private readonly producer: QueueProducer,
  ) {}

  onApplicationBootstrap(): void {
    const tick = () => {
      void this.pass()
        .catch((err: unknown) => getLogger().warn({ err: String(err) }, 'reconcile pass failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.config.workers.reconcileIntervalMs);
        });
    };
    this.timer = setTimeout(tick, 1000);
  }

  /**
   * Before the database clients close (their own shutdown hooks): no new pass, and the one in progress ends
   * first, for SHUTDOWN_WAIT_MS at most. A pass cut off by the disconnect ended in a "Transaction not found"
   * warning (seen when `npm start` was stopped during one).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.current) await settleWithin(this.current, SHUTDOWN_WAIT_MS);
  }

  pass(): Promise<{ parse: number; embed: number; index: number; finished: number }> {
    if (this.running || this.stopped) return Promise.resolve({ parse: 0, embed: 0, index: 0, finished: 0 });
    const run = this.runPass();
    this.current = run;
    return run;
  }

  private async runPass(): Promise<{ parse: number; embed: number; index: number; finished: number }> {
    this.running = true;
    try {
      // One replica at a time. The lock belongs to a transaction, which keeps its one connection, and the
      // pass reads and writes through it: a session lock taken and released through the pool could be released
      // on another connection (Postgres then warns "you don't own a lock") and stay held on the first, shutting
      // the other replicas out for good.
      return await this.db.$transaction(
        async (tx) => {
          const got = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS ok`;
          if (!got[0]?.ok) return { parse: 0, embed: 0, index: 0, finished: 0 };
          return this.reconcile(tx);
        },
        PASS_TX,
      );
    } finally {
      this.running = false;
    }
  }

  private async reconcile(tx: Tx) {
    const result = { parse: 0, embed: 0, index: 0, finished: 0 };
    // 1. parse tasks Postgres says are pending, with no job in the queue
    const tasks = await tx.$queryRaw<{ id: string; document_id: string; generation: number }[]>`
      SELECT t.id, t.document_id, t.generation FROM parse_task t JOIN document d ON d.id = t.document_id
      WHERE t.state IN ('QUEUED', 'RUNNING') AND d.run = 'RUNNING' AND d.generation = t.generation`;
    for (const t of tasks) {
      const payload = { taskId: t.id, documentId: t.document_id, generation: t.generation };
      const jobId = jobIds.parseTask(payload);
      const state = await this.producer.jobState(Queues.ingest, jobId);
      if (state === null) {
        await this.producer.enqueue(JobNames.parseTask, payload, { jobId });
        result.parse++;
      }
    }
    // 2. chunks without vectors / not indexed, when their queue has nothing left to do
    const cutoff = new Date(Date.now() - STUCK_AFTER_MS);
    if (await this.idle(Queues.embed)) result.embed = await this.requeueChunks(tx, 'embed', cutoff);
    if (await this.idle(Queues.index)) result.index = await this.requeueChunks(tx, 'index', cutoff);
    // 3. documents whose last step finished but whose DONE transition was lost
    const candidates = await tx.document.findMany({ where: { run: 'RUNNING', updatedAt: { lt: cutoff } }, select: { id: true, generation: true } });
    for (const d of candidates) if (await tryFinishDocument(tx, d.id, d.generation)) result.finished++;
    if (result.parse + result.embed + result.index + result.finished > 0) getLogger().info(result, 'reconciler re-created lost work');
    return result;
  }

  private async idle(queue: (typeof Queues)[keyof typeof Queues]): Promise<boolean> {
    const counts = await this.producer.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    return Object.values(counts).every((n) => n === 0);
  }

  private async requeueChunks(tx: Tx, kind: 'embed' | 'index', cutoff: Date): Promise<number> {
    const rows = await tx.$queryRaw<{ id: string; document_id: string; generation: number }[]>`
      SELECT c.id, c.document_id, d.generation FROM chunk c JOIN document d ON d.id = c.document_id
        LEFT JOIN chunk_vector v ON v.chunk_id = c.id
      WHERE d.run IN ('RUNNING', 'DONE') AND GREATEST(c.updated_at, v.updated_at) < ${cutoff}
        AND ${kind === 'embed'}::boolean = (v.chunk_id IS NULL) AND NOT c.indexed
      ORDER BY c.document_id, c.ord LIMIT 20000`;
    const byDoc = new Map<string, { generation: number; ids: string[] }>();
    for (const r of rows) {
      const e = byDoc.get(r.document_id) ?? { generation: r.generation, ids: [] };
      e.ids.push(r.id);
      byDoc.set(r.document_id, e);
    }
    let n = 0;
    for (const [documentId, { generation, ids }] of byDoc) {
      for (let i = 0; i < ids.length; i += BATCH) {
        const chunkIds = ids.slice(i, i + BATCH);
        const name = kind === 'embed' ? JobNames.embedChunks : JobNames.indexChunks;
        await this.producer.enqueue(name, { documentId, generation, chunkIds }, { jobId: jobIds.chunkBatch(kind, documentId, generation, groupId(chunkIds)) });
        n++;
      }
    }
    return n;
  }
}
