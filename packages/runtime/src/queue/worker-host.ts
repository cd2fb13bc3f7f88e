import { Injectable, SetMetadata, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { getLogger, withCorrelation } from '@ragnest/logger';
import { jobQueue, jobSchemas, type JobName, type JobPayload, type QueueName } from '@ragnest/contracts';
import { jobCounter, jobDuration } from '../metrics.js';

const JOB_HANDLER = 'ragnest:job-handler';

/** Marks a provider method as the handler of one job name. */
export const JobHandler = (name: JobName) => SetMetadata(JOB_HANDLER, name);

export type JobContext = { attemptsMade: number; jobId: string | undefined; signal: AbortSignal; updateProgress(p: number): Promise<void> };
type HandlerFn = (payload: unknown, ctx: JobContext) => Promise<unknown>;

/** Thrown by handlers for failures retrying cannot fix (corrupt file, unsupported format). */
export class PermanentJobError extends UnrecoverableError {}

export interface WorkerHostOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** the jobs this process owns, with the concurrency of their queue */
  queues: { queue: QueueName; concurrency: number }[];
  lockMs: number;
  shutdownGraceMs: number;
  /** called when a job has failed for good (retries exhausted or permanent) */
  onFinalFailure?: (name: JobName, payload: unknown, err: Error) => Promise<void>;
}

export const WORKER_HOST_OPTIONS = Symbol('WORKER_HOST_OPTIONS');

/**
 * Finds @JobHandler methods, refuses to boot unless every job of the owned queues has exactly one
 * handler, and runs a BullMQ worker per queue. Payloads are validated against their contract.
 */
@Injectable()
export class WorkerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly workers: Worker[] = [];
  private readonly handlers = new Map<JobName, HandlerFn>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly options: WorkerHostOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.collectHandlers();
    const owned = new Set(this.options.queues.map((q) => q.queue));
    for (const name of Object.keys(jobQueue) as JobName[]) {
      if (owned.has(jobQueue[name]) && !this.handlers.has(name)) {
        throw new Error(`worker refuses to boot: job ${name} (queue ${jobQueue[name]}) has no handler`);
      }
    }
    for (const { queue, concurrency } of this.options.queues) this.startWorker(queue, concurrency);
  }

  private collectHandlers(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const name = Reflect.getMetadata(JOB_HANDLER, fn) as JobName | undefined;
        if (!name) continue;
        if (this.handlers.has(name)) throw new Error(`worker refuses to boot: job ${name} has two handlers`);
        this.handlers.set(name, (fn as HandlerFn).bind(instance));
      }
    }
  }

  private startWorker(queue: QueueName, concurrency: number): void {
    const worker = new Worker(
      queue,
      async (job: Job, _token?: string, signal?: AbortSignal) => this.process(job, signal ?? new AbortController().signal),
      {
        connection: this.options.connection,
        prefix: this.options.prefix,
        concurrency,
        lockDuration: this.options.lockMs,
        stalledInterval: Math.max(1000, Math.floor(this.options.lockMs / 2)),
        maxStalledCount: 3,
      },
    );
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      getLogger().warn({ job: job.name, jobId: job.id, attempt: job.attemptsMade, final, err: err.message }, 'job failed');
      if (final && this.options.onFinalFailure) {
        void this.options.onFinalFailure(job.name as JobName, job.data, err).catch((e: unknown) =>
          getLogger().error({ err: String(e) }, 'final-failure hook failed'),
        );
      }
    });
    worker.on('error', (err) => getLogger().warn({ queue, err: err.message }, 'worker error'));
    this.workers.push(worker);
    getLogger().info({ queue, concurrency }, 'worker started');
  }

  private async process(job: Job, signal: AbortSignal): Promise<unknown> {
    const name = job.name as JobName;
    const handler = this.handlers.get(name);
    if (!handler) throw new PermanentJobError(`no handler for job ${job.name}`);
    const schema = jobSchemas[name];
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) throw new PermanentJobError(`invalid payload for ${name}: ${parsed.error.message}`);
    const payload = parsed.data as JobPayload<typeof name>;
    const started = performance.now();
    return withCorrelation(payload.meta.correlationId, async () => {
      try {
        const out = await handler(payload, {
          attemptsMade: job.attemptsMade,
          jobId: job.id,
          signal,
          updateProgress: (p: number) => job.updateProgress(p),
        });
        jobCounter.inc({ job: name, outcome: 'completed' });
        return out;
      } catch (err) {
        jobCounter.inc({ job: name, outcome: err instanceof UnrecoverableError ? 'permanent_failure' : 'failed' });
        throw err;
      } finally {
        jobDuration.observe({ job: name }, (performance.now() - started) / 1000);
      }
    });
  }

  /** Stops taking jobs and waits (up to the grace period) for the running ones; the rest are released. */
  async onApplicationShutdown(): Promise<void> {
    const graceful = Promise.all(this.workers.map((w) => w.close()));
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.options.shutdownGraceMs).unref());
    if ((await Promise.race([graceful, timeout])) === 'timeout') {
      getLogger().warn('shutdown grace period over: releasing running jobs to other workers');
      await Promise.all(this.workers.map((w) => w.close(true)));
    }
  }
}
