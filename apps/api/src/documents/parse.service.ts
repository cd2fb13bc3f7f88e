import { Injectable } from '@nestjs/common';
import { newId, type PrismaClient } from '@ragnest/db';
import { JobNames, dataError, jobIds } from '@ragnest/contracts';
import { getLogger } from '@ragnest/logger';
import { QueueProducer } from '@ragnest/runtime';
import { InjectDb } from '@ragnest/runtime';
import { IndexSync } from './index-sync.service.js';

function docIds(body: Record<string, unknown>): string[] {
  const ids = body.document_ids;
  if (!Array.isArray(ids) || ids.length === 0) throw dataError('`document_ids` is required');
  return ids.map(String);
}

/**
 * Parse and stop (§4.7, §4.8). Each parse bumps the document's generation: jobs of older generations
 * become no-ops, so a re-parse or stop can never be undone by a late job.
 */
@Injectable()
export class ParseService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly producer: QueueProducer,
    private readonly indexSync: IndexSync,
  ) {}

  async parse(tenantId: string, datasetId: string, body: Record<string, unknown>) {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId }, select: { id: true } });
    if (!ds) throw dataError(`You don't own the dataset ${datasetId}.`);
    const ids = docIds(body);
    const unique = [...new Set(ids)];
    const dups = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    const docs = await this.db.document.findMany({ where: { datasetId, id: { in: unique } } });
    const found = new Set(docs.map((d) => d.id));
    const missing = unique.filter((id) => !found.has(id));
    const running = docs.filter((d) => d.run === 'RUNNING' && d.progress > 0 && d.progress < 1);
    if (running.length && running.length === docs.length && !missing.length) {
      throw dataError("Can't parse document that is currently being processed");
    }
    const toQueue = docs.filter((d) => !running.includes(d));
    const queued: { taskId: string; documentId: string; generation: number }[] = [];
    for (const d of toQueue) {
      const generation = d.generation + 1;
      const taskId = newId();
      // the document row first (see stop)
      await this.db.$transaction([
        this.db.document.update({
          where: { id: d.id },
          data: {
            generation,
            run: 'RUNNING',
            progress: 0,
            progressMsg: `${new Date().toISOString().slice(11, 19)} Task is queued...`,
            chunkCount: 0,
            tokenCount: 0,
            processBeginAt: new Date(),
            processDuration: 0,
          },
        }),
        this.db.chunk.deleteMany({ where: { documentId: d.id } }),
        this.db.parseTask.updateMany({ where: { documentId: d.id, state: { in: ['QUEUED', 'RUNNING'] } }, data: { state: 'CANCEL' } }),
        this.db.parseTask.create({ data: { id: taskId, documentId: d.id, generation } }),
      ]);
      queued.push({ taskId, documentId: d.id, generation });
    }
    if (toQueue.length) await this.indexSync.afterChunksCleared(tenantId, toQueue.map((d) => d.id), datasetId);
    for (const q of queued) {
      try {
        await this.producer.enqueue(JobNames.parseTask, q, { jobId: jobIds.parseTask(q) });
      } catch (err) {
        // Postgres says QUEUED; the reconciler enqueues it once Redis is back
        getLogger().warn({ documentId: q.documentId, err: String(err) }, 'parse job not enqueued yet');
      }
    }
    const errors: string[] = [];
    if (missing.length) errors.push(`Documents not found: [${missing.map((m) => `'${m}'`).join(', ')}]`);
    if (running.length) errors.push(`Can't parse document that is currently being processed: ${running.map((d) => d.id).join(', ')}`);
    if (missing.length) throw dataError(errors.join('; '));
    if (dups.length || running.length) {
      return { success_count: queued.length, errors: [...errors, ...(dups.length ? [`Duplicate document ids: ${dups.join(',')}`] : [])] };
    }
    return undefined;
  }

  async stop(tenantId: string, datasetId: string, body: Record<string, unknown>) {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId }, select: { id: true } });
    if (!ds) throw dataError(`You don't own the dataset ${datasetId}.`);
    const ids = [...new Set(docIds(body))];
    const docs = await this.db.document.findMany({ where: { datasetId, id: { in: ids } } });
    const found = new Set(docs.map((d) => d.id));
    const missing = ids.find((id) => !found.has(id));
    if (missing) throw dataError(`You don't own the document ${missing}.`);
    const notRunning = docs.find((d) => d.run !== 'RUNNING');
    if (notRunning) throw dataError("Can't stop parsing document with progress at 0 or 1");
    for (const d of docs) {
      // the document row first: a worker's batch holds it (FOR SHARE) while it inserts, so the chunks are deleted
      // after any batch in flight has committed, and later batches see the new generation (chunk-writer.ts)
      await this.db.$transaction([
        this.db.document.update({
          where: { id: d.id },
          data: {
            generation: { increment: 1 },
            run: 'CANCEL',
            progress: 0,
            chunkCount: 0,
            tokenCount: 0,
            progressMsg: `${d.progressMsg}\n${new Date().toISOString().slice(11, 19)} Cancelled by user.`.trim(),
          },
        }),
        this.db.chunk.deleteMany({ where: { documentId: d.id } }),
        this.db.parseTask.updateMany({ where: { documentId: d.id, generation: d.generation }, data: { state: 'CANCEL' } }),
      ]);
    }
    await this.indexSync.afterChunksCleared(tenantId, docs.map((d) => d.id), datasetId);
    return undefined;
  }
}
