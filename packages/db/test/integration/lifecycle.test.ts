import { createTestDatabase, type TestDatabase } from '@ragnest/testkit';
import {
  createPrisma, failDocument, newId, reportProgress, tryFinishDocument, chunkIdFor, isUuid1Hex, stampIndexedWithVectors, lockDocument, IndexProgress, feedHead,
  type PrismaClient,
} from '../../src/index.js';

let tdb: TestDatabase;
let db: PrismaClient;

beforeAll(async () => {
  tdb = await createTestDatabase('lifecycle');
  db = createPrisma(tdb.url, { poolSize: 4 });
});
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

/** a tenant, dataset and RUNNING document with one parse task, isolated per test */
async function runningDocument(generation = 1) {
  const tenantId = newId();
  const datasetId = newId();
  const documentId = newId();
  await db.tenant.create({ data: { id: tenantId, name: 't' } });
  await db.dataset.create({
    data: { id: datasetId, tenantId, name: 'd', nameKey: `d-${datasetId}`, embeddingModel: 'm@B', createdBy: tenantId, parserConfig: {} },
  });
  await db.document.create({
    data: {
      id: documentId, datasetId, tenantId, name: 'a.txt', location: `${datasetId}/${documentId}`, size: 10n, type: 'doc', suffix: 'txt',
      mimeType: 'text/plain', chunkMethod: 'naive', parserConfig: {}, createdBy: tenantId, run: 'RUNNING', generation,
    },
  });
  const taskId = newId();
  await db.parseTask.create({ data: { id: taskId, documentId, generation } });
  const chunk = (content: string, indexed: boolean, tokenCount = 5) =>
    db.chunk.create({
      data: { id: chunkIdFor(content, documentId), documentId, datasetId, tenantId, generation, ord: 0, content, contentTokens: content, importantKeywords: [], questions: [], tokenCount, indexed },
    });
  return { documentId, taskId, chunk };
}

test('ids: uuid1 hex and deterministic chunk ids', () => {
  expect(isUuid1Hex(newId())).toBe(true);
  expect(isUuid1Hex('0'.repeat(32))).toBe(false);
  expect(chunkIdFor('abc', 'doc')).toBe(chunkIdFor('abc', 'doc'));
  expect(chunkIdFor('abc', 'doc')).toMatch(/^[0-9a-f]{16}$/);
  expect(chunkIdFor('abc', 'doc2')).not.toBe(chunkIdFor('abc', 'doc'));
});

test('DONE only when every task is done and every chunk indexed; counts come from the chunk rows', async () => {
  const { documentId, taskId, chunk } = await runningDocument();
  await chunk('one', true, 3);
  await chunk('two', false, 4);
  expect(await tryFinishDocument(db, documentId, 1)).toBe(false); // task still QUEUED
  await db.parseTask.update({ where: { id: taskId }, data: { state: 'DONE' } });
  expect(await tryFinishDocument(db, documentId, 1)).toBe(false); // one chunk not indexed
  await db.chunk.updateMany({ where: { documentId }, data: { indexed: true } });
  expect(await tryFinishDocument(db, documentId, 1)).toBe(true);
  expect(await tryFinishDocument(db, documentId, 1)).toBe(false); // only one caller makes the transition
  const doc = await db.document.findUniqueOrThrow({ where: { id: documentId } });
  expect({ run: doc.run, progress: doc.progress, chunks: doc.chunkCount, tokens: doc.tokenCount }).toEqual({ run: 'DONE', progress: 1, chunks: 2, tokens: 7 });
});

test('a stale generation can neither finish, fail nor move the progress of a document', async () => {
  const { documentId, taskId } = await runningDocument(3);
  await db.parseTask.update({ where: { id: taskId }, data: { state: 'DONE' } });
  expect(await tryFinishDocument(db, documentId, 2)).toBe(false);
  expect(await failDocument(db, documentId, 2, 'old job')).toBe(false);
  await reportProgress(db, documentId, 2, 0.7, 'old job says hi');
  const doc = await db.document.findUniqueOrThrow({ where: { id: documentId } });
  expect(doc.run).toBe('RUNNING');
  expect(doc.progress).toBe(0);
  expect(doc.progressMsg).toBe('');
});

test('progress only rises, stays below 1 until DONE, and messages accumulate', async () => {
  const { documentId } = await runningDocument();
  await reportProgress(db, documentId, 1, 0.4, 'parsing');
  await reportProgress(db, documentId, 1, 0.2, 'late report');
  await reportProgress(db, documentId, 1, 1.5, null as never);
  const doc = await db.document.findUniqueOrThrow({ where: { id: documentId } });
  expect(doc.progress).toBe(0.99);
  expect(doc.progressMsg.split('\n').map((l) => l.slice(9))).toEqual(['parsing', 'late report']);
});

test('failing a document marks it FAIL with -1 and the reason, and fails its open tasks', async () => {
  const { documentId, taskId } = await runningDocument();
  expect(await failDocument(db, documentId, 1, 'Corrupt PDF: bad xref')).toBe(true);
  const doc = await db.document.findUniqueOrThrow({ where: { id: documentId } });
  expect({ run: doc.run, progress: doc.progress }).toEqual({ run: 'FAIL', progress: -1 });
  expect(doc.progressMsg).toMatch(/\[ERROR\] Corrupt PDF: bad xref$/);
  expect((await db.parseTask.findUniqueOrThrow({ where: { id: taskId } })).state).toBe('FAIL');
});

test('vectors and the feed stamp in one statement: new vectors stored, null keeps the stored one, other documents untouched', async () => {
  const a = await runningDocument();
  const b = await runningDocument();
  const one = await a.chunk('one', false);
  const two = await a.chunk('two', false);
  const other = await b.chunk('other', false);
  await db.chunk.update({ where: { id: two.id }, data: { vector: new Uint8Array([9, 9, 9, 9]), embeddingModel: 'm@B' } });
  const before = await feedHead(db);
  const n = await db.$transaction(async (tx) => {
    await lockDocument(tx, a.documentId);
    return stampIndexedWithVectors(tx, a.documentId, 'm@B', [
      { id: one.id, vectorBase64: Buffer.from([1, 2, 3, 4]).toString('base64') },
      { id: two.id, vectorBase64: null },
      { id: other.id, vectorBase64: Buffer.from([5, 5, 5, 5]).toString('base64') }, // another document's chunk
    ]);
  });
  expect(n).toBe(2);
  const rows = await db.chunk.findMany({ where: { id: { in: [one.id, two.id, other.id] } }, select: { id: true, vector: true, indexed: true, indexSeq: true, embeddingModel: true } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  expect([...byId.get(one.id)!.vector!]).toEqual([1, 2, 3, 4]);
  expect([...byId.get(two.id)!.vector!]).toEqual([9, 9, 9, 9]);
  for (const id of [one.id, two.id]) {
    expect(byId.get(id)!.indexed).toBe(true);
    expect(byId.get(id)!.indexSeq! > before).toBe(true);
  }
  expect(byId.get(other.id)).toMatchObject({ indexed: false, vector: null });
  expect(await feedHead(db)).toBe(before + 2n);
});

test('IndexProgress finishes the document after its last batch, and reports progress before', async () => {
  const { documentId, taskId, chunk } = await runningDocument();
  await chunk('one', true);
  await chunk('two', false);
  await db.parseTask.update({ where: { id: taskId }, data: { state: 'DONE' } });
  const progress = new IndexProgress(db);
  await progress.afterIndexed(documentId, 1);
  let doc = await db.document.findUniqueOrThrow({ where: { id: documentId } });
  expect(doc.run).toBe('RUNNING');
  expect(doc.progress).toBeCloseTo(0.75, 5);
  expect(doc.progressMsg).toContain('Indexed 1/2 chunks.');
  await db.chunk.updateMany({ where: { documentId }, data: { indexed: true } });
  await progress.afterIndexed(documentId, 1);
  doc = await db.document.findUniqueOrThrow({ where: { id: documentId } });
  expect({ run: doc.run, progress: doc.progress }).toEqual({ run: 'DONE', progress: 1 });
});
