import { z } from 'zod';

/**
 * Queues between the apps. Payloads carry ids and flags only: handlers re-read current state from
 * Postgres, so a retried or late job acts on what is true now (and a stale generation is a no-op).
 */
export const Queues = {
  /** ingest-worker: parse one ParseTask into chunks */
  ingest: 'ingest',
  /** embedding: embed a batch of chunks and store their vectors */
  embed: 'embed',
  /** retrieval: write chunks into / delete them from the search index */
  index: 'index',
} as const;
export type QueueName = (typeof Queues)[keyof typeof Queues];

export const JobNames = {
  parseTask: 'document.parse-task.v1',
  embedChunks: 'chunks.embed.v1',
  indexChunks: 'chunks.index.v1',
  deleteFromIndex: 'index.delete.v1',
} as const;
export type JobName = (typeof JobNames)[keyof typeof JobNames];

const meta = z.object({ correlationId: z.string().max(200).optional() });

const id = z.string().min(1).max(64);

export const jobSchemas = {
  [JobNames.parseTask]: z.object({ taskId: id, documentId: id, generation: z.number().int().min(0), meta }),
  [JobNames.embedChunks]: z.object({
    documentId: id,
    generation: z.number().int().min(0),
    chunkIds: z.array(id).min(1).max(1000),
    meta,
  }),
  [JobNames.indexChunks]: z.object({
    documentId: id,
    generation: z.number().int().min(0),
    chunkIds: z.array(id).min(1).max(1000),
    meta,
  }),
  [JobNames.deleteFromIndex]: z.object({
    tenantId: id,
    datasetId: id.optional(),
    documentIds: z.array(id).max(10000).optional(),
    chunkIds: z.array(id).max(10000).optional(),
    meta,
  }),
} as const;

export type JobPayloads = { [K in JobName]: z.infer<(typeof jobSchemas)[K]> };
export type JobPayload<K extends JobName> = JobPayloads[K];

/** Which queue each job goes to: one owner per job name. */
export const jobQueue: { [K in JobName]: QueueName } = {
  [JobNames.parseTask]: Queues.ingest,
  [JobNames.embedChunks]: Queues.embed,
  [JobNames.indexChunks]: Queues.index,
  [JobNames.deleteFromIndex]: Queues.index,
};

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** Named retry policy per job type. Permanent failures are thrown as UnrecoverableError and never retried. */
export const retryPolicies: { [K in JobName]: RetryPolicy } = {
  [JobNames.parseTask]: { attempts: 3, backoffMs: 2_000 },
  [JobNames.embedChunks]: { attempts: 8, backoffMs: 1_000 },
  [JobNames.indexChunks]: { attempts: 10, backoffMs: 1_000 },
  [JobNames.deleteFromIndex]: { attempts: 10, backoffMs: 1_000 },
};

/**
 * Deterministic job ids: enqueuing the same work twice (reconciler, retries) leaves one job.
 * (BullMQ forbids ':' in custom ids.)
 */
export const jobIds = {
  parseTask: (p: { taskId: string; generation: number }) => `parse.${p.taskId}.${p.generation}`,
  embedChunks: (documentId: string, generation: number, batch: number) => `embed.${documentId}.${generation}.${batch}`,
  /** a batch of chunks is named by a digest of its ids, so whoever enqueues the same batch gets the same id */
  chunkBatch: (kind: 'embed' | 'index', documentId: string, generation: number, digest: string) => `${kind}.${documentId}.${generation}.${digest}`,
};
