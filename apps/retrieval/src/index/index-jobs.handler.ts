import { Injectable } from '@nestjs/common';
import { reportProgress, tryFinishDocument, type PrismaClient } from '@ragnest/db';
import { JobNames, type JobPayload } from '@ragnest/contracts';
import { InjectDb, JobHandler } from '@ragnest/runtime';
import { IndexWriter } from './index-writer.service.js';

/** Counting a document's indexed chunks after every batch is quadratic on big documents: at most once a second. */
const PROGRESS_EVERY_MS = 1000;

@Injectable()
export class IndexJobsHandler {
  private readonly lastProgress = new Map<string, number>();

  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly writer: IndexWriter,
  ) {}

  @JobHandler(JobNames.indexChunks)
  async index(p: JobPayload<typeof JobNames.indexChunks>): Promise<'done' | 'stale'> {
    const doc = await this.db.document.findUnique({ where: { id: p.documentId }, select: { generation: true, run: true } });
    if (!doc || doc.generation !== p.generation || !['RUNNING', 'DONE'].includes(doc.run)) return 'stale';
    await this.writer.write(p.chunkIds);
    if (doc.run === 'RUNNING' && (await tryFinishDocument(this.db, p.documentId, p.generation))) {
      this.lastProgress.delete(p.documentId);
      return 'done';
    }
    const last = this.lastProgress.get(p.documentId) ?? 0;
    if (doc.run === 'RUNNING' && Date.now() - last >= PROGRESS_EVERY_MS) {
      this.lastProgress.set(p.documentId, Date.now());
      if (this.lastProgress.size > 10_000) this.lastProgress.clear();
      const [row] = await this.db.$queryRaw<{ done: number; total: number; parsed: boolean }[]>`
        SELECT count(*) FILTER (WHERE c.indexed)::int AS done, count(*)::int AS total,
               NOT EXISTS (SELECT 1 FROM parse_task t WHERE t.document_id = ${p.documentId} AND t.generation = ${p.generation} AND t.state <> 'DONE') AS parsed
        FROM chunk c WHERE c.document_id = ${p.documentId}`;
      if (row && row.total > 0) {
        const frac = row.done / row.total;
        await reportProgress(this.db, p.documentId, p.generation, row.parsed ? 0.5 + 0.5 * frac : null, row.parsed ? `Indexed ${row.done}/${row.total} chunks.` : undefined);
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
