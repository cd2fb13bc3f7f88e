import { Queue, type ConnectionOptions } from 'bullmq';
import { currentCorrelationId } from '@ragnest/logger';
import { JobNames, jobQueue, jobSchemas, retryPolicies, type JobName, type JobPayload, type QueueName } from '@ragnest/contracts';

/** Most chunk ids one index job carries when a document's chunks are (re-)indexed in bulk. */
const INDEX_JOB_CHUNKS = 500;

export interface EnqueueOptions {
  /** deterministic id: the same work enqueued twice leaves one job */
  jobId?: string;
  delayMs?: number;
  priority?: number;
}

/** The only way work is put on a queue: payloads are validated against their contract first. */
export class QueueProducer {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, q);
    }
    return q;
  }

  async enqueue<K extends JobName>(name: K, payload: Omit<JobPayload<K>, 'meta'> & { meta?: JobPayload<K>['meta'] }, opts: EnqueueOptions = {}): Promise<void> {
    const correlationId = payload.meta?.correlationId ?? currentCorrelationId();
    const data = jobSchemas[name].parse({ ...payload, meta: correlationId ? { correlationId } : {} });
    const policy = retryPolicies[name];
    await this.queue(jobQueue[name]).add(name, data, {
      ...(opts.jobId ? { jobId: opts.jobId } : {}),
      ...(opts.delayMs ? { delay: opts.delayMs } : {}),
      ...(opts.priority ? { priority: opts.priority } : {}),
      attempts: policy.attempts,
      backoff: { type: 'exponential', delay: policy.backoffMs },
      // completed jobs are removed at once so a deterministic id can be enqueued again by the reconciler
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    });
  }

  /** Enqueue many jobs of one name in one round trip. */
  async enqueueBulk<K extends JobName>(name: K, items: { payload: Omit<JobPayload<K>, 'meta'>; jobId?: string }[]): Promise<void> {
    if (items.length === 0) return;
    const correlationId = currentCorrelationId();
    const policy = retryPolicies[name];
    await this.queue(jobQueue[name]).addBulk(
      items.map((it) => ({
        name,
        data: jobSchemas[name].parse({ ...it.payload, meta: correlationId ? { correlationId } : {} }),
        opts: {
          ...(it.jobId ? { jobId: it.jobId } : {}),
          attempts: policy.attempts,
          backoff: { type: 'exponential', delay: policy.backoffMs },
          removeOnComplete: true,
          removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
        },
      })),
    );
  }

  /** Index jobs for chunks of one document generation, at most INDEX_JOB_CHUNKS ids each, in one round trip. */
  async enqueueIndexChunks(documentId: string, generation: number, chunkIds: string[]): Promise<void> {
    const items = [];
    for (let i = 0; i < chunkIds.length; i += INDEX_JOB_CHUNKS) items.push({ payload: { documentId, generation, chunkIds: chunkIds.slice(i, i + INDEX_JOB_CHUNKS) } });
    await this.enqueueBulk(JobNames.indexChunks, items);
  }

  /** State of a job by id, or null when there is none (never enqueued, completed and removed). */
  async jobState(queue: QueueName, jobId: string): Promise<string | null> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job) return null;
    return job.getState();
  }

  async removeJob(queue: QueueName, jobId: string): Promise<void> {
    const job = await this.queue(queue).getJob(jobId);
    if (job) await job.remove().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
