import { Injectable } from '@nestjs/common';
import { reportProgress, statement, tryFinishDocument, type HotReads } from '@ragnest/db';
import { JobNames, type JobPayload } from '@ragnest/contracts';
import { InjectHotReads, JobHandler } from '@ragnest/runtime';
import { IndexWriter } from './index-writer.service.js';

/** Counting a document's indexed chunks after every batch is quadratic on big documents: at most once a second. */
const PROGRESS_EVERY_MS = 1000;

/** $1 document, $2 generation (statements on the hot-path pool: this runs for every batch ingested) */
const INDEX_PROGRESS = statement(
  'index_job_progress',
  `SELECT count(*) FILTER (WHERE c.indexed)::int AS done, count(*)::int AS total,
          NOT EXISTS (SELECT 1 FROM parse_task t WHERE t.document_id = $1 AND t.generation = $2 AND t.state <> 'DONE') AS parsed
   FROM chunk c WHERE c.document_id = $1`,
  { planEachTime: true },
);

@Injectable()
export class IndexJobsHandler {
  private readonly lastProgress = new Map<string, number>();

  constructor(
    @InjectHotReads() private readonly hot: HotReads,
    private readonly writer: IndexWriter,
  ) {}

  @JobHandler(JobNames.indexChunks)
  async index(p: JobPayload<typeof JobNames.indexChunks>): Promise<'done' | 'stale'> {
    const doc = await this.writer.document(p.documentId);
    if (!doc || doc.generation !== p.generation || !['RUNNING', 'DONE'].includes(doc.run)) return 'stale';
    // a job's chunks are all of its document (only the document's own chunks are written, whatever the ids)
    await this.writer.writeDocumentChunks(p.documentId, p.chunkIds, doc);
    if (doc.run === 'RUNNING' && (await tryFinishDocument(this.hot, p.documentId, p.generation))) {
      this.lastProgress.delete(p.documentId);
      return 'done';
    }
    const last = this.lastProgress.get(p.documentId) ?? 0;
    if (doc.run === 'RUNNING' && Date.now() - last >= PROGRESS_EVERY_MS) {
      this.lastProgress.set(p.documentId, Date.now());
      if (this.lastProgress.size > 10_000) this.lastProgress.clear();
      const [row] = await this.hot.rows<{ done: number; total: number; parsed: boolean }>(INDEX_PROGRESS, [p.documentId, p.generation]);
      if (row && row.total > 0) {
        const frac = row.done / row.total;
        await reportProgress(this.hot, p.documentId, p.generation, row.parsed ? 0.5 + 0.5 * frac : null, row.parsed ? `Indexed ${row.done}/${row.total} chunks.` : undefined);
      }
    }
    return 'done';
  }

  @JobHandler(JobNames.deleteFromIndex)
  async delete(p: JobPayload<typeof JobNames.deleteFromIndex>): Promise<'done'> {
    await this.writer.delete(p);
    return 'done';
  }
}
