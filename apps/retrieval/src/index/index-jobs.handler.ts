import { Injectable } from '@nestjs/common';
import { IndexProgress, type PrismaClient } from '@ragnest/db';
import { JobNames, type JobPayload } from '@ragnest/contracts';
import { InjectDb, JobHandler } from '@ragnest/runtime';
import { IndexWriter } from './index-writer.service.js';

@Injectable()
export class IndexJobsHandler {
  private readonly progress: IndexProgress;

  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly writer: IndexWriter,
  ) {
    this.progress = new IndexProgress(db);
  }

  @JobHandler(JobNames.indexChunks)
  async index(p: JobPayload<typeof JobNames.indexChunks>): Promise<'done' | 'stale'> {
    const doc = await this.db.document.findUnique({ where: { id: p.documentId }, select: { generation: true, run: true } });
    if (!doc || doc.generation !== p.generation || !['RUNNING', 'DONE'].includes(doc.run)) return 'stale';
    await this.writer.write(p.chunkIds);
    if (doc.run === 'RUNNING') await this.progress.afterIndexed(p.documentId, p.generation);
    return 'done';
  }

  @JobHandler(JobNames.deleteFromIndex)
  async delete(p: JobPayload<typeof JobNames.deleteFromIndex>): Promise<'done'> {
    await this.writer.delete(p);
    return 'done';
  }
}
