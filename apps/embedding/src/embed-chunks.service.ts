import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { PrismaClient } from '@ragnest/db';
import { JobNames, jobIds, type JobPayload } from '@ragnest/contracts';
import { EmbeddingRegistry, PermanentEmbeddingError, embedChunks, vectorToBytes } from '@ragnest/embedding';
import { InjectDb, PermanentJobError, QueueProducer, type JobContext } from '@ragnest/runtime';

/**
 * Embeds one batch of chunks and stores the vectors in Postgres (so the index can be rebuilt without
 * re-embedding), then hands the batch to the index queue. Chunks that already have a vector of the
 * dataset's model are not embedded again.
 */
@Injectable()
export class EmbedChunksService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly registry: EmbeddingRegistry,
    private readonly producer: QueueProducer,
  ) {}

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
      // one statement for the whole batch (vectors travel as base64 text)
      const ids = todo.map((c) => c.id);
      const vecs = vectors.map((v) => Buffer.from(vectorToBytes(v)).toString('base64'));
      await this.db.$executeRaw`
        UPDATE chunk c SET vector = decode(u.v, 'base64'), embedding_model = ${model}, indexed = false, updated_at = now()
        FROM unnest(${ids}::text[], ${vecs}::text[]) AS u(id, v) WHERE c.id = u.id`;
    }
    if (chunks.length) {
      const ids = chunks.map((c) => c.id);
      await this.producer.enqueue(
        JobNames.indexChunks,
        { documentId: doc.id, generation: p.generation, chunkIds: ids },
        { jobId: jobIds.chunkBatch('index', doc.id, p.generation, createHash('sha1').update(ids.join(',')).digest('hex').slice(0, 16)) },
      );
    }
    return 'done';
  }
}
