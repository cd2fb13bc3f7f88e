import { Prisma, type PrismaClient } from './generated/prisma/client.js';
import { asSql, statement, type HotReads, type Sql, type SqlLike } from './hot-reads.js';

/*
 * The index change feed: every change to what the search index should hold gets a position from the
 * sequence `index_change_seq` — chunks when `indexed` is set or cleared (chunk.index_seq), removals as
 * index_tombstone rows. nextval() is only called while holding FEED_LOCK exclusively, and the lock is held
 * until commit, so positions become visible in order; a reader holding the lock shared therefore sees every
 * position up to the sequence's current value, and can resume after it without missing anything.
 * Replicas that keep the index in memory follow this feed (apps/retrieval MemoryIndexSync).
 */

const FEED_LOCK = 724_311_003;
const LOCK = statement('feed_lock', `SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
const LOCK_SHARED = statement('feed_lock_shared', `SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`);

/**
 * A transaction: of the hot-path pool (HotReads.transaction), or Prisma's. The feed lock is transaction-scoped:
 * writers must be given their transaction, never a bare pool or client.
 */
type SqlTx = Sql | Prisma.TransactionClient;

const STAMP = statement('feed_stamp', `UPDATE chunk SET indexed = $1, index_seq = nextval('index_change_seq') WHERE id = ANY($2::text[])`, { planEachTime: true });

/** Sets `indexed` on chunks and gives them feed positions. Call last in the transaction that changed the index. */
export async function stampIndexed(tx: SqlTx, ids: readonly string[], indexed: boolean): Promise<void> {
  if (!ids.length) return;
  const sql = asSql(tx);
  await sql.run(LOCK, []);
  await sql.run(STAMP, [indexed, ids]);
}

const RESTAMP = statement(
  'feed_restamp_document',
  `UPDATE chunk SET index_seq = nextval('index_change_seq') WHERE document_id = $1 AND indexed RETURNING id`,
  { planEachTime: true },
);

/**
 * Gives a document's indexed chunks new feed positions without changing them: what their index entries take
 * from the document (its name, whether it is enabled) has changed, and feed followers re-read them. Returns
 * their ids. Call last in the transaction that changed the document.
 */
export async function restampDocument(tx: SqlTx, documentId: string): Promise<string[]> {
  const sql = asSql(tx);
  await sql.run(LOCK, []);
  const rows = await sql.rows<{ id: string }>(RESTAMP, [documentId]);
  return rows.map((r) => r.id);
}

export interface IndexRemoval {
  tenantId: string;
  datasetId?: string;
  documentId?: string;
  chunkIds?: string[];
}

const REMOVAL = statement(
  'feed_removal',
  `INSERT INTO index_tombstone (seq, tenant_id, dataset_id, document_id, chunk_ids) VALUES (nextval('index_change_seq'), $1, $2, $3, $4::text[])`,
);

/** Records that a dataset, a document or some chunks left the index. Call last in its transaction. */
export async function recordIndexRemoval(tx: SqlTx, r: IndexRemoval): Promise<void> {
  const sql = asSql(tx);
  await sql.run(LOCK, []);
  await sql.run(REMOVAL, [r.tenantId, r.datasetId ?? null, r.documentId ?? null, r.chunkIds ?? []]);
}

/**
 * The feed's newest position (0 before the first change) as a scalar subquery, to read it along with
 * another query (no extra round trip). Cheap: no lock, no table scan.
 */
export const FEED_HEAD_TEXT = '(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM index_change_seq)';

/**
 * The tenant's datasets among some ids, with their embedding model and the feed's head read with them (a
 * retrieval's scope: which model embeds the question, and the position the index must have reached).
 * $1 dataset ids, $2 tenant. Rows: id, embedding_model, head (int8 as text).
 */
export const DATASET_SCOPE = statement('dataset_scope', `SELECT id, embedding_model, ${FEED_HEAD_TEXT} AS head FROM dataset WHERE id = ANY($1::text[]) AND tenant_id = $2`);

const HEAD = statement('feed_head', `SELECT ${FEED_HEAD_TEXT} AS head`);

/** The feed's newest position, on its own. */
export async function feedHead(db: SqlLike): Promise<bigint> {
  const [row] = await asSql(db).rows<{ head: string | bigint }>(HEAD, []);
  return row ? BigInt(row.head) : 0n;
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

/** Where the feed is read from: the hot-path pool, for its transactions. */
type FeedSource = Sql & Pick<HotReads, 'transaction'>;

/** The feed's newest position, read with the lock held shared: every position up to it is committed. */
export async function settledFeedHead(db: FeedSource): Promise<bigint> {
  return db.transaction(async (sql) => {
    await sql.run(LOCK_SHARED, []);
    return feedHead(sql);
  });
}

/** $1 since, $2 head, $3 limit */
const FEED_CHUNKS = statement(
  'feed_chunks',
  `SELECT index_seq AS seq, id, tenant_id AS "tenantId", dataset_id AS "datasetId", document_id AS "documentId", indexed
   FROM chunk WHERE index_seq > $1 AND index_seq <= $2 ORDER BY index_seq LIMIT $3`,
  { planEachTime: true },
);
/** $1 since, $2 up to */
const FEED_REMOVALS = statement(
  'feed_removals',
  `SELECT seq, tenant_id AS "tenantId", dataset_id AS "datasetId", document_id AS "documentId", chunk_ids AS "chunkIds"
   FROM index_tombstone WHERE seq > $1 AND seq <= $2 ORDER BY seq`,
  { planEachTime: true },
);

type Row<T extends { seq: bigint }> = Omit<T, 'seq'> & { seq: string | bigint };
const withSeq = <T extends { seq: bigint }>(r: Row<T>): T => ({ ...r, seq: BigInt(r.seq) }) as T;

/**
 * Changes after `since`, up to at most `limit` chunk positions. Runs with the feed lock held shared, so no
 * position at or below the returned head can still appear later.
 */
export async function readFeed(db: FeedSource, since: bigint, limit: number): Promise<FeedPage> {
  if (limit < 1) throw new RangeError('readFeed: limit must be at least 1');
  // Nothing new, the common case of a replica's poll: one query instead of a transaction taking the lock
  // (four round trips every poll interval). Sequence values are visible once allocated, before their writer
  // commits, so this never skips a change: a head past `since` is read below under the lock, which waits for
  // such writers.
  if ((await feedHead(db)) <= since) return { head: since, chunks: [], removals: [] };
  return db.transaction(async (sql) => {
    await sql.run(LOCK_SHARED, []);
    const head = await feedHead(sql);
    if (head <= since) return { head: since, chunks: [], removals: [] };
    const chunks = (await sql.rows<Row<FeedChunk>>(FEED_CHUNKS, [String(since), String(head), limit])).map((r) => withSeq<FeedChunk>(r));
    // a full page may stop short of head: resume after its last position
    const upTo = chunks.length === limit ? chunks[chunks.length - 1]!.seq : head;
    const removals = (await sql.rows<Row<FeedRemoval>>(FEED_REMOVALS, [String(since), String(upTo)])).map((r) => withSeq<FeedRemoval>(r));
    return { head: upTo, chunks, removals };
  });
}

/** Drops removals older than `olderThanMs` (a replica that was away longer reloads everything anyway). */
export async function pruneIndexRemovals(db: PrismaClient, olderThanMs: number): Promise<number> {
  return db.$executeRaw`DELETE FROM index_tombstone WHERE created_at < now() - make_interval(secs => ${olderThanMs / 1000})`;
}
