import { asSql, newId, statement, type PrismaClient, type SqlLike } from '@ragnest/db';

/** to_page of a task covering the whole file (RAGFlow's 100,000,000). */
export const WHOLE_FILE = 100_000_000;

export interface PlannedRange {
  fromPage: number;
  toPage: number;
}

/**
 * What the task that splits a file learned of the whole of it, stored on every range task (`parse_task.layout`):
 * a PDF's running header/footer lines (`pdfMargins` of the parser).
 */
export interface TaskLayout {
  pdfMargins: string[];
}

/** A task row's layout, when it has a well-formed one (rows written before it existed have none). */
export function taskLayout(value: unknown): TaskLayout | null {
  const m = (value as { pdfMargins?: unknown } | null)?.pdfMargins;
  return Array.isArray(m) && m.every((k) => typeof k === 'string') ? { pdfMargins: m } : null;
}

/**
 * Splits a whole-file task into page-range tasks (RAGFlow task_page_size). The task keeps the first range and
 * the others are created QUEUED in the same transaction, so a retry of this task (its range is no longer the
 * whole file) never splits twice. Returns the new tasks' ids, or null when the document was superseded.
 */
export async function splitTask(
  db: PrismaClient,
  task: { id: string; documentId: string; generation: number },
  ranges: [number, number][],
  layout?: TaskLayout,
): Promise<{ keep: PlannedRange; created: string[] } | null> {
  const [first, ...rest] = ranges;
  if (!first) return null;
  return db.$transaction(async (tx) => {
    const doc = await tx.document.findUnique({ where: { id: task.documentId }, select: { generation: true, run: true } });
    if (!doc || doc.generation !== task.generation || doc.run !== 'RUNNING') return null;
    const n = await tx.parseTask.updateMany({
      where: { id: task.id, generation: task.generation, fromPage: 0, toPage: WHOLE_FILE },
      data: { fromPage: first[0], toPage: first[1], ...(layout ? { layout: { ...layout } } : {}) },
    });
    if (n.count !== 1) return null;
    const created = rest.map(() => newId());
    if (rest.length) {
      await tx.parseTask.createMany({
        data: rest.map(([fromPage, toPage], i) => ({
          id: created[i]!,
          documentId: task.documentId,
          generation: task.generation,
          fromPage,
          toPage,
          ...(layout ? { layout: { ...layout } } : {}),
        })),
      });
    }
    return { keep: { fromPage: first[0], toPage: first[1] }, created };
  });
}

/** $1 document, $2 generation */
const TASK_COUNTS = statement(
  'parse_task_counts',
  `SELECT count(*) FILTER (WHERE state = 'DONE')::int AS done, count(*)::int AS total FROM parse_task WHERE document_id = $1 AND generation = $2`,
  { planEachTime: true },
);

/** Done and total tasks of a document's generation (for "3/10 tasks" progress). */
export async function taskCounts(db: SqlLike, documentId: string, generation: number): Promise<{ done: number; total: number }> {
  const [row] = await asSql(db).rows<{ done: number; total: number }>(TASK_COUNTS, [documentId, generation]);
  return row ?? { done: 0, total: 0 };
}
