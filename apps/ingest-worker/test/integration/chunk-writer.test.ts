import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPrisma, HotReads, newId, type PrismaClient } from '@ragnest/db';
import { LocalObjectStorage, chunkImageKey } from '@ragnest/storage';
import { createTestDatabase, type TestDatabase } from '@ragnest/testkit';
import type { ChunkDraft } from '@ragnest/nlp';
import { draftChunkId, writeChunks } from '../../src/parse/chunk-writer.js';
import { splitTask, taskCounts, taskLayout, WHOLE_FILE } from '../../src/parse/task-planner.js';

let tdb: TestDatabase;
let db: PrismaClient;
let hot: HotReads;
let storage: LocalObjectStorage;

beforeAll(async () => {
  tdb = await createTestDatabase('chunk-writer');
  db = createPrisma(tdb.url, { poolSize: 4 });
  hot = new HotReads(tdb.url);
  storage = new LocalObjectStorage({ root: mkdtempSync(path.join(tmpdir(), 'ragnest-writer-')) });
});
afterAll(async () => {
  await hot?.close();
  await db?.$disconnect();
  await tdb?.drop();
});

async function runningDocument() {
  const tenantId = newId();
  const datasetId = newId();
  const documentId = newId();
  await db.tenant.create({ data: { id: tenantId, name: 't' } });
  await db.dataset.create({ data: { id: datasetId, tenantId, name: 'd', nameKey: `d-${datasetId}`, embeddingModel: 'm@B', createdBy: tenantId, parserConfig: {} } });
  await db.document.create({
    data: {
      id: documentId, datasetId, tenantId, name: 'a.pdf', location: `${datasetId}/${documentId}`, size: 10n, type: 'pdf', suffix: 'pdf',
      mimeType: 'application/pdf', chunkMethod: 'naive', parserConfig: {}, createdBy: tenantId, run: 'RUNNING', generation: 3,
    },
  });
  const taskId = newId();
  await db.parseTask.create({ data: { id: taskId, documentId, generation: 3 } });
  return { tenantId, datasetId, documentId, taskId, generation: 3 };
}

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

test('pictures are stored under their chunk, rows carry image_id/mom_id/fields/keywords, and a rerun writes nothing new', async () => {
  const ctx = await runningDocument();
  const drafts: ChunkDraft[] = [
    { content: 'Figure 1', tokenCount: 2, positions: [[1, 0, 10, 0, 10]], docType: 'image', image: { data: png, mime: 'image/png' } },
    { content: 'Figure 1', tokenCount: 2, positions: [[2, 0, 10, 0, 10]], docType: 'image', image: { data: Buffer.concat([png, Buffer.from([1])]), mime: 'image/png' } },
    { content: 'child a', tokenCount: 2, positions: [], docType: '', parentContent: 'child a. child b' },
    { content: 'child b', tokenCount: 2, positions: [], docType: '', parentContent: 'child a. child b' },
    { content: 'Question: q\tAnswer: a', tokenCount: 6, positions: [], docType: '', tokenText: 'q', importantKeywords: ['abstract'], fields: { age_long: 7 } },
  ];
  const ids = await writeChunks(hot, storage, ctx, drafts, 100);
  // the same caption on two different pictures makes two chunks; the parent is written once, before its children
  expect(ids).toHaveLength(6);
  const rows = await db.chunk.findMany({ where: { documentId: ctx.documentId }, orderBy: [{ ord: 'asc' }, { available: 'asc' }] });
  const pics = rows.filter((r) => r.docType === 'image');
  expect(pics).toHaveLength(2);
  for (const r of pics) {
    expect(r.imageId).toBe(`${ctx.datasetId}-${r.id}`);
    expect(await storage.stat(chunkImageKey(ctx.datasetId, ctx.documentId, ctx.generation, r.id))).toMatchObject({ size: expect.any(Number) });
  }
  const parent = rows.find((r) => r.content === 'child a. child b')!;
  expect(parent.available).toBe(false);
  expect(rows.filter((r) => r.momId === parent.id).map((r) => r.content)).toEqual(['child a', 'child b']);
  const qa = rows.find((r) => r.content.startsWith('Question'))!;
  expect([qa.contentTokens, qa.importantKeywords, qa.fields, qa.ord]).toEqual(['q', ['abstract'], { age_long: 7 }, 104]);
  expect(draftChunkId(drafts[0]!, ctx.documentId)).toBe(pics.find((p) => (p.positions as number[][])[0]![0] === 1)!.id);

  // a retried task writes the same ids again: no duplicates
  expect(await writeChunks(hot, storage, ctx, drafts, 100)).toEqual(ids);
  expect(await db.chunk.count({ where: { documentId: ctx.documentId } })).toBe(6);
});

test('a whole-file task splits into page ranges once, in one transaction', async () => {
  const ctx = await runningDocument();
  const task = { id: ctx.taskId, documentId: ctx.documentId, generation: ctx.generation };
  const split = await splitTask(db, task, [[0, 12], [12, 24], [24, 30]], { pdfMargins: ['acmereport', 'page#of#'] });
  expect(split!.keep).toEqual({ fromPage: 0, toPage: 12 });
  expect(split!.created).toHaveLength(2);
  const tasks = await db.parseTask.findMany({ where: { documentId: ctx.documentId }, orderBy: { fromPage: 'asc' } });
  expect(tasks.map((t) => [t.fromPage, t.toPage, t.state])).toEqual([[0, 12, 'QUEUED'], [12, 24, 'QUEUED'], [24, 30, 'QUEUED']]);
  // every range task, the kept one too, has what the split learned of the whole file
  expect(tasks.map((t) => taskLayout(t.layout))).toEqual(Array(3).fill({ pdfMargins: ['acmereport', 'page#of#'] }));
  expect([taskLayout(null), taskLayout({ pdfMargins: 'x' }), taskLayout({ pdfMargins: [1] })]).toEqual([null, null, null]);
  // a retry of the same task finds it is no longer the whole file
  expect(await splitTask(db, task, [[0, 12], [12, 24], [24, 30]])).toBeNull();
  expect(await db.parseTask.count({ where: { documentId: ctx.documentId } })).toBe(3);
  await db.parseTask.update({ where: { id: ctx.taskId }, data: { state: 'DONE' } });
  expect(await taskCounts(db, ctx.documentId, ctx.generation)).toEqual({ done: 1, total: 3 });
  expect(WHOLE_FILE).toBe(100_000_000);
});

test('a superseded document is not split', async () => {
  const ctx = await runningDocument();
  await db.document.update({ where: { id: ctx.documentId }, data: { generation: 4, run: 'CANCEL' } });
  expect(await splitTask(db, { id: ctx.taskId, documentId: ctx.documentId, generation: ctx.generation }, [[0, 12], [12, 20]])).toBeNull();
  expect(await db.parseTask.findUnique({ where: { id: ctx.taskId } })).toMatchObject({ fromPage: 0, toPage: 100_000_000 });
});

describe('a stop, re-parse or reset racing a batch', () => {
  const draft = (content: string): ChunkDraft => ({ content, tokenCount: 2, positions: [], docType: '' });
  // what the api does (parse.service stop): the document row first, then the chunks, in one transaction
  const stop = (documentId: string) =>
    db.$transaction([
      db.document.update({ where: { id: documentId }, data: { generation: { increment: 1 }, run: 'CANCEL' } }),
      db.chunk.deleteMany({ where: { documentId } }),
    ]);

  test('after the document moved on, a batch writes nothing and says so', async () => {
    const ctx = await runningDocument();
    await stop(ctx.documentId);
    expect(await writeChunks(hot, storage, ctx, [draft('late')], 0)).toBeNull();
    expect(await db.chunk.count({ where: { documentId: ctx.documentId } })).toBe(0);
  });

  test('a stop that starts while a batch holds the document waits for it, then deletes its rows', async () => {
    const ctx = await runningDocument();
    // hold the document row the way a batch does, stop meanwhile, then let the batch's rows commit
    let pending: Promise<unknown> | undefined;
    let stopDoneEarly = false;
    await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM document WHERE id = ${ctx.documentId} FOR SHARE`;
      pending = stop(ctx.documentId).then(() => (stopDoneEarly = true));
      await new Promise((r) => setTimeout(r, 300));
      await tx.$executeRaw`INSERT INTO chunk (id, document_id, dataset_id, tenant_id, generation, task_id, ord, content, content_tokens, important_keywords, questions, token_count, positions, doc_type, image_id, mom_id, available, fields, updated_at)
        VALUES (${newId()}, ${ctx.documentId}, ${ctx.datasetId}, ${ctx.tenantId}, ${ctx.generation}, ${ctx.taskId}, 0, 'held', 'held', '{}', '{}', 1, '[]'::jsonb, '', '', '', true, '{}'::jsonb, now())`;
    });
    // the stop could not finish while the row was held
    expect(stopDoneEarly).toBe(false);
    await pending;
    expect(await db.chunk.count({ where: { documentId: ctx.documentId } })).toBe(0);
    expect(await writeChunks(hot, storage, ctx, [draft('after')], 0)).toBeNull();
  });

  test('batches and stops run side by side leave no chunk behind', async () => {
    for (let round = 0; round < 5; round++) {
      const ctx = await runningDocument();
      const writes = Array.from({ length: 8 }, (_, i) => writeChunks(hot, storage, ctx, [draft(`r${round} b${i} x`), draft(`r${round} b${i} y`)], i * 2));
      await new Promise((r) => setTimeout(r, round * 3));
      await stop(ctx.documentId);
      await Promise.all(writes);
      expect(await db.chunk.count({ where: { documentId: ctx.documentId } })).toBe(0);
    }
  });
});
