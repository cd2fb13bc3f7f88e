/**
 * Seed 001 sections 3–5 (datasets, documents, chunks, retrieval) against the booted apps, through HTTP,
 * the way the ragflow-sdk calls them.
 */
import { RagflowHttp, startStack, type Stack } from '@ragnest/testkit';

let stack: Stack;
let api: RagflowHttp;

beforeAll(async () => {
  stack = await startStack({ label: 'dataplane' });
  api = new RagflowHttp(stack.baseUrl, stack.apiKey);
});
afterAll(async () => {
  await stack?.stop();
});

const ENGLISH = [
  'RagNest parses documents into chunks and indexes them for hybrid retrieval.',
  '',
  'The quick brown fox jumps over the lazy dog. Foxes are small omnivorous mammals.',
  '',
  'Elasticsearch and LanceDB can both serve BM25 full-text search and vector kNN search.',
].join('\n');
const CHINESE = '# 知识库\n\n知识库用于存储文档。用户上传文档以后，系统会解析、切分并建立索引。\n\n## 检索\n\n混合检索结合关键词检索和向量检索，提高召回率。';

describe('auth', () => {
  test('missing header: classic body with code 0', async () => {
    const res = await fetch(`${stack.baseUrl}/api/v1/datasets`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: 0, message: "`Authorization` can't be empty", data: false });
  });
  test('invalid key: code 109', async () => {
    const bad = new RagflowHttp(stack.baseUrl, 'ragflow-nope');
    const r = await bad.get('/api/v1/datasets');
    expect(r.json).toEqual({ code: 109, message: 'Authentication error: API key is invalid!', data: false });
  });
  test('unknown route: RAGFlow 404 body', async () => {
    const r = await api.get('/api/v1/nope');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ code: 404, message: 'Not Found: /api/v1/nope', data: null, error: 'Not Found' });
  });
});

describe('datasets, documents, chunks, retrieval (seed 001 §3–§5)', () => {
  let datasetId = '';
  const docIds: Record<string, string> = {};

  test('3.1 create dataset kb_1, duplicate name is renamed', async () => {
    // exactly what ragflow-sdk 0.24's create_dataset sends: every key, nulls included
    const r = await api.post('/api/v1/datasets', {
      name: 'kb_1', avatar: null, description: null, embedding_model: null, permission: 'me', chunk_method: 'naive', parser_config: null,
    });
    expect(r.status).toBe(200); // RAGFlow answers 200 to POST, not 201
    expect(r.json.code).toBe(0);
    expect(r.json).not.toHaveProperty('message');
    expect(r.json.data.id).toMatch(/^[0-9a-f]{12}1[0-9a-f]{19}$/);
    expect(r.json.data).toMatchObject({ name: 'kb_1', chunk_method: 'naive', permission: 'me', document_count: 0, chunk_count: 0 });
    expect(r.json.data.parser_config).toMatchObject({ chunk_token_num: 512, delimiter: '\n', layout_recognize: 'DeepDOC' });
    expect(r.json.data.embedding_model).toBe('ragnest-hashing-v1@Builtin');
    datasetId = r.json.data.id;
    const dup = await api.post('/api/v1/datasets', { name: 'KB_1' });
    expect(dup.json.data.name).toBe('KB_1(1)');
    await api.del('/api/v1/datasets', { ids: [dup.json.data.id] });
  });

  test('3.x dataset validation errors use pydantic wording', async () => {
    const r = await api.post('/api/v1/datasets', { name: 'x'.repeat(129) });
    expect(r.json.code).toBe(101);
    expect(r.json.message).toContain('String should have at most 128 characters');
    const extra = await api.post('/api/v1/datasets', { name: 'ok', id: 'abc' });
    expect(extra.json.message).toContain('Extra inputs are not permitted');
    const perm = await api.post('/api/v1/datasets', { name: 'ok', permission: 'all' });
    expect(perm.json.message).toContain("Input should be 'me' or 'team'");
    const ct = await api.req('POST', '/api/v1/datasets', undefined, { 'Content-Type': 'text/plain' });
    expect(ct.json.message).toContain('Unsupported content type: Expected application/json');
  });

  test('3.2 list datasets by name', async () => {
    const r = await api.get('/api/v1/datasets?name=kb_1');
    expect(r.json.code).toBe(0);
    expect(r.json.data).toHaveLength(1);
    expect(r.json.data[0].id).toBe(datasetId);
    expect(r.json.total_datasets).toBe(1);
    const missing = await api.get('/api/v1/datasets?name=nope');
    expect(missing.json.code).toBe(108);
  });

  test('3.4 update dataset chunk_method, returns the dataset', async () => {
    const r = await api.put(`/api/v1/datasets/${datasetId}`, { chunk_method: 'manual' });
    expect(r.json.code).toBe(0);
    expect(r.json.data.chunk_method).toBe('manual');
    const back = await api.put(`/api/v1/datasets/${datasetId}`, { chunk_method: 'naive' });
    expect(back.json.data.chunk_method).toBe('naive');
    const empty = await api.put(`/api/v1/datasets/${datasetId}`, {});
    expect(empty.json).toEqual({ code: 101, message: 'No properties were modified' });
  });

  test('4.1 upload documents (several file parts in one request)', async () => {
    const r = await api.upload(datasetId, [
      { name: '1.txt', content: ENGLISH },
      { name: '2.md', content: CHINESE },
      { name: '3.html', content: '<html><body><nav>menu</nav><article><h1>Title</h1><p>Hybrid retrieval works in RagNest with a fox.</p></article></body></html>' },
      { name: '4.csv', content: 'name,role\nAlice,engineer\nBob,designer\n' },
      { name: '5.json', content: JSON.stringify({ product: 'RagNest', features: ['parsing', 'retrieval'] }) },
    ]);
    expect(r.json.code).toBe(0);
    expect(r.json.data).toHaveLength(5);
    for (const d of r.json.data) {
      expect(d.run).toBe('UNSTART');
      expect(d.dataset_id).toBe(datasetId);
      docIds[d.name] = d.id;
    }
    const again = await api.upload(datasetId, [{ name: '1.txt', content: 'other' }]);
    expect(again.json.data[0].name).toBe('1(1).txt');
    await api.del(`/api/v1/datasets/${datasetId}/documents`, { ids: [again.json.data[0].id] });
  });

  test('4.x unsupported file type is refused, nothing is kept', async () => {
    const before = await api.get(`/api/v1/datasets/${datasetId}/documents`);
    const r = await api.upload(datasetId, [
      { name: 'ok.txt', content: 'fine' },
      { name: 'prog.exe', content: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x01]) },
    ]);
    expect(r.json.code).toBe(500);
    expect(r.json.message).toBe('prog.exe: This type of file has not been supported yet!');
    const after = await api.get(`/api/v1/datasets/${datasetId}/documents`);
    expect(after.json.data.total).toBe(before.json.data.total);
  });

  test('4.2 update document parser_config', async () => {
    const r = await api.put(`/api/v1/datasets/${datasetId}/documents/${docIds['1.txt']}`, { parser_config: { chunk_token_count: 256 } });
    expect(r.json.code).toBe(0);
    expect(r.json.data.parser_config.chunk_token_count).toBe(256);
  });

  test('4.3 download returns the original bytes as an attachment', async () => {
    const res = await fetch(`${stack.baseUrl}/api/v1/datasets/${datasetId}/documents/${docIds['2.md']}`, {
      headers: { Authorization: `Bearer ${stack.apiKey}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(res.headers.get('content-type')).toMatch(/markdown|text\/plain/);
    expect(Buffer.from(await res.arrayBuffer()).toString('utf8')).toBe(CHINESE);
  });

  test('4.5 parse documents: UNSTART → RUNNING → DONE with counts', async () => {
    const ids = Object.values(docIds);
    const r = await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: ids });
    expect(r.json).toEqual({ code: 0 });
    const docs = await api.waitParsed(datasetId, ids);
    for (const d of docs) {
      expect({ name: d.name, run: d.run, progress: d.progress }).toEqual({ name: d.name, run: 'DONE', progress: 1 });
      expect(d.chunk_count).toBeGreaterThan(0);
      expect(d.token_count).toBeGreaterThan(0);
      expect(d.progress_msg).toMatch(/Indexing finished/);
    }
    const ds = await api.get(`/api/v1/datasets?id=${datasetId}`);
    expect(ds.json.data[0].chunk_count).toBe(docs.reduce((s, d) => s + d.chunk_count, 0));
    expect(ds.json.data[0].document_count).toBe(5);
  });

  test('5.5 retrieval finds parsed content in both languages', async () => {
    const en = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: 'quick brown fox' });
    expect(en.status).toBe(200);
    expect(en.json.code).toBe(0);
    expect(en.json.data.chunks.length).toBeGreaterThan(0);
    expect(en.json.data.chunks[0].content).toContain('quick brown fox');
    expect(en.json.data.chunks[0]).toMatchObject({ document_keyword: '1.txt', dataset_id: datasetId });
    for (const k of ['similarity', 'vector_similarity', 'term_similarity']) expect(typeof en.json.data.chunks[0][k]).toBe('number');
    expect(en.json.data.doc_aggs[0]).toMatchObject({ doc_name: expect.any(String), doc_id: expect.any(String), count: expect.any(Number) });
    const hl = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: 'quick brown fox', highlight: true });
    expect(hl.json.data.chunks[0].highlight).toContain('<em>quick</em> <em>brown</em> <em>fox</em>');
    const bad = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: 'fox', highlight: 'yes' });
    expect(bad.json).toEqual({ code: 102, message: '`highlight` should be a boolean' });
    const zh = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: '混合检索' });
    expect(zh.json.data.chunks[0].content).toContain('混合检索');
    const blank = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: '  ' });
    expect(blank.json.data).toEqual({ total: 0, chunks: [], doc_aggs: {} });
  });

  test('a disabled document drops out of retrieval at once and comes back when enabled; a rename shows in hits', async () => {
    const docId = docIds['1.txt']!;
    const ask = async () => (await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: 'quick brown fox' })).json.data;
    const fromDoc = (d: { chunks: { document_id: string }[] }) => d.chunks.filter((c) => c.document_id === docId);
    expect(fromDoc(await ask()).length).toBeGreaterThan(0);

    expect((await api.put(`/api/v1/datasets/${datasetId}/documents/${docId}`, { enabled: 0 })).json.code).toBe(0);
    const off = await ask();
    expect(fromDoc(off)).toEqual([]);
    expect(off.doc_aggs.map((a: { doc_id: string }) => a.doc_id)).not.toContain(docId);

    expect((await api.put(`/api/v1/datasets/${datasetId}/documents/${docId}`, { enabled: 1, name: 'renamed.txt' })).json.code).toBe(0);
    const on = await ask();
    expect(fromDoc(on).length).toBeGreaterThan(0);
    expect(fromDoc(on)[0]).toMatchObject({ document_keyword: 'renamed.txt', document_name: 'renamed.txt' });
    expect(on.doc_aggs.find((a: { doc_id: string }) => a.doc_id === docId)).toMatchObject({ doc_name: 'renamed.txt' });

    expect((await api.put(`/api/v1/datasets/${datasetId}/documents/${docId}`, { name: '1.txt' })).json.code).toBe(0);
    expect(fromDoc(await ask())[0]).toMatchObject({ document_keyword: '1.txt' });
  });

  test('5.1–5.5 add chunk is retrievable at once; update; delete', async () => {
    const docId = docIds['1.txt']!;
    const add = await api.post(`/api/v1/datasets/${datasetId}/documents/${docId}/chunks`, { content: 'This is a chunk addition test about zebras' });
    expect(add.json.code).toBe(0);
    const chunk = add.json.data.chunk;
    expect(chunk.id).toMatch(/^[0-9a-f]{16}$/);
    // seed 001 §5.5: retrieve right after add_chunk must find it (RAGFlow returned nothing)
    const found = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], document_ids: [docId], question: 'zebras' });
    expect(found.json.data.chunks.map((c: { id: string }) => c.id)).toContain(chunk.id);
    const list = await api.get(`/api/v1/datasets/${datasetId}/documents/${docId}/chunks?keywords=zebras&page=1&page_size=12`);
    expect(list.json.data.total).toBe(1);
    expect(list.json.data.chunks[0].content).toContain('<em>zebras</em>');
    expect(list.json.data.doc.id).toBe(docId);
    const upd = await api.put(`/api/v1/datasets/${datasetId}/documents/${docId}/chunks/${chunk.id}`, { content: 'now about giraffes instead' });
    expect(upd.json).toEqual({ code: 0 });
    const gir = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], document_ids: [docId], question: 'giraffes' });
    expect(gir.json.data.chunks[0].id).toBe(chunk.id);
    // seed 001 §5.3: delete right after add must not fail with "rm_chunk deleted chunks 0, expect 1"
    const del = await api.del(`/api/v1/datasets/${datasetId}/documents/${docId}/chunks`, { chunk_ids: [chunk.id] });
    expect(del.json).toEqual({ code: 0 });
    const again = await api.del(`/api/v1/datasets/${datasetId}/documents/${docId}/chunks`, { chunk_ids: [chunk.id] });
    expect(again.json).toEqual({ code: 102, message: 'rm_chunk deleted chunks 0, expect 1' });
    const gone = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], document_ids: [docId], question: 'giraffes' });
    expect(gone.json.data.chunks.map((c: { id: string }) => c.id)).not.toContain(chunk.id);
  });

  test('re-parse replaces chunks; stop on a finished document is refused', async () => {
    const id = docIds['4.csv']!;
    const before = await api.get(`/api/v1/datasets/${datasetId}/documents/${id}/chunks`);
    await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: [id] });
    const [doc] = await api.waitParsed(datasetId, [id]);
    expect(doc.run).toBe('DONE');
    const after = await api.get(`/api/v1/datasets/${datasetId}/documents/${id}/chunks`);
    expect(after.json.data.total).toBe(before.json.data.total);
    expect(after.json.data.chunks.map((c: { id: string }) => c.id).sort()).toEqual(before.json.data.chunks.map((c: { id: string }) => c.id).sort());
    const stop = await api.del(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: [id] });
    expect(stop.json.code).toBe(102);
  });

  test('tenant isolation: another tenant cannot see or touch the dataset', async () => {
    const email = `other-${Date.now()}@example.com`;
    const reg = await fetch(`${stack.baseUrl}/v1/user/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, nickname: 'other', password: 'opaque-encrypted-blob' }),
    });
    expect((await reg.json()).message).toBe('other, welcome aboard!');
    const login = await fetch(`${stack.baseUrl}/v1/user/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password: 'opaque-encrypted-blob' }),
    });
    const session = login.headers.get('authorization')!;
    expect(session).toBeTruthy();
    const tok = await fetch(`${stack.baseUrl}/v1/system/new_token`, { method: 'POST', headers: { Authorization: session } });
    const key = (await tok.json()).data.token as string;
    expect(key).toMatch(/^ragflow-/);
    const web = async (method: string, p: string, body?: unknown) =>
      (await fetch(`${stack.baseUrl}${p}`, {
        method,
        headers: { Authorization: session, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      })).json();
    expect((await web('GET', '/v1/system/token_list')).data.map((t: { token: string }) => t.token)).toEqual([key]);
    const info = await web('GET', '/v1/user/tenant_info');
    expect(info.data).toMatchObject({ embd_id: 'ragnest-hashing-v1@Builtin', role: 'owner' });
    expect((await web('POST', '/v1/user/set_tenant_info', { tenant_id: info.data.tenant_id, llm_id: 'qwen-plus@Tongyi-Qianwen' })).code).toBe(0);
    expect((await web('GET', '/v1/user/tenant_info')).data.llm_id).toBe('qwen-plus@Tongyi-Qianwen');
    expect((await web('POST', '/v1/llm/set_api_key', { llm_factory: 'OpenAI', api_key: 'sk-test' })).code).toBe(0);
    const llms = await web('GET', '/v1/llm/my_llms');
    expect(Object.keys(llms.data)).toEqual(expect.arrayContaining(['Builtin', 'OpenAI']));
    expect((await web('POST', '/v1/user/login', { email, password: 'wrong' })).message).toBe('Email and password do not match!');
    expect((await web('POST', '/v1/user/register', { email, nickname: 'x', password: 'p' })).message).toBe(`Email: ${email} has already registered!`);
    const noSession = await fetch(`${stack.baseUrl}/v1/system/token_list`);
    expect(noSession.status).toBe(401);
    const other = new RagflowHttp(stack.baseUrl, key);
    expect((await other.get('/api/v1/datasets')).json.data).toEqual([]);
    const docs = await other.get(`/api/v1/datasets/${datasetId}/documents`);
    expect(docs.json).toEqual({ code: 102, message: `You don't own the dataset ${datasetId}. ` });
    const ret = await other.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: 'fox' });
    expect(ret.json.message).toBe(`You don't own the dataset ${datasetId}.`);
    const del = await other.del('/api/v1/datasets', { ids: [datasetId] });
    expect(del.json.code).toBe(108);
  });

  test('Dify external knowledge API', async () => {
    const dify = (auth: string, body: unknown) =>
      fetch(`${stack.baseUrl}/api/v1/dify/retrieval`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await dify('Bearer nope', { knowledge_id: datasetId, query: 'fox' });
    expect(bad.status).toBe(403);
    expect(await bad.json()).toEqual({ code: 403, message: 'API-KEY is invalid!' });
    const missing = await dify(`Bearer ${stack.apiKey}`, { knowledge_id: 'f'.repeat(32), query: 'fox' });
    expect(missing.status).toBe(404);
    const ok = await dify(`Bearer ${stack.apiKey}`, { knowledge_id: datasetId, query: 'quick brown fox', retrieval_setting: { top_k: 2, score_threshold: 0.1 } });
    const body = await ok.json();
    expect(body.records.length).toBeGreaterThan(0);
    expect(body.records.length).toBeLessThanOrEqual(2);
    expect(body.records[0]).toMatchObject({ content: expect.stringContaining('fox'), score: expect.any(Number), title: '1.txt', metadata: { doc_id: docIds['1.txt'] } });
  });

  test('4.4 delete documents, then the dataset', async () => {
    const r = await api.del(`/api/v1/datasets/${datasetId}/documents`, { ids: [docIds['5.json']] });
    expect(r.json).toEqual({ code: 0 });
    const list = await api.get(`/api/v1/datasets/${datasetId}/documents`);
    expect(list.json.data.total).toBe(4);
    const ret = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: 'RagNest parsing retrieval features' });
    expect(ret.json.data.chunks.every((c: { document_id: string }) => c.document_id !== docIds['5.json'])).toBe(true);
    const d = await api.del('/api/v1/datasets', { ids: [datasetId] });
    expect(d.json).toEqual({ code: 0 });
    expect((await api.get('/api/v1/datasets')).json.data).toEqual([]);
  });
});
