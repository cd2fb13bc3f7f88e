import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PUT_VECTORS, statement, vectorsParam, type HotReads } from '@ragnest/db';
import { JobNames, jobIds, type JobPayload } from '@ragnest/contracts';
import { EmbeddingRegistry, PermanentEmbeddingError, embedChunks, vectorToBytes } from '@ragnest/embedding';
import { InjectHotReads, PermanentJobError, QueueProducer, type JobContext } from '@ragnest/runtime';

/** $1 document. */
const DOCUMENT = statement(
  'embed_document',
  `SELECT d.name, d.generation, d.run, d.parser_config, ds.embedding_model
   FROM document d JOIN dataset ds ON ds.id = d.dataset_id WHERE d.id = $1`,
);

/** $1 chunk ids, $2 document, $3 model: the batch's chunks, and whether each has a vector of that model. */
const CHUNKS = statement(
  'embed_chunks',
  `SELECT c.id, c.content, c.content_tokens AS "contentTokens", c.questions, COALESCE(v.model = $3, false) AS embedded
   FROM chunk c LEFT JOIN chunk_vector v ON v.chunk_id = c.id
   WHERE c.id = ANY($1::text[]) AND c.document_id = $2`,
  { planEachTime: true },
);

interface DocumentRow {
  name: string;
  generation: number;
  run: string;
  parser_config: Record<string, unknown> | null;
  embedding_model: string;
}

/**
 * Embeds one batch of chunks and stores the vectors in Postgres (so the index can be rebuilt without
 * re-embedding), then hands the batch to the index queue. Chunks that already have a vector of the
 * dataset's model are not embedded again. Its three statements are prepared on the hot-path pool: through
 * Prisma they cost about a tenth of this worker's CPU.
 */
@Injectable()
export class EmbedChunksService {
  constructor(
    @InjectHotReads() private readonly hot: HotReads,
    private readonly registry: EmbeddingRegistry,
    private readonly producer: QueueProducer,
  ) {}

  async run(p: JobPayload<typeof JobNames.embedChunks>, ctx: JobContext): Promise<'done' | 'stale'> {
    const [doc] = await this.hot.rows<DocumentRow>(DOCUMENT, [p.documentId]);
    if (!doc || doc.generation !== p.generation || !['RUNNING', 'DONE'].includes(doc.run)) return 'stale';
    const model = doc.embedding_model;
    const chunks = await this.hot.rows<{ id: string; content: string; contentTokens: string; questions: string[]; embedded: boolean }>(CHUNKS, [
      p.chunkIds,
      p.documentId,
      model,
    ]);
    const todo = chunks.filter((c) => !c.embedded);
    if (todo.length) {
      let provider;
      try {
        provider = this.registry.get(model);
      } catch (err) {
        throw new PermanentJobError((err as Error).message);
      }
      const weight = Number(doc.parser_config?.filename_embd_weight ?? 0.1);
      let vectors: Float32Array[];
      try {
        vectors = await embedChunks(provider, todo, doc.name, Number.isFinite(weight) ? weight : 0.1, ctx.signal);
      } catch (err) {
        if (err instanceof PermanentEmbeddingError) throw new PermanentJobError(`Embedding failed: ${err.message}`);
        throw err;
      }
      // one statement for the whole batch (vectors travel as base64 text)
      await this.hot.run(PUT_VECTORS, [model, todo.map((c) => c.id), vectorsParam(vectors.map(vectorToBytes))]);
    }
    if (chunks.length) {
      const ids = chunks.map((c) => c.id);
      await this.producer.enqueue(
        JobNames.indexChunks,
        { documentId: p.documentId, generation: p.generation, chunkIds: ids },
        { jobId: jobIds.chunkBatch('index', p.documentId, p.generation, createHash('sha1').update(ids.join(',')).digest('hex').slice(0, 16)) },
      );
    }
    return 'done';
  }
}
