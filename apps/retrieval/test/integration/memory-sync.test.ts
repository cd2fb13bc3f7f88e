import { createTestDatabase, deferred, settlesWithin, type TestDatabase } from '@ragnest/testkit';
import { HotReads, chunkIdFor, createPrisma, feedHead, newId, readFeed, recordIndexRemoval, restampDocument, stampIndexed, type PrismaClient } from '@ragnest/db';
import { vectorToBytes } from '@ragnest/embedding';
import type { AppConfig } from '@ragnest/config';
import { MemorySearchIndex } from '@ragnest/search';
import { MemoryIndexSync } from '../../src/index/memory-sync.service.js';

let tdb: TestDatabase;
let db: PrismaClient;
let hot: HotReads;
const replicas: MemoryIndexSync[] = [];
const config = { search: { engine: 'memory', syncIntervalMs: 60_000 } } as unknown as AppConfig;

beforeAll(async () => {
  tdb = await createTestDatabase('memsync');
  db = createPrisma(tdb.url, { poolSize: 6 });
  hot = new HotReads(tdb.url);
});
afterAll(async () => {
  for (const r of replicas) await r.beforeApplicationShutdown();
  await db?.$disconnect();
  await hot?.close();
  await tdb?.drop();
});

const DIM = 8;
const axis = (i: number) => {
  const v = new Float32Array(DIM);
  v[i] = 1;
  return v;
};

async function scope() {
  const tenantId = newId();
  const datasetId = newId();
  const documentId = newId();
  await db.tenant.create({ data: { id: tenantId, name: 't' } });
  await db.dataset.create({ data: { id: datasetId, tenantId, name: 'd', nameKey: `d-${datasetId}`, embeddingModel: 'm@B', createdBy: tenantId, parserConfig: {} } });
  await db.document.create({
    data: {
      id: documentId, datasetId, tenantId, name: 'Manual.txt', location: `${datasetId}/${documentId}`, size: 10n, type: 'doc', suffix: 'txt',
      mimeType: 'text/plain', chunkMethod: 'naive', parserConfig: {}, createdBy: tenantId, run: 'RUNNING', generation: 1,
    },
  });
  /** writes a chunk row with a vector and stamps it on the feed, as the index writer does */
  const index = async (content: string, vector: Float32Array) => {
    const id = chunkIdFor(content, documentId);
    await db.chunk.upsert({
      where: { id },
      create: {
        id, documentId, datasetId, tenantId, generation: 1, ord: 0, content, contentTokens: content, importantKeywords: [], questions: [], tokenCount: 1,
        vec: { create: { model: 'm@B', vector: vectorToBytes(vector) as Uint8Array<ArrayBuffer> } },
      },
      update: {},
    });
    await db.$transaction((tx) => stampIndexed(tx, [id], true));
    return id;
  };
  return { tenantId, datasetId, documentId, index };
}

async function replica(): Promise<{ sync: MemoryIndexSync; index: MemorySearchIndex }> {
  const index = new MemorySearchIndex();
  const sync = new MemoryIndexSync(hot, index, config);
  await sync.onApplicationBootstrap();
  replicas.push(sync);
  await expect(sync.health()).rejects.toThrow(/loading/);
  await sync.whenLoaded();
  await sync.health();
  return { sync, index };
}

const search = (index: MemorySearchIndex, s: { tenantId: string; datasetId: string }, tokens: string[], vector: Float32Array | null = null) =>
  index.search({ filter: { tenantId: s.tenantId, datasetIds: [s.datasetId] }, queryTokens: tokens, queryVector: vector, textLimit: 10, vectorLimit: 10 });

test('a replica started later loads everything indexed; both follow later writes and removals in order', async () => {
  const s = await scope();
  const early = await s.index('alpha bravo', axis(0));
  const a = await replica();
  expect((await search(a.index, s, ['alpha'])).map((c) => c.id)).toEqual([early]);
  // the title is part of the token bag, as in the index writer
  expect((await search(a.index, s, ['manual'])).map((c) => c.id)).toEqual([early]);

  const b = await replica();
  const late = await s.index('charlie delta', axis(1));
  await a.sync.ensure();
  await b.sync.ensure();
  for (const r of [a, b]) expect((await search(r.index, s, [], axis(1)))[0]!.id).toBe(late);

  // removal of the document, then one chunk of the same document written again: order matters
  await db.$transaction((tx) => recordIndexRemoval(tx, { tenantId: s.tenantId, documentId: s.documentId }));
  await db.$transaction((tx) => stampIndexed(tx, [late], true));
  await b.sync.ensure();
  expect((await search(b.index, s, ['alpha', 'charlie'])).map((c) => c.id)).toEqual([late]);
  // a replica that slept through all of it applies the same sequence
  await a.sync.ensure();
  expect((await search(a.index, s, ['alpha', 'charlie'])).map((c) => c.id)).toEqual([late]);

  // cleared chunks leave; a dataset removal empties the partition
  await db.$transaction((tx) => stampIndexed(tx, [late], false));
  await a.sync.ensure();
  expect(await search(a.index, s, ['charlie'])).toEqual([]);
  await s.index('echo', axis(2));
  await db.$transaction((tx) => recordIndexRemoval(tx, { tenantId: s.tenantId, datasetId: s.datasetId }));
  await a.sync.ensure();
  expect(await a.index.count({ tenantId: s.tenantId, datasetIds: [s.datasetId] })).toBe(0);
});

test('ensure(head) waits for a position read before the search; the feed never skips a slow writer', async () => {
  const s = await scope();
  const r = await replica();
  // a writer holds the feed lock with a position taken but not committed
  const held = deferred();
  const id = chunkIdFor('slow writer', s.documentId);
  await db.chunk.create({
    data: {
      id, documentId: s.documentId, datasetId: s.datasetId, tenantId: s.tenantId, generation: 1, ord: 0, content: 'slow writer',
      contentTokens: 'slow writer', importantKeywords: [], questions: [], tokenCount: 2,
      vec: { create: { model: 'm@B', vector: vectorToBytes(axis(3)) as Uint8Array<ArrayBuffer> } },
    },
  });
  // the reader's position: everything so far (an idle poll from it reads nothing)
  const before = await feedHead(db);
  expect(await readFeed(hot, before, 10_000)).toEqual({ head: before, chunks: [], removals: [] });
  const writer = db.$transaction(async (tx) => {
    await stampIndexed(tx, [id], true);
    await held.promise;
  }, { timeout: 30_000 });
  await new Promise((res) => setTimeout(res, 200));
  // a second writer and a reader queue behind it: the reader cannot read past the uncommitted position
  const fastWrite = s.index('fast writer', axis(4));
  // (from `before`: the position the writer took is past it although not committed, so the reader takes the lock)
  const reading = readFeed(hot, before, 10_000);
  await new Promise((res) => setTimeout(res, 200));
  held.resolve();
  await writer;
  const fast = await fastWrite;
  const page = await reading;
  // the position taken first is in the page (the second writer may or may not have been granted the lock before the reader)
  expect(page.chunks.map((c) => c.id)).toContain(id);
  await r.sync.ensure();
  expect((await search(r.index, s, ['writer'])).map((c) => c.id).sort()).toEqual([id, fast].sort());
});

test("a document's status and name reach every replica through the feed: disabled chunks are hidden, hits carry the new name", async () => {
  const s = await scope();
  const id = await s.index('golf hotel', axis(5));
  const r = await replica();
  const first = await search(r.index, s, ['golf'], axis(5));
  expect(first.map((c) => [c.id, c.documentName])).toEqual([[id, 'Manual.txt']]);

  const change = (data: { status?: string; name?: string }) =>
    db.$transaction(async (tx) => {
      await tx.document.update({ where: { id: s.documentId }, data });
      return restampDocument(tx, s.documentId);
    });
  expect(await change({ status: '0' })).toEqual([id]);
  await r.sync.ensure();
  // neither leg returns a hidden chunk
  expect(await search(r.index, s, ['golf'], axis(5))).toEqual([]);

  await change({ status: '1', name: 'Handbook.txt' });
  await r.sync.ensure();
  const after = await search(r.index, s, ['handbook'], axis(5));
  expect(after.map((c) => [c.id, c.documentName])).toEqual([[id, 'Handbook.txt']]);
  // the old title no longer matches
  expect(await search(r.index, s, ['manual'])).toEqual([]);
});

test('a reload is built aside and swapped in: searches never see an empty or half-filled index meanwhile', async () => {
  const s = await scope();
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) ids.push(await s.index(`india juliet ${i}`, axis(6)));
  const r = await replica();
  const find = async () => (await search(r.index, s, ['juliet'])).length;
  expect(await find()).toBe(10);
  const added = await s.index('juliet kilo', axis(7));
  let done = false;
  const reloading = r.sync.reload().then(() => (done = true));
  const seen: number[] = [];
  // search between every step of the reload (each await inside it yields to us)
  while (!done) {
    seen.push(await find());
    await new Promise((res) => setImmediate(res));
  }
  await reloading;
  expect(seen.length).toBeGreaterThan(1);
  expect(seen.every((n) => n === 10)).toBe(true);
  await r.sync.ensure();
  expect((await search(r.index, s, ['kilo'])).map((c) => c.id)).toEqual([added]);
  expect(await r.index.count({ tenantId: s.tenantId, datasetIds: [s.datasetId] })).toBe(31);
});

test('shutdown waits for a feed poll in progress before the database pools close', async () => {
  const { sync } = await replica();
  const inner = sync as unknown as { drain: () => Promise<void>; poll: () => Promise<void> };
  // a poll held inside its feed read, where a closed pool would fail it
  const hold = deferred();
  inner.drain = () => hold.promise;
  const polling = inner.poll();
  const stopping = sync.beforeApplicationShutdown();
  expect(await settlesWithin(stopping, 100)).toBe(false);
  hold.resolve();
  await stopping;
  await polling;
});

test('a feed poll during the first load waits for it: the feed is not applied from position 0 beside the load', async () => {
  const s = await scope();
  for (let i = 0; i < 5; i++) await s.index(`row ${i} of the first load`, axis(i % DIM));
  // the load pages slowly; every statement is counted
  const used: string[] = [];
  const slow = {
    rows: async (st: { name: string }, values: unknown[]) => {
      used.push(st.name);
      if (st.name === 'index_load_page') await new Promise((r) => setTimeout(r, 150));
      return hot.rows(st as never, values);
    },
    run: (st: never, values: unknown[]) => hot.run(st, values),
    transaction: (fn: never) => hot.transaction(fn),
  } as unknown as HotReads;
  const index = new MemorySearchIndex();
  const sync = new MemoryIndexSync(slow, index, { search: { engine: 'memory', syncIntervalMs: 20 } } as unknown as AppConfig);
  replicas.push(sync);
  await sync.onApplicationBootstrap();
  await sync.whenLoaded();
  // the feed's rows are only ever read by a poll (index_load_ids); nothing changed since the load began
  expect(used.filter((n) => n === 'index_load_ids')).toEqual([]);
  expect(await index.count({ tenantId: s.tenantId, datasetIds: [s.datasetId] })).toBe(5);
  // once loaded, the polls follow the feed
  const later = await s.index('written after the load', axis(7));
  for (let i = 0; i < 100 && !(await search(index, s, ['after'])).length; i++) await new Promise((r) => setTimeout(r, 20));
  expect((await search(index, s, ['after'])).map((c) => c.id)).toEqual([later]);
  expect(used).toContain('index_load_ids');
});
