import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { IndexProgress, lockDocument, stampIndexedWithVectors, type PrismaClient } from '@ragnest/db';
import type { AppConfig } from '@ragnest/config';
import { JobNames, jobIds, type JobPayload } from '@ragnest/contracts';
import { EmbeddingRegistry, PermanentEmbeddingError, embedChunks, vectorToBytes } from '@ragnest/embedding';
import { CONFIG, InjectDb, PermanentJobError, QueueProducer, type JobContext } from '@ragnest/runtime';

/**
 * Embeds one batch of chunks and stores the vectors in Postgres (so the index can be rebuilt without
 * re-embedding), then hands the batch to the index queue. Chunks that already have a vector of the
 * dataset's model are not embedded again.
 *
 * When the index follows Postgres' change feed (the in-memory engine), storing the vectors is all that
 * indexing needs: the same statement stamps the chunks indexed on the feed, under the document's lock as
 * the retrieval app's IndexWriter takes it, and there is no index job.
 */
@Injectable()
export class EmbedChunksService {
  private readonly progress: IndexProgress;

  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly registry: EmbeddingRegistry,
    private readonly producer: QueueProducer,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {
    this.progress = new IndexProgress(db);
  }

  async run(p: JobPayload<typeof JobNames.embedChunks>, ctx: JobContext): Promise<'done' | 'stale'> {
    const doc = await this.db.document.findUnique({
      where: { id: p.documentId },
      select: { id: true, name: true, generation: true, run: true, parserConfig: true, dataset: { select: { embeddingModel: true } } },
    });
    if (!doc || doc.generation !== p.generation || !['RUNNING', 'DONE'].includes(doc.run)) return 'stale';
    const model = doc.dataset.embeddingModel;
    // raw SQL on the hot path: Prisma's query compiler costs more CPU than the query itself here
    const chunks = await this.db.$queryRaw<{ id: string; content: string; contentTokens: string; questions: string[]; embedded: boolean }[]>`
      SELECT id, content, content_tokens AS "contentTokens", questions, (vector IS NOT NULL AND embedding_model = ${model}) AS embedded
      FROM chunk WHERE id = ANY(${p.chunkIds}::text[]) AND document_id = ${doc.id}`;
    const todo = chunks.filter((c) => !c.embedded);
    let vectorsById = new Map<string, string>();
    if (todo.length) {
      let provider;
      try {
        provider = this.registry.get(model);
      } catch (err) {
        throw new PermanentJobError((err as Error).message);
      }
      const weight = Number((doc.parserConfig as Record<string, unknown> | null)?.filename_embd_weight ?? 0.1);
      let vectors: Float32Array[];
      try {
        vectors = await embedChunks(provider, todo, doc.name, Number.isFinite(weight) ? weight : 0.1, ctx.signal);
      } catch (err) {
        if (err instanceof PermanentEmbeddingError) throw new PermanentJobError(`Embedding failed: ${err.message}`);
        throw err;
      }
      vectorsById = new Map(todo.map((c, i) => [c.id, Buffer.from(vectorToBytes(vectors[i]!)).toString('base64')]));
    }
    if (!chunks.length) return 'done';
    if (this.config.search.followsFeed) {
      const rows = chunks.map((c) => ({ id: c.id, vectorBase64: vectorsById.get(c.id) ?? null }));
      const current = await this.db.$transaction(async (tx) => {
        await lockDocument(tx, doc.id);
        // under the lock a stop, re-parse or delete of the document is either done (nothing to stamp) or waits
        const [now] = await tx.$queryRaw<{ generation: number; run: string }[]>`SELECT generation, run FROM document WHERE id = ${doc.id}`;
        if (!now || now.generation !== p.generation || !['RUNNING', 'DONE'].includes(now.run)) return null;
        await stampIndexedWithVectors(tx, doc.id, model, rows);
        return now.run;
      });
      if (current === null) return 'stale';
      if (current === 'RUNNING') await this.progress.afterIndexed(doc.id, p.generation);
      return 'done';
    }
    if (vectorsById.size) {
      // one statement for the whole batch (vectors travel as base64 text)
      await this.db.$executeRaw`
        UPDATE chunk c SET vector = decode(u.v, 'base64'), embedding_model = ${model}, indexed = false, updated_at = now()
        FROM unnest(${[...vectorsById.keys()]}::text[], ${[...vectorsById.values()]}::text[]) AS u(id, v) WHERE c.id = u.id`;
    }
    const ids = chunks.map((c) => c.id);
    await this.producer.enqueue(
      JobNames.indexChunks,
      { documentId: doc.id, generation: p.generation, chunkIds: ids },
      { jobId: jobIds.chunkBatch('index', doc.id, p.generation, createHash('sha1').update(ids.join(',')).digest('hex').slice(0, 16)) },
    );
    return 'done';
  }
}
