import { Injectable } from '@nestjs/common';
import { failDocument, reportProgress, statement, tryFinishDocument, type HotReads, type PrismaClient } from '@ragnest/db';
import { IMPLEMENTED_CHUNK_METHODS, JobNames, jobIds, type JobPayload } from '@ragnest/contracts';
import {
  chunkDocument,
  chunkMethodOptions,
  detectFileType,
  llmFeatureNotice,
  llmFeatureRefusal,
  pageRanges,
  parseDocument,
  pdfLayout,
  taskPageSize,
  ParseError,
  type ChunkDraft,
  type ParseSource,
} from '@ragnest/nlp';
import { generationImagesPrefix, type ObjectStorage } from '@ragnest/storage';
import { InjectConfig, InjectDb, InjectHotReads, InjectStorage, PermanentJobError, QueueProducer, ingestCounter, type JobContext } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { getLogger } from '@ragnest/logger';
import { readHead, storageSource } from './storage-source.js';
import { writeChunks } from './chunk-writer.js';
import { OcrEngine } from './ocr-engine.js';
import { WHOLE_FILE, splitTask, taskCounts, taskLayout, type PlannedRange } from './task-planner.js';

/** Chunks written (and handed to the embedding queue) per batch. */
const BATCH = 256;
const PROGRESS_EVERY_MS = 1000;
/** How often a running task checks that its document was not stopped or re-parsed meanwhile. */
const CANCEL_CHECK_MS = 1000;
/** Chunk order within a document: a page-range task's chunks start at fromPage × this, so ranges sort in page order. */
const ORD_PER_PAGE = 20_000;

type Outcome = 'done' | 'stale' | 'cancelled';

/**
 * Starts a task: $1 task, $2 generation, $3 document. A row only when the task is still to do and its document
 * still parsing that generation; the task is then RUNNING with one more attempt (`attempts` is the count before).
 * One statement on the hot-path pool instead of three Prisma calls: every page range of a PDF is a task.
 */
const CLAIM_TASK = statement(
  'parse_claim_task',
  `WITH t AS (
     SELECT t.id, t.from_page, t.to_page, t.attempts, t.layout
     FROM parse_task t JOIN document d ON d.id = t.document_id
     WHERE t.id = $1 AND t.generation = $2 AND t.state NOT IN ('DONE', 'CANCEL', 'FAIL')
       AND d.id = $3 AND d.generation = $2 AND d.run = 'RUNNING'
   ), claim AS (
     UPDATE parse_task SET state = 'RUNNING', attempts = parse_task.attempts + 1, updated_at = now() FROM t WHERE parse_task.id = t.id
   )
   SELECT t.from_page, t.to_page, t.attempts, t.layout, d.name, d.size::float8 AS size, d.location, d.chunk_method,
          d.parser_config, d.dataset_id, d.tenant_id, ds.language
   FROM t CROSS JOIN document d JOIN dataset ds ON ds.id = d.dataset_id WHERE d.id = $3`,
);
interface ClaimedTask {
  from_page: number;
  to_page: number;
  attempts: number;
  layout: unknown;
  name: string;
  size: number;
  location: string;
  chunk_method: string;
  parser_config: unknown;
  dataset_id: string;
  tenant_id: string;
  language: string;
}
/** $1 task, $2 chunks written */
const TASK_DONE = statement('parse_task_done', `UPDATE parse_task SET state = 'DONE', progress = 1, chunk_count = $2, updated_at = now() WHERE id = $1`);
/** $1 document */
const CHUNK_COUNT = statement('parse_chunk_count', 'SELECT count(*)::int AS n FROM chunk WHERE document_id = $1', { planEachTime: true });

/** $1 document: asked every CANCEL_CHECK_MS by every running task */
const DOCUMENT_RUN = statement('parse_document_run', 'SELECT generation, run FROM document WHERE id = $1');

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const pagesLabel = (r: PlannedRange) => `Pages ${r.fromPage + 1}-${r.toPage}`;

/**
 * Parses one ParseTask: storage → parser → chunk method → pictures and chunk rows → embedding jobs.
 * A PDF longer than task_page_size is split here into page-range tasks that any worker replica picks up.
 * Idempotent: a retry rewrites the same chunk ids and pictures, and a superseded generation (re-parse,
 * stop) makes it a no-op; a running task notices a stop within about a second and aborts its parser.
 */
@Injectable()
export class ParseTaskService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectHotReads() private readonly hot: HotReads,
    @InjectStorage() private readonly storage: ObjectStorage,
    @InjectConfig() private readonly config: AppConfig,
    private readonly producer: QueueProducer,
    private readonly ocr: OcrEngine,
  ) {}

  async run(p: JobPayload<typeof JobNames.parseTask>, ctx: JobContext): Promise<Outcome> {
    // one statement: the task and its document still current, the task marked RUNNING, what parsing needs
    const [row] = await this.hot.rows<ClaimedTask>(CLAIM_TASK, [p.taskId, p.generation, p.documentId]);
    if (!row) return 'stale';
    const task = { id: p.taskId, documentId: p.documentId, generation: p.generation, fromPage: row.from_page, toPage: row.to_page, attempts: row.attempts, layout: row.layout };
    const doc = {
      id: p.documentId,
      name: row.name,
      size: row.size,
      location: row.location,
      chunkMethod: row.chunk_method,
      parserConfig: row.parser_config,
      datasetId: row.dataset_id,
      tenantId: row.tenant_id,
      language: row.language,
    };
    const started = Date.now();
    let range: PlannedRange = { fromPage: task.fromPage, toPage: task.toPage };
    // a range task of a split file: what the splitting task learned of the whole file
    let pdfMargins = taskLayout(task.layout)?.pdfMargins;
    const ranged = () => range.toPage < WHOLE_FILE;
    await reportProgress(
      this.hot,
      doc.id,
      p.generation,
      0.01,
      (ranged() ? `${pagesLabel(range)}: ` : '') +
        (task.attempts > 0 ? `Resuming parse (attempt ${task.attempts + 1}) after an interrupted run.` : `Start to parse ${doc.name} (${mb(Number(doc.size))}).`),
    );
    const abort = new AbortController();
    const onJobAbort = () => abort.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onJobAbort, { once: true });
    const watcher = setInterval(() => {
      void this.stillCurrent(doc.id, p.generation).then(
        (current) => {
          if (!current) abort.abort(new Error('parsing was stopped or restarted'));
        },
        () => undefined,
      );
    }, CANCEL_CHECK_MS);
    let outcome: Outcome = 'done';
    try {
      const refusal = llmFeatureRefusal(doc.chunkMethod, doc.parserConfig);
      if (refusal) throw new ParseError(refusal);
      if (!IMPLEMENTED_CHUNK_METHODS.includes(doc.chunkMethod)) {
        throw new ParseError(`Chunk method '${doc.chunkMethod}' is not supported by this server; choose one of ${IMPLEMENTED_CHUNK_METHODS.join(', ')}.`);
      }
      const size = Number(doc.size);
      if (size === 0) throw new ParseError('File is empty');
      const head = await readHead(this.storage, doc.location, 64 * 1024);
      const type = detectFileType(head, doc.name);
      if (!type) throw new ParseError(`Unsupported file type: ${doc.name} is not a format RagNest can parse`);
      const source = storageSource(this.storage, doc.location, doc.name, size);
      if (type.kind === 'pdf' && !ranged()) {
        const planned = await this.planPages(task, doc.chunkMethod, doc.parserConfig, source);
        if (planned === 'stale') return (outcome = 'stale');
        if (planned) ({ range, pdfMargins } = planned);
      }
      // once per document: by the task that started at page 0, on its first attempt
      const notice = task.fromPage === 0 && task.attempts === 0 ? llmFeatureNotice(doc.parserConfig) : null;
      if (notice) await reportProgress(this.hot, doc.id, p.generation, null, notice);
      let fraction = 0;
      const sections = parseDocument(source, type.kind, {
        maxInMemoryBytes: this.config.parse.maxInMemoryBytes,
        signal: abort.signal,
        ocrEngine: this.ocr.engine,
        ...(ranged() ? { fromPage: range.fromPage, toPage: range.toPage } : {}),
        ...(pdfMargins ? { pdfMargins } : {}),
        onProgress: (pr) => {
          fraction = pr.fraction;
        },
      });
      const drafts = chunkDocument(sections, doc.chunkMethod, {
        kind: type.kind,
        fileName: doc.name,
        options: chunkMethodOptions(doc.parserConfig, doc.language),
      });
      const rowCtx = { documentId: doc.id, datasetId: doc.datasetId, tenantId: doc.tenantId, generation: p.generation, taskId: task.id };
      let batch: ChunkDraft[] = [];
      let ord = ranged() ? range.fromPage * ORD_PER_PAGE : 0;
      // embedding batch numbers are unique per task: page-range tasks of one document run side by side
      let batchNo = ranged() ? range.fromPage * ORD_PER_PAGE : 0;
      let written = 0;
      let lastReport = Date.now();
      const flush = async (): Promise<boolean> => {
        if (!batch.length) return true;
        if (abort.signal.aborted) return false;
        // null: stopped or restarted (checked in the insert itself), nothing was written
        const ids = await writeChunks(this.hot, this.storage, rowCtx, batch, ord);
        if (!ids) return false;
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
          await this.reportRunning(doc.id, p.generation, range, fraction, written);
        }
        return true;
      };
      for await (const draft of drafts) {
        batch.push(draft);
        if (batch.length >= BATCH && !(await flush())) {
          abort.abort();
          return (outcome = 'cancelled');
        }
      }
      if (!(await flush())) return (outcome = 'cancelled');
      // a page range may hold only blank pages; the document as a whole is checked when its last task ends
      if (written === 0 && !ranged()) throw new ParseError('No text content could be extracted from the file');
      ingestCounter.inc({ unit: 'chunks' }, written);
      await this.hot.run(TASK_DONE, [task.id, written]);
      const secs = ((Date.now() - started) / 1000).toFixed(2);
      if (ranged()) {
        const { done, total } = await taskCounts(this.hot, doc.id, p.generation);
        await reportProgress(this.hot, doc.id, p.generation, 0.05 + 0.45 * (done / total), `${pagesLabel(range)} done: ${written} chunks in ${secs}s (${done}/${total} tasks).`);
        if (done === total) {
          ingestCounter.inc({ unit: 'bytes' }, size);
          const [{ n: chunks } = { n: 0 }] = await this.hot.rows<{ n: number }>(CHUNK_COUNT, [doc.id]);
          if (chunks === 0) throw new ParseError('No text content could be extracted from the file');
          await reportProgress(this.hot, doc.id, p.generation, 0.5, `Parsing finished: ${chunks} chunks from ${total} page ranges. Embedding and indexing...`);
        }
      } else {
        ingestCounter.inc({ unit: 'bytes' }, size);
        await reportProgress(
          this.hot,
          doc.id,
          p.generation,
          0.5,
          `Parsing finished: ${written} chunks from ${mb(size)} (${type.mime.split(';')[0]}) in ${secs}s. Embedding and indexing...`,
        );
      }
      await tryFinishDocument(this.hot, doc.id, p.generation);
      return outcome;
    } catch (err) {
      if (err instanceof ParseError) {
        const reason = ranged() ? `${pagesLabel(range)}: ${err.message}` : err.message;
        getLogger().info({ documentId: doc.id, reason }, 'document cannot be parsed');
        await failDocument(this.hot, doc.id, p.generation, reason);
        throw new PermanentJobError(reason);
      }
      if (!(await this.stillCurrent(doc.id, p.generation))) return (outcome = 'cancelled');
      // transient (storage down, database hiccup): BullMQ retries with backoff
      await reportProgress(this.hot, doc.id, p.generation, null, `Attempt failed, will retry: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    } finally {
      clearInterval(watcher);
      ctx.signal.removeEventListener('abort', onJobAbort);
      if (outcome === 'cancelled') await this.dropSupersededImages(doc.id, doc.datasetId, p.generation);
    }
  }

  /**
   * A whole-file PDF task longer than task_page_size becomes page-range tasks: this one keeps the first range
   * and the rest are queued for any replica. The file's running headers and footers are learned here, once,
   * and stored with every range task (each would otherwise sample pages across the whole file again: with
   * 12-page ranges that doubled the text extraction of a 50-page file). Returns the range to parse with those
   * margins, null to parse the whole file, or 'stale' when the document was superseded meanwhile.
   */
  private async planPages(
    task: { id: string; documentId: string; generation: number },
    method: string,
    parserConfig: unknown,
    source: ParseSource,
  ): Promise<{ range: PlannedRange; pdfMargins: string[] } | null | 'stale'> {
    const size = taskPageSize(method, parserConfig);
    if (!size) return null;
    let ranges: [number, number][] = [];
    const wholeFile = (pages: number) => ranges.length === 1 && ranges[0]![0] === 0 && ranges[0]![1] >= pages;
    const { pages, margins } = await pdfLayout(source, this.config.parse.maxInMemoryBytes, (n) => {
      ranges = pageRanges(n, size, parserConfig);
      return ranges.length > 0 && !wholeFile(n);
    });
    if (!ranges.length) throw new ParseError(`parser_config.pages selects none of the ${pages} pages of this PDF`);
    if (wholeFile(pages) || !margins) return null;
    const split = await splitTask(this.db, task, ranges, { pdfMargins: margins });
    if (!split) return 'stale';
    for (const [i, id] of split.created.entries()) {
      const payload = { taskId: id, documentId: task.documentId, generation: task.generation };
      try {
        await this.producer.enqueue(JobNames.parseTask, payload, { jobId: jobIds.parseTask(payload) });
      } catch (err) {
        // the rows are QUEUED in Postgres: the reconciler enqueues them once Redis answers again
        getLogger().warn({ documentId: task.documentId, range: ranges[i + 1], err: String(err) }, 'page-range task not enqueued yet');
      }
    }
    await reportProgress(
      this.hot,
      task.documentId,
      task.generation,
      null,
      `${pages} pages: parsing in ${ranges.length} tasks of up to ${size} pages (task_page_size), spread over the ingest workers.`,
    );
    return { range: split.keep, pdfMargins: margins };
  }

  private async reportRunning(documentId: string, generation: number, range: PlannedRange, fraction: number, written: number): Promise<void> {
    if (range.toPage < WHOLE_FILE) {
      const { done, total } = await taskCounts(this.hot, documentId, generation);
      await reportProgress(this.hot, documentId, generation, 0.05 + 0.45 * (done / total), `${pagesLabel(range)}: ${written} chunks so far (${done}/${total} tasks done).`);
      return;
    }
    await reportProgress(this.hot, documentId, generation, 0.05 + 0.45 * fraction, `Parsed ${Math.round(fraction * 100)}%: ${written} chunks so far.`);
  }

  /** Pictures a superseded parse may have written after the stop/re-parse cleared the document's pictures. */
  private async dropSupersededImages(documentId: string, datasetId: string, generation: number): Promise<void> {
    const d = await this.db.document.findUnique({ where: { id: documentId }, select: { generation: true } });
    if (d && d.generation === generation) return;
    await this.storage.deletePrefix(generationImagesPrefix(datasetId, documentId, generation)).catch((err: unknown) =>
      getLogger().warn({ documentId, generation, err: String(err) }, 'could not delete pictures of a superseded parse'),
    );
  }

  private async stillCurrent(documentId: string, generation: number): Promise<boolean> {
    const [d] = await this.hot.rows<{ generation: number; run: string }>(DOCUMENT_RUN, [documentId]);
    return !!d && d.generation === generation && d.run === 'RUNNING';
  }
}
