import { Inject, Injectable } from '@nestjs/common';
import { Prisma, documentLockKey, recordIndexRemoval, stampIndexed, type PrismaClient } from '@ragnest/db';
import { EmbeddingRegistry, embedChunks, vectorToBytes } from '@ragnest/embedding';
import type { SearchIndex } from '@ragnest/search';
import { InjectDb, QueueProducer } from '@ragnest/runtime';
import { SEARCH_INDEX } from '../search-index.provider.js';
import { IndexDimensions } from './index-dimensions.service.js';
import { titleTokens, toIndexedChunk, type ChunkIndexRow } from './indexed-chunk.js';

type Tx = Prisma.TransactionClient;
const TX = { timeout: 120_000, maxWait: 30_000 };

/**
 * The only writer of the search index. Index writes and index deletes of one document are serialised by
 * a Postgres advisory lock, and `chunk.indexed` is set in the same transaction as the write, so Postgres
 * always knows which chunks are really in the index. Every change is also stamped on the index change
 * feed; an index that follows the feed (the in-memory engine, one copy per replica) is filled from there.
 */
@Injectable()
export class IndexWriter {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @Inject(SEARCH_INDEX) private readonly index: SearchIndex,
    private readonly registry: EmbeddingRegistry,
    private readonly dims: IndexDimensions,
    private readonly producer: QueueProducer,
  ) {}

  private lock(tx: Tx, documentId: string) {
    return tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${documentLockKey(documentId)}, 0))`;
  }

  /** Embeds chunks that have no vector yet (manual add/edit), writes them to the index, marks them indexed. */
  async write(chunkIds: string[]): Promise<number> {
    if (!chunkIds.length) return 0;
    const rows = await this.db.chunk.findMany({ where: { id: { in: chunkIds } }, select: { id: true, documentId: true } });
    const byDoc = new Map<string, typeof rows>();
    for (const r of rows) byDoc.set(r.documentId, [...(byDoc.get(r.documentId) ?? []), r]);
    let n = 0;
    for (const [documentId, chunks] of byDoc) n += await this.writeDocumentChunks(documentId, chunks.map((c) => c.id));
    return n;
  }

  private async writeDocumentChunks(documentId: string, ids: string[]): Promise<number> {
    const doc = await this.db.document.findUnique({
      where: { id: documentId },
      select: { name: true, status: true, parserConfig: true, dataset: { select: { embeddingModel: true } } },
    });
    if (!doc) return 0;
    const model = doc.dataset.embeddingModel;
    return this.db.$transaction(async (tx) => {
      await this.lock(tx, documentId);
      // first only which chunks exist and which lack a vector of the dataset's model: an index that follows
      // the feed needs nothing else, and the common case (embedding worker ran) embeds nothing here
      const state = await tx.$queryRaw<{ id: string; embedded: boolean }[]>`
        SELECT c.id, COALESCE(v.model = ${model}, false) AS embedded
        FROM chunk c LEFT JOIN chunk_vector v ON v.chunk_id = c.id WHERE c.id = ANY(${ids}::text[]) AND c.document_id = ${documentId}`;
      if (!state.length) return 0;
      const missing = state.filter((c) => !c.embedded).map((c) => c.id);
      const fetch = this.index.followsFeed ? missing : state.map((c) => c.id);
      const rows = fetch.length
        ? await tx.$queryRaw<(Omit<ChunkIndexRow, 'vector' | 'documentName'> & { content: string; vector: Uint8Array | null; embedded: boolean })[]>`
            SELECT c.id, c.tenant_id AS "tenantId", c.dataset_id AS "datasetId", c.document_id AS "documentId", c.content,
                   c.content_tokens AS "contentTokens", c.important_keywords AS "importantKeywords", c.questions, c.available, v.vector,
                   COALESCE(v.model = ${model}, false) AS embedded
            FROM chunk c LEFT JOIN chunk_vector v ON v.chunk_id = c.id WHERE c.id = ANY(${fetch}::text[]) AND c.document_id = ${documentId}`
        : [];
      const toEmbed = rows.filter((c) => !c.embedded);
      if (toEmbed.length) {
        const weight = Number((doc.parserConfig as Record<string, unknown> | null)?.filename_embd_weight ?? 0.1);
        const vecs = await embedChunks(this.registry.get(model), toEmbed, doc.name, Number.isFinite(weight) ? weight : 0.1);
        toEmbed.forEach((c, i) => {
          c.vector = vectorToBytes(vecs[i]!);
        });
        for (const c of toEmbed) {
          const vec = { model, vector: c.vector as Uint8Array<ArrayBuffer>, updatedAt: new Date() };
          await tx.chunkVector.upsert({ where: { chunkId: c.id }, create: { chunkId: c.id, ...vec }, update: vec });
        }
      }
      if (!this.index.followsFeed) {
        const title = titleTokens(doc.name);
        const enabled = doc.status === '1';
        const items = rows.map((c) => toIndexedChunk({ ...c, available: c.available && enabled, vector: c.vector!, documentName: doc.name }, title));
        await this.dims.ensure(items[0]!.vector.length);
        await this.index.upsert(items);
      }
      await stampIndexed(tx, state.map((c) => c.id), true);
      return state.length;
    }, TX);
  }

  /**
   * Removes index entries, then re-queues whatever Postgres still has for the same scope (a re-parse may
   * already have written the new generation): deletes can never remove live chunks for good.
   */
  async delete(p: { tenantId: string; datasetId?: string; documentIds?: string[]; chunkIds?: string[] }): Promise<void> {
    const feed = !!this.index.followsFeed;
    if (p.datasetId) {
      if (!feed) await this.index.deleteByDataset(p.tenantId, p.datasetId);
      const datasetId = p.datasetId;
      await this.db.$transaction((tx) => recordIndexRemoval(tx, { tenantId: p.tenantId, datasetId }), TX);
    }
    for (const documentId of p.documentIds ?? []) {
      const survivors = await this.db.$transaction(async (tx) => {
        await this.lock(tx, documentId);
        if (!feed) await this.index.deleteByDocument(p.tenantId, documentId);
        const live = await tx.chunk.findMany({ where: { documentId, indexed: true }, select: { id: true } });
        await recordIndexRemoval(tx, { tenantId: p.tenantId, documentId });
        if (live.length) await stampIndexed(tx, live.map((c) => c.id), false);
        return live.map((c) => c.id);
      }, TX);
      await this.requeue(documentId, survivors);
    }
    if (p.chunkIds?.length) {
      if (!feed) await this.index.deleteByIds(p.tenantId, p.chunkIds);
      const live = await this.db.chunk.findMany({ where: { id: { in: p.chunkIds }, indexed: true }, select: { id: true, documentId: true } });
      await this.db.$transaction(async (tx) => {
        await recordIndexRemoval(tx, { tenantId: p.tenantId, chunkIds: p.chunkIds });
        if (live.length) await stampIndexed(tx, live.map((c) => c.id), false);
      }, TX);
      if (live.length) {
        const byDoc = new Map<string, string[]>();
        for (const c of live) byDoc.set(c.documentId, [...(byDoc.get(c.documentId) ?? []), c.id]);
        for (const [doc, ids] of byDoc) await this.requeue(doc, ids);
      }
    }
  }

  private async requeue(documentId: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const doc = await this.db.document.findUnique({ where: { id: documentId }, select: { generation: true } });
    if (!doc) return;
    await this.producer.enqueueIndexChunks(documentId, doc.generation, ids);
  }
}
