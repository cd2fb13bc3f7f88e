import { Prisma, type PrismaClient } from './generated/prisma/client.js';
import { statement } from './hot-reads.js';

/*
 * The index change feed: every change to what the search index should hold gets a position from the
 * sequence `index_change_seq` — chunks when `indexed` is set or cleared (chunk.index_seq), removals as
 * index_tombstone rows. nextval() is only called while holding FEED_LOCK exclusively, and the lock is held
 * until commit, so positions become visible in order; a reader holding the lock shared therefore sees every
 * position up to the sequence's current value, and can resume after it without missing anything.
 * Replicas that keep the index in memory follow this feed (apps/retrieval MemoryIndexSync).
 */

const FEED_LOCK = 724_311_003;
/** readers wait for a connection and for writers in flight; a busy machine must not turn that into errors */
const READ_TX = { maxWait: 15_000, timeout: 60_000 };

/** The feed lock is transaction-scoped: writers must be given their transaction, never the bare client. */
type Tx = Prisma.TransactionClient;
type Sql = Pick<PrismaClient, '$queryRaw'> | Tx;

/** Sets `indexed` on chunks and gives them feed positions. Call last in the transaction that changed the index. */
export async function stampIndexed(tx: Tx, ids: readonly string[], indexed: boolean): Promise<void> {
  if (!ids.length) return;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FEED_LOCK})`;
  await tx.$executeRaw`
    UPDATE chunk SET indexed = ${indexed}, index_seq = nextval('index_change_seq') WHERE id = ANY(${ids as string[]}::text[])`;
}

/**
 * Gives a document's indexed chunks new feed positions without changing them: what their index entries take
 * from the document (its name, whether it is enabled) has changed, and feed followers re-read them. Returns
 * their ids. Call last in the transaction that changed the document.
 */
export async function restampDocument(tx: Tx, documentId: string): Promise<string[]> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FEED_LOCK})`;
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE chunk SET index_seq = nextval('index_change_seq') WHERE document_id = ${documentId} AND indexed RETURNING id`;
  return rows.map((r) => r.id);
}

export interface IndexRemoval {
  tenantId: string;
  datasetId?: string;
  documentId?: string;
  chunkIds?: string[];
}

/** Records that a dataset, a document or some chunks left the index. Call last in its transaction. */
export async function recordIndexRemoval(tx: Tx, r: IndexRemoval): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FEED_LOCK})`;
  await tx.$executeRaw`
    INSERT INTO index_tombstone (seq, tenant_id, dataset_id, document_id, chunk_ids)
    VALUES (nextval('index_change_seq'), ${r.tenantId}, ${r.datasetId ?? null}, ${r.documentId ?? null}, ${r.chunkIds ?? []}::text[])`;
}

/**
 * The feed's newest position (0 before the first change) as a scalar subquery, to read it along with
 * another query (no extra round trip). Cheap: no lock, no table scan.
 */
export const FEED_HEAD_TEXT = '(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM index_change_seq)';
export const FEED_HEAD_SQL = Prisma.raw(FEED_HEAD_TEXT);

/**
 * The tenant's datasets among some ids, with their embedding model and the feed's head read with them (a
 * retrieval's scope: which model embeds the question, and the position the index must have reached).
 * $1 dataset ids, $2 tenant. Rows: id, embedding_model, head (int8 as text).
 */
export const DATASET_SCOPE = statement('dataset_scope', `SELECT id, embedding_model, ${FEED_HEAD_TEXT} AS head FROM dataset WHERE id = ANY($1::text[]) AND tenant_id = $2`);

/** The feed's newest position, on its own. */
export async function feedHead(db: Sql): Promise<bigint> {
  const [row] = await db.$queryRaw<{ head: bigint }[]>`SELECT ${FEED_HEAD_SQL} AS head`;
  return row?.head ?? 0n;
}

export interface FeedChunk {
  seq: bigint;
  id: string;
  tenantId: string;
  datasetId: string;
  documentId: string;
  indexed: boolean;
}

export interface FeedRemoval extends IndexRemoval {
  seq: bigint;
}

export interface FeedPage {
  /** resume after this position next time */
  head: bigint;
  chunks: FeedChunk[];
  removals: FeedRemoval[];
}

/** The feed's newest position, read with the lock held shared: every position up to it is committed. */
export async function settledFeedHead(db: PrismaClient): Promise<bigint> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`;
    return feedHead(tx);
  }, READ_TX);
}

/**
 * Changes after `since`, up to at most `limit` chunk positions. Runs with the feed lock held shared, so no
 * position at or below the returned head can still appear later.
 */
export async function readFeed(db: PrismaClient, since: bigint, limit: number): Promise<FeedPage> {
  if (limit < 1) throw new RangeError('readFeed: limit must be at least 1');
  // Nothing new, the common case of a replica's poll: one query instead of a transaction taking the lock
  // (four round trips every poll interval). Sequence values are visible once allocated, before their writer
  // commits, so this never skips a change: a head past `since` is read below under the lock, which waits for
  // such writers.
  if ((await feedHead(db)) <= since) return { head: since, chunks: [], removals: [] };
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`;
    const head = await feedHead(tx);
    if (head <= since) return { head: since, chunks: [], removals: [] };
    const chunks = await tx.$queryRaw<FeedChunk[]>`
      SELECT index_seq AS seq, id, tenant_id AS "tenantId", dataset_id AS "datasetId", document_id AS "documentId", indexed
      FROM chunk WHERE index_seq > ${since} AND index_seq <= ${head} ORDER BY index_seq LIMIT ${limit}`;
    // a full page may stop short of head: resume after its last position
    const upTo = chunks.length === limit ? chunks[chunks.length - 1]!.seq : head;
    const removals = await tx.$queryRaw<FeedRemoval[]>`
      SELECT seq, tenant_id AS "tenantId", dataset_id AS "datasetId", document_id AS "documentId", chunk_ids AS "chunkIds"
      FROM index_tombstone WHERE seq > ${since} AND seq <= ${upTo} ORDER BY seq`;
    return { head: upTo, chunks, removals };
  }, READ_TX);
}

/** Drops removals older than `olderThanMs` (a replica that was away longer reloads everything anyway). */
export async function pruneIndexRemovals(db: PrismaClient, olderThanMs: number): Promise<number> {
  return db.$executeRaw`DELETE FROM index_tombstone WHERE created_at < now() - make_interval(secs => ${olderThanMs / 1000})`;
}
