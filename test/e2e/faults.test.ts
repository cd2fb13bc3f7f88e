/**
 * Faults: kill -9 of each worker mid-document, Redis losing every key, two retrieval replicas sharing the
 * query load, corrupt files, upload limits. Documents must end DONE (or FAIL with a reason) with no
 * missing and no duplicated chunks.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { RagflowHttp, REDIS_URL, freePort, startStack, type Stack, type StackProcess } from '@ragnest/testkit';

let stack: Stack;
let api: RagflowHttp;
let datasetId: string;
const metricsPorts: number[] = [];

/** ~`paragraphs` distinct paragraphs: each becomes its own chunk with chunk_token_num 16 */
function corpus(tag: string, paragraphs: number): string {
  const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(' ');
  const out: string[] = [];
  for (let i = 0; i < paragraphs; i++) {
    out.push(`${tag} paragraph ${i}: ${words[i % 16]} ${words[(i * 7) % 16]} ${words[(i * 3) % 16]} record number ${i * 31} of the ${tag} fault corpus.`);
  }
  return out.join('\n');
}

async function chunkRows(documentId: string): Promise<{ total: number; distinct: number }> {
  const c = new pg.Client({ connectionString: stack.db.url });
  await c.connect();
  try {
    const r = await c.query('SELECT count(*)::int AS total, count(DISTINCT content)::int AS distinct FROM chunk WHERE document_id = $1', [documentId]);
    return r.rows[0];
  } finally {
    await c.end();
  }
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${stack.logs().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function uploadAndParse(name: string, content: string): Promise<string> {
  const up = await api.upload(datasetId, [{ name, content }]);
  const id = up.json.data[0].id as string;
  await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: [id] });
  return id;
}

async function docState(id: string) {
  return (await api.get(`/api/v1/datasets/${datasetId}/documents?id=${id}`)).json.data.docs[0];
}

beforeAll(async () => {
  metricsPorts.push(await freePort(), await freePort());
  stack = await startStack({
    label: 'faults',
    env: { UPLOAD_MAX_FILE_BYTES: String(2 * 1024 * 1024), INGEST_CONCURRENCY: '1' },
    // two retrieval replicas, each with its own metrics port
    replicas: { retrieval: 0 },
    extra: metricsPorts.map((port) => ({ app: 'retrieval' as const, env: { METRICS_PORT: String(port) } })),
  });
  api = new RagflowHttp(stack.baseUrl, stack.apiKey);
  const ds = await api.post('/api/v1/datasets', { name: 'faults', parser_config: { chunk_token_num: 16 } });
  datasetId = ds.json.data.id;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const proc = (app: string) => stack.processes.find((p) => p.app === app && p.child.exitCode === null && p.child.signalCode === null) as StackProcess;

test.each([
  ['ingest-worker', 'parsing'],
  ['embedding', 'embedding'],
  ['retrieval', 'indexing'],
] as const)('kill -9 of the %s in the middle of a document: DONE, no missing or duplicated chunks', async (app) => {
  const paragraphs = 3000;
  const id = await uploadAndParse(`kill-${app}.txt`, corpus(app, paragraphs));
  // wait until this worker has work in hand for the document
  await waitFor(async () => {
    const rows = await chunkRows(id);
    return rows.total > 100;
  }, 60_000, 'chunks to appear');
  const victim = proc(app);
  await stack.kill(victim, 'SIGKILL');
  if (app !== 'retrieval') stack.start(app); // retrieval still has a second replica
  await waitFor(async () => ['DONE', 'FAIL'].includes((await docState(id)).run), 90_000, 'document to finish');
  const doc = await docState(id);
  expect(doc.run).toBe('DONE');
  expect(doc.progress).toBe(1);
  const rows = await chunkRows(id);
  expect(rows.total).toBe(paragraphs);
  expect(rows.distinct).toBe(paragraphs);
  expect(doc.chunk_count).toBe(paragraphs);
  // every chunk is searchable: the last paragraph is found
  const r = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], document_ids: [id], question: `${app} paragraph ${paragraphs - 1}` });
  expect(r.json.data.chunks.some((c: { content: string }) => c.content.includes(`paragraph ${paragraphs - 1}:`))).toBe(true);
  if (app === 'retrieval') stack.start('retrieval', { METRICS_PORT: String(metricsPorts[0]) });
});

test('Redis loses every key mid-document: the reconciler re-creates the work from Postgres', async () => {
  const paragraphs = 2000;
  const id = await uploadAndParse('redis-loss.txt', corpus('redis', paragraphs));
  await waitFor(async () => (await chunkRows(id)).total > 50, 60_000, 'chunks to appear');
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${stack.env.REDIS_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  await waitFor(async () => ['DONE', 'FAIL'].includes((await docState(id)).run), 120_000, 'document to finish after Redis loss');
  const doc = await docState(id);
  expect(doc.run).toBe('DONE');
  expect(doc.chunk_count).toBe(paragraphs);
  const rows = await chunkRows(id);
  expect(rows).toEqual({ total: paragraphs, distinct: paragraphs });
});

test('two retrieval replicas: each query is answered once, by one of them', async () => {
  await waitFor(async () => stack.processes.filter((p) => p.app === 'retrieval' && p.child.exitCode === null && p.child.signalCode === null).length === 2);
  const count = async () => {
    let total = 0;
    const per: number[] = [];
    for (const port of metricsPorts) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const m = /^ragnest_search_duration_seconds_count (\d+)/m.exec(text);
      per.push(Number(m?.[1] ?? 0));
      total += Number(m?.[1] ?? 0);
    }
    return { total, per };
  };
  await waitFor(async () => {
    try {
      await count();
      return true;
    } catch {
      return false;
    }
  }, 30_000, 'metrics ports');
  const before = await count();
  // Waves of 20 concurrent queries until both replicas have answered some: a replica busy for a moment (applying a
  // large feed page on a loaded machine) can let the other take a whole wave, which says nothing about balancing.
  let sent = 0;
  let after = before;
  for (let wave = 0; wave < 10; wave++) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: `paragraph ${wave * 20 + i}` })));
    sent += 20;
    after = await count();
    if (after.per.every((n, i) => n > before.per[i]!)) break;
  }
  // every query answered exactly once, and by both replicas between them
  expect(after.total - before.total).toBe(sent);
  expect(after.per[0]! - before.per[0]!).toBeGreaterThan(0);
  expect(after.per[1]! - before.per[1]!).toBeGreaterThan(0);
});

test('corrupt and empty files end FAIL with a precise message; a good file in the same batch is DONE', async () => {
  const up = await api.upload(datasetId, [
    { name: 'broken.pdf', content: Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\ngarbage') },
    { name: 'empty.txt', content: '' },
    { name: 'bad.json', content: '{"a": [1, 2,' },
    { name: 'good.txt', content: 'A perfectly fine document about lighthouses.' },
  ]);
  expect(up.json.code).toBe(0);
  const ids = up.json.data.map((d: { id: string }) => d.id);
  await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: ids });
  const docs = await api.waitParsed(datasetId, ids, 60_000);
  const byName = Object.fromEntries(docs.map((d) => [d.name, d]));
  expect(byName['good.txt'].run).toBe('DONE');
  for (const [name, msg] of [
    ['broken.pdf', /PDF/i],
    ['empty.txt', /File is empty/],
    ['bad.json', /JSON/],
  ] as const) {
    expect({ name, run: byName[name].run, progress: byName[name].progress }).toEqual({ name, run: 'FAIL', progress: -1 });
    expect(byName[name].progress_msg).toMatch(msg);
  }
});

test('upload limit is enforced while streaming and nothing is kept', async () => {
  const before = (await api.get(`/api/v1/datasets/${datasetId}/documents`)).json.data.total;
  const big = Buffer.alloc(3 * 1024 * 1024, 'a');
  const r = await api.upload(datasetId, [{ name: 'small.txt', content: 'ok' }, { name: 'big.txt', content: big }]);
  expect(r.json.code).toBe(101);
  expect(r.json.message).toMatch(/big\.txt: file exceeds the upload limit/);
  expect((await api.get(`/api/v1/datasets/${datasetId}/documents`)).json.data.total).toBe(before);
});
