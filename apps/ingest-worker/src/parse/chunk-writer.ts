import { chunkIdFor, Prisma, type PrismaClient } from '@ragnest/db';
import { analyzeToString, type ChunkDraft } from '@ragnest/nlp';

export interface ChunkRowContext {
  documentId: string;
  datasetId: string;
  tenantId: string;
  generation: number;
  taskId: string;
}

/**
 * Writes chunk rows keyed by their deterministic id (xxhash64(content + document id)). A chunk that
 * already exists (a retried task, or the same text twice in a document) is kept once.
 * Returns the ids of the rows this batch covers, in order, without duplicates.
 */
export async function writeChunks(db: PrismaClient, ctx: ChunkRowContext, drafts: ChunkDraft[], firstOrd: number): Promise<string[]> {
  const seen = new Set<string>();
  const rows: Prisma.ChunkCreateManyInput[] = [];
  drafts.forEach((d, i) => {
    const id = chunkIdFor(d.content, ctx.documentId);
    if (seen.has(id)) return;
    seen.add(id);
    rows.push({
      id,
      documentId: ctx.documentId,
      datasetId: ctx.datasetId,
      tenantId: ctx.tenantId,
      generation: ctx.generation,
      taskId: ctx.taskId,
      ord: firstOrd + i,
      content: d.content,
      contentTokens: analyzeToString(d.content),
      importantKeywords: [],
      questions: [],
      tokenCount: d.tokenCount,
      positions: d.positions as Prisma.InputJsonValue,
      docType: d.docType,
    });
  });
  if (rows.length) await db.chunk.createMany({ data: rows, skipDuplicates: true });
  return rows.map((r) => r.id);
}
