import { Inject, Injectable } from '@nestjs/common';
import { PUT_VECTORS, Prisma, documentLockKey, recordIndexRemoval, stampIndexed, statement, vectorsParam, type HotReads, type PrismaClient } from '@ragnest/db';
import { EmbeddingRegistry, embedChunks, vectorToBytes } from '@ragnest/embedding';
import type { SearchIndex } from '@ragnest/search';
import { InjectDb, InjectHotReads, QueueProducer } from '@ragnest/runtime';
import { SEARCH_INDEX } from '../search-index.provider.js';
import { IndexDimensions } from './index-dimensions.service.js';
import { titleTokens, toIndexedChunk, type ChunkIndexRow } from './indexed-chunk.js';

type Tx = Prisma.TransactionClient;
const TX = { timeout: 120_000, maxWait: 30_000 };

/** $1 chunk ids */
const CHUNK_DOCUMENTS = statement('index_chunk_documents', 'SELECT id, document_id FROM chunk WHERE id = ANY($1::text[])', { planEachTime: true });
/** $1 document */
const DOCUMENT = statement(
  'index_document',
  'SELECT d.generation, d.run, d.name, d.status, d.parser_config, ds.embedding_model FROM document d JOIN dataset ds ON ds.id = d.dataset_id WHERE d.id = $1',
);
/** $1 documentLockKey */
const DOCUMENT_LOCK = statement('index_document_lock', 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))');
/** $1 chunk ids, $2 document, $3 model */
const CHUNK_STATE = statement(
  'index_chunk_state',
  `SELECT c.id, COALESCE(v.model = $3, false) AS embedded
   FROM chunk c LEFT JOIN chunk_vector v ON v.chunk_id = c.id WHERE c.id = ANY($1::text[]) AND c.document_id = $2`,
  { planEachTime: true },
);
/** $1 chunk ids, $2 document, $3 model */
const CHUNK_ROWS = statement(
  'index_chunk_rows',
  `SELECT c.id, c.tenant_id AS "tenantId", c.dataset_id AS "datasetId", c.document_id AS "documentId", c.content,
          c.content_tokens AS "contentTokens", c.important_keywords AS "importantKeywords", c.questions, c.available, v.vector,
          COALESCE(v.model = $3, false) AS embedded
   FROM chunk c LEFT JOIN chunk_vector v ON v.chunk_id = c.id WHERE c.id = ANY($1::text[]) AND c.document_id = $2`,
  { planEachTime: true },
);

export interface IndexDocument {
  generation: number;
  run: string;
  name: string;
  status: string;
  parser_config: Record<string, unknown> | null;
  embedding_model: string;
}
type ChunkRow = Omit<ChunkIndexRow, 'vector' | 'documentName'> & { content: string; vector: Uint8Array | null; embedded: boolean };

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
    @InjectHotReads() private readonly hot: HotReads,
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
    const rows = await this.hot.rows<{ id: string; document_id: string }>(CHUNK_DOCUMENTS, [chunkIds]);
    const byDoc = new Map<string, string[]>();
    for (const r of rows) byDoc.set(r.document_id, [...(byDoc.get(r.document_id) ?? []), r.id]);
    let n = 0;
    for (const [documentId, ids] of byDoc) n += await this.writeDocumentChunks(documentId, ids);
    return n;
  }

  /** What indexing a document's chunks needs of it (and its state), or undefined when it is gone. */
  async document(documentId: string): Promise<IndexDocument | undefined> {
    const [doc] = await this.hot.rows<IndexDocument>(DOCUMENT, [documentId]);
    return doc;
  }

  /**
   * One document's chunks, in one transaction under the document's lock, on the hot-path pool: this runs for
   * every batch ingested, and through Prisma's interactive transactions it cost the retrieval service more
   * CPU than the statements did in Postgres. `doc` when the caller has just read it.
   */
  async writeDocumentChunks(documentId: string, ids: string[], known?: IndexDocument): Promise<number> {
    const doc = known ?? (await this.document(documentId));
    if (!doc) return 0;
    const model = doc.embedding_model;
    return this.hot.transaction(async (sql) => {
      await sql.run(DOCUMENT_LOCK, [documentLockKey(documentId)]);
      // first only which chunks exist and which lack a vector of the dataset's model: an index that follows
      // the feed needs nothing else, and the common case (embedding worker ran) embeds nothing here
      const state = await sql.rows<{ id: string; embedded: boolean }>(CHUNK_STATE, [ids, documentId, model]);
      if (!state.length) return 0;
      const missing = state.filter((c) => !c.embedded).map((c) => c.id);
      const fetch = this.index.followsFeed ? missing : state.map((c) => c.id);
      const rows = fetch.length ? await sql.rows<ChunkRow>(CHUNK_ROWS, [fetch, documentId, model]) : [];
      const toEmbed = rows.filter((c) => !c.embedded);
      if (toEmbed.length) {
        const weight = Number(doc.parser_config?.filename_embd_weight ?? 0.1);
        const vecs = await embedChunks(this.registry.get(model), toEmbed, doc.name, Number.isFinite(weight) ? weight : 0.1);
        toEmbed.forEach((c, i) => {
          c.vector = vectorToBytes(vecs[i]!);
        });
        await sql.run(PUT_VECTORS, [model, toEmbed.map((c) => c.id), vectorsParam(toEmbed.map((c) => c.vector!))]);
      }
      if (!this.index.followsFeed) {
        const title = titleTokens(doc.name);
        const enabled = doc.status === '1';
        const items = rows.map((c) => toIndexedChunk({ ...c, available: c.available && enabled, vector: c.vector!, documentName: doc.name }, title));
        await this.dims.ensure(items[0]!.vector.length);
        await this.index.upsert(items);
      }
      await stampIndexed(sql, state.map((c) => c.id), true);
      return state.length;
    });
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
