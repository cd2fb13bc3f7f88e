import { asSql, statement, type SqlLike } from './hot-reads.js';

/** Longest progress_msg kept (older lines are dropped), like RAGFlow's 3000-line trim. */
const MAX_PROGRESS_MSG = 20_000;

function stamp(line: string): string {
  const t = new Date().toISOString().slice(11, 19);
  return `${t} ${line}`;
}

/** $1 progress or null, $2 message line or null, $3 document, $4 generation */
const PROGRESS = statement(
  'doc_progress',
  `UPDATE document SET
     progress = CASE WHEN $1::float8 IS NULL THEN progress ELSE GREATEST(progress, LEAST($1::float8, 0.99)) END,
     progress_msg = CASE WHEN $2::text IS NULL THEN progress_msg
                         ELSE right(CASE WHEN progress_msg = '' THEN $2::text ELSE progress_msg || E'\\n' || $2::text END, ${MAX_PROGRESS_MSG}) END,
     updated_at = now()
   WHERE id = $3 AND generation = $4 AND run = 'RUNNING'`,
);

/**
 * Raises a RUNNING document's progress (never lowers it) and optionally appends a message line.
 * A stale generation or a document that is no longer RUNNING is left alone.
 */
export async function reportProgress(db: SqlLike, documentId: string, generation: number, progress: number | null, message?: string): Promise<void> {
  await asSql(db).run(PROGRESS, [progress, message ? stamp(message) : null, documentId, generation]);
}

/** $1 message line, $2 document, $3 generation */
const FINISH = statement(
  'doc_finish',
  `UPDATE document d SET
     run = 'DONE',
     progress = 1,
     (chunk_count, token_count) = (SELECT count(*)::int, COALESCE(sum(token_count), 0)::int FROM chunk WHERE document_id = $2),
     process_duration = EXTRACT(EPOCH FROM (now() - COALESCE(d.process_begin_at, d.updated_at))),
     progress_msg = right(d.progress_msg || E'\\n' || $1::text, ${MAX_PROGRESS_MSG}),
     updated_at = now()
   WHERE d.id = $2 AND d.generation = $3 AND d.run = 'RUNNING'
     AND EXISTS (SELECT 1 FROM parse_task t WHERE t.document_id = d.id AND t.generation = d.generation)
     AND NOT EXISTS (SELECT 1 FROM parse_task t WHERE t.document_id = d.id AND t.generation = d.generation AND t.state <> 'DONE')
     AND NOT EXISTS (SELECT 1 FROM chunk c WHERE c.document_id = d.id AND NOT c.indexed)`,
  { planEachTime: true },
);

/**
 * Marks the document DONE once every parse task of its generation is DONE and every chunk is indexed.
 * One atomic statement, so any number of workers may call it; counts come from the chunk rows themselves.
 * It runs after every index batch: the counts are taken only when the document is finishing (a subquery in
 * SET), not on every call (a join in FROM counted all of a big document's chunks per batch, quadratic).
 * Returns true when this call made the transition.
 */
export async function tryFinishDocument(db: SqlLike, documentId: string, generation: number): Promise<boolean> {
  return (await asSql(db).run(FINISH, [stamp('Indexing finished. Document is ready for retrieval.'), documentId, generation])) > 0;
}

/** $1 message line, $2 document, $3 generation */
const FAIL = statement(
  'doc_fail',
  `UPDATE document SET
     run = 'FAIL', progress = -1,
     process_duration = EXTRACT(EPOCH FROM (now() - COALESCE(process_begin_at, updated_at))),
     progress_msg = right(CASE WHEN progress_msg = '' THEN $1::text ELSE progress_msg || E'\\n' || $1::text END, ${MAX_PROGRESS_MSG}),
     updated_at = now()
   WHERE id = $2 AND generation = $3 AND run = 'RUNNING'`,
);
/** $1 document, $2 generation */
const FAIL_TASKS = statement('doc_fail_tasks', `UPDATE parse_task SET state = 'FAIL' WHERE document_id = $1 AND generation = $2 AND state IN ('QUEUED','RUNNING')`, { planEachTime: true });

/** Ends a RUNNING document as FAIL with a reason users see (progress -1). */
export async function failDocument(db: SqlLike, documentId: string, generation: number, reason: string): Promise<boolean> {
  const sql = asSql(db);
  const n = await sql.run(FAIL, [stamp(`[ERROR] ${reason}`), documentId, generation]);
  if (n > 0) await sql.run(FAIL_TASKS, [documentId, generation]);
  return n > 0;
}

/** Serialises index writes and index deletes of one document across processes (held for one transaction). */
export function documentLockKey(documentId: string): string {
  return `ragnest:doc:${documentId}`;
}
