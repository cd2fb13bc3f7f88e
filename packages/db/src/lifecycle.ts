import type { PrismaClient } from './generated/prisma/client.js';

/** Longest progress_msg kept (older lines are dropped), like RAGFlow's 3000-line trim. */
const MAX_PROGRESS_MSG = 20_000;

function stamp(line: string): string {
  const t = new Date().toISOString().slice(11, 19);
  return `${t} ${line}`;
}

/**
 * Raises a RUNNING document's progress (never lowers it) and optionally appends a message line.
 * A stale generation or a document that is no longer RUNNING is left alone.
 */
export async function reportProgress(
  db: PrismaClient,
  documentId: string,
  generation: number,
  progress: number | null,
  message?: string,
): Promise<void> {
  const line = message ? stamp(message) : null;
  await db.$executeRaw`
    UPDATE document SET
      progress = CASE WHEN ${progress}::float8 IS NULL THEN progress ELSE GREATEST(progress, LEAST(${progress}::float8, 0.99)) END,
      progress_msg = CASE WHEN ${line}::text IS NULL THEN progress_msg
                          ELSE right(CASE WHEN progress_msg = '' THEN ${line}::text ELSE progress_msg || E'\n' || ${line}::text END, ${MAX_PROGRESS_MSG}) END,
      updated_at = now()
    WHERE id = ${documentId} AND generation = ${generation} AND run = 'RUNNING'`;
}

/**
 * Marks the document DONE once every parse task of its generation is DONE and every chunk is indexed.
 * One atomic statement, so any number of workers may call it; counts come from the chunk rows themselves.
 * Returns true when this call made the transition.
 */
export async function tryFinishDocument(db: Pick<PrismaClient, '$executeRaw'>, documentId: string, generation: number): Promise<boolean> {
  const line = stamp('Indexing finished. Document is ready for retrieval.');
  const n = await db.$executeRaw`
    UPDATE document d SET
      run = 'DONE',
      progress = 1,
      chunk_count = s.cnt,
      token_count = s.tokens,
      process_duration = EXTRACT(EPOCH FROM (now() - COALESCE(d.process_begin_at, d.updated_at))),
      progress_msg = right(d.progress_msg || E'\n' || ${line}::text, ${MAX_PROGRESS_MSG}),
      updated_at = now()
    FROM (SELECT count(*)::int AS cnt, COALESCE(sum(token_count), 0)::int AS tokens FROM chunk WHERE document_id = ${documentId}) s
    WHERE d.id = ${documentId} AND d.generation = ${generation} AND d.run = 'RUNNING'
      AND EXISTS (SELECT 1 FROM parse_task t WHERE t.document_id = d.id AND t.generation = d.generation)
      AND NOT EXISTS (SELECT 1 FROM parse_task t WHERE t.document_id = d.id AND t.generation = d.generation AND t.state <> 'DONE')
      AND NOT EXISTS (SELECT 1 FROM chunk c WHERE c.document_id = d.id AND NOT c.indexed)`;
  return n > 0;
}

/** Ends a RUNNING document as FAIL with a reason users see (progress -1). */
export async function failDocument(db: PrismaClient, documentId: string, generation: number, reason: string): Promise<boolean> {
  const line = stamp(`[ERROR] ${reason}`);
  const n = await db.$executeRaw`
    UPDATE document SET
      run = 'FAIL', progress = -1,
      process_duration = EXTRACT(EPOCH FROM (now() - COALESCE(process_begin_at, updated_at))),
      progress_msg = right(CASE WHEN progress_msg = '' THEN ${line}::text ELSE progress_msg || E'\n' || ${line}::text END, ${MAX_PROGRESS_MSG}),
      updated_at = now()
    WHERE id = ${documentId} AND generation = ${generation} AND run = 'RUNNING'`;
  if (n > 0) {
    await db.$executeRaw`UPDATE parse_task SET state = 'FAIL' WHERE document_id = ${documentId} AND generation = ${generation} AND state IN ('QUEUED','RUNNING')`;
  }
  return n > 0;
}

/** Serialises index writes and index deletes of one document across processes (held for one transaction). */
export function documentLockKey(documentId: string): string {
  return `ragnest:doc:${documentId}`;
}
