import { Injectable } from '@nestjs/common';
import { failDocument, reportProgress, tryFinishDocument, type PrismaClient } from '@ragnest/db';
import { IMPLEMENTED_CHUNK_METHODS, JobNames, jobIds, type JobPayload } from '@ragnest/contracts';
import { chunkSections, detectFileType, parseDocument, ParseError, type ChunkerOptions } from '@ragnest/nlp';
import type { ObjectStorage } from '@ragnest/storage';
import { InjectConfig, InjectDb, InjectStorage, PermanentJobError, QueueProducer, ingestCounter, type JobContext } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { getLogger } from '@ragnest/logger';
import { readHead, storageSource } from './storage-source.js';
import { writeChunks } from './chunk-writer.js';

/** Chunks written (and handed to the embedding queue) per batch. */
const BATCH = 256;
const PROGRESS_EVERY_MS = 1000;

type Outcome = 'done' | 'stale' | 'cancelled';

function chunkerOptions(parserConfig: unknown): ChunkerOptions {
  const pc = (parserConfig ?? {}) as Record<string, unknown>;
  const n = Number(pc.chunk_token_num);
  const overlap = Number(pc.overlapped_percent);
  return {
    chunkTokenNum: Number.isFinite(n) && n > 0 ? n : 512,
    delimiter: typeof pc.delimiter === 'string' && pc.delimiter.length ? pc.delimiter : '\n',
    ...(Number.isFinite(overlap) && overlap > 0 ? { overlappedPercent: overlap } : {}),
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

/**
 * Parses one ParseTask: storage → parser → chunker → chunk rows → embedding jobs. Idempotent: a retry
 * rewrites the same chunk ids, and a superseded generation (re-parse, stop) makes it a no-op.
 */
@Injectable()
export class ParseTaskService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectStorage() private readonly storage: ObjectStorage,
    @InjectConfig() private readonly config: AppConfig,
    private readonly producer: QueueProducer,
  ) {}

  async run(p: JobPayload<typeof JobNames.parseTask>, ctx: JobContext): Promise<Outcome> {
    const task = await this.db.parseTask.findUnique({ where: { id: p.taskId } });
    if (!task || task.generation !== p.generation || ['DONE', 'CANCEL', 'FAIL'].includes(task.state)) return 'stale';
    const doc = await this.db.document.findUnique({ where: { id: p.documentId } });
    if (!doc || doc.generation !== p.generation || doc.run !== 'RUNNING') return 'stale';
    await this.db.parseTask.update({ where: { id: task.id }, data: { state: 'RUNNING', attempts: { increment: 1 } } });
    const started = Date.now();
    await reportProgress(
      this.db,
      doc.id,
      p.generation,
      0.01,
      task.attempts > 0 ? `Resuming parse (attempt ${task.attempts + 1}) after an interrupted run.` : `Start to parse ${doc.name} (${mb(Number(doc.size))}).`,
    );
    try {
      if (!IMPLEMENTED_CHUNK_METHODS.includes(doc.chunkMethod)) {
        throw new ParseError(`Chunk method '${doc.chunkMethod}' is not supported by this server yet; choose 'naive' (General).`);
      }
      const size = Number(doc.size);
      if (size === 0) throw new ParseError('File is empty');
      const head = await readHead(this.storage, doc.location, 64 * 1024);
      const type = detectFileType(head, doc.name);
      if (!type) throw new ParseError(`Unsupported file type: ${doc.name} is not a format RagNest can parse`);
      const source = storageSource(this.storage, doc.location, doc.name, size);
      const abort = new AbortController();
      ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
      let fraction = 0;
      const sections = parseDocument(source, type.kind, {
        maxInMemoryBytes: this.config.parse.maxInMemoryBytes,
        signal: abort.signal,
        onProgress: (pr) => {
          fraction = pr.fraction;
        },
      });
      const rowCtx = { documentId: doc.id, datasetId: doc.datasetId, tenantId: doc.tenantId, generation: p.generation, taskId: task.id };
      let batch: Parameters<typeof writeChunks>[2] = [];
      let ord = 0;
      let batchNo = 0;
      let written = 0;
      let lastReport = Date.now();
      const flush = async (): Promise<boolean> => {
        if (!batch.length) return true;
        if (!(await this.stillCurrent(doc.id, p.generation))) return false;
        const ids = await writeChunks(this.db, rowCtx, batch, ord);
        ord += batch.length;
        batch = [];
        written += ids.length;
        if (ids.length) {
          await this.producer.enqueue(
            JobNames.embedChunks,
            { documentId: doc.id, generation: p.generation, chunkIds: ids },
            { jobId: jobIds.embedChunks(doc.id, p.generation, batchNo++) },
          );
        }
        if (Date.now() - lastReport > PROGRESS_EVERY_MS) {
          lastReport = Date.now();
          await reportProgress(this.db, doc.id, p.generation, 0.05 + 0.45 * fraction, `Parsed ${Math.round(fraction * 100)}%: ${written} chunks so far.`);
        }
        return true;
      };
      for await (const draft of chunkSections(sections, chunkerOptions(doc.parserConfig))) {
        batch.push(draft);
        if (batch.length >= BATCH && !(await flush())) {
          abort.abort();
          return 'cancelled';
        }
      }
      if (!(await flush())) return 'cancelled';
      if (written === 0) throw new ParseError('No text content could be extracted from the file');
      ingestCounter.inc({ unit: 'bytes' }, size);
      ingestCounter.inc({ unit: 'chunks' }, written);
      await this.db.parseTask.update({ where: { id: task.id }, data: { state: 'DONE', progress: 1, chunkCount: written } });
      await reportProgress(
        this.db,
        doc.id,
        p.generation,
        0.5,
        `Parsing finished: ${written} chunks from ${mb(size)} (${type.mime.split(';')[0]}) in ${((Date.now() - started) / 1000).toFixed(2)}s. Embedding and indexing...`,
      );
      await tryFinishDocument(this.db, doc.id, p.generation);
      return 'done';
    } catch (err) {
      if (err instanceof ParseError) {
        getLogger().info({ documentId: doc.id, reason: err.message }, 'document cannot be parsed');
        await failDocument(this.db, doc.id, p.generation, err.message);
        throw new PermanentJobError(err.message);
      }
      if (!(await this.stillCurrent(doc.id, p.generation))) return 'cancelled';
      // transient (storage down, database hiccup): BullMQ retries with backoff
      await reportProgress(this.db, doc.id, p.generation, null, `Attempt failed, will retry: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  private async stillCurrent(documentId: string, generation: number): Promise<boolean> {
    const d = await this.db.document.findUnique({ where: { id: documentId }, select: { generation: true, run: true } });
    return !!d && d.generation === generation && d.run === 'RUNNING';
  }
}
