import { createTestDatabase, type TestDatabase } from '@ragnest/testkit';
import { createPrisma, failDocument, newId, reportProgress, tryFinishDocument, chunkIdFor, isUuid1Hex, type PrismaClient } from '../../src/index.js';

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
