/**
 * A server with no default model (RAGFLOW_COMPAT=current): extractive answers for a tenant without a model,
 * then a tenant that configures its own OpenAI-compatible model through the RAGFlow model endpoints, and the
 * current generation's delta events.
 */
import { LocalOpenAIServer } from '@ragnest/llm';
import { RagflowHttp, startStack, type Stack } from '@ragnest/testkit';

const model = new LocalOpenAIServer({
  apiKey: 'sk-tenant',
  reply: (body) => {
    const system = body.messages[0]?.role === 'system' ? body.messages[0].content : '';
    const knowledge = /└── Content:\n([^\n]+)/.exec(system)?.[1] ?? 'nothing';
    return { pieces: `${knowledge.split(/(?<=\.) /)[0]} Done.`.split(/(?<= )/) };
  },
});
let stack: Stack;
let admin: RagflowHttp;
let modelUrl = '';

async function sse(key: string, path: string, body: unknown) {
  const res = await fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.startsWith('data:'))
    .map((b) => ({ raw: b.slice(5), json: JSON.parse(b.slice(5)) }));
}

async function datasetWithDoc(api: RagflowHttp, name: string): Promise<string> {
  const ds = await api.post('/api/v1/datasets', { name });
  const id = ds.json.data.id;
  const up = await api.upload(id, [{ name: 'baikal.txt', content: 'Lake Baikal in Siberia is the deepest lake in the world. It holds about a fifth of the fresh water on Earth.' }]);
  const ids = up.json.data.map((d: { id: string }) => d.id);
  await api.post(`/api/v1/datasets/${id}/chunks`, { document_ids: ids });
  await api.waitParsed(id, ids);
  return id;
}

beforeAll(async () => {
  modelUrl = await model.start();
  // these tests check how each model piece is relayed: read piece by piece (batched reading, LLM_STREAM_BATCH_MS's
  // default, is covered by the provider tests and chat-load.test.ts)
  stack = await startStack({ label: 'chattenant', env: { RAGFLOW_COMPAT: 'current', LLM_STREAM_BATCH_MS: '0' } });
  admin = new RagflowHttp(stack.baseUrl, stack.apiKey);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await model.stop();
});

test('no model configured: an extractive answer from the chunks, marked as such, with citations', async () => {
  const ds = await datasetWithDoc(admin, 'lakes');
  const chat = await admin.post('/api/v1/chats', { name: 'lakes', dataset_ids: [ds] });
  expect(chat.json.code).toBe(0);
  const chatId = chat.json.data.id;
  const events = await sse(stack.apiKey, `/api/v1/chats/${chatId}/completions`, { question: 'How deep is Lake Baikal?', legacy: true });
  // current: without session_id a session is created and the question answered
  const last = events[events.length - 2]!.json.data;
  expect(last.answer).toMatch(/^Extractive answer: no language model is configured/);
  expect(last.answer).toContain('Lake Baikal in Siberia is the deepest lake in the world.');
  expect(last.answer).toContain('[ID:0]');
  expect(last.reference.doc_aggs).toEqual([{ doc_name: 'baikal.txt', doc_id: last.reference.chunks[0].document_id, count: 1 }]);
  expect(events[events.length - 1]!.raw).toBe('{"code": 0, "message": "", "data": true}');
  expect(model.stats.requests).toBe(0);
  // a chat without datasets has nothing to extract from: a clear error event
  const plain = await admin.post('/api/v1/chats', { name: 'plain', prompt_config: { system: 'Be brief.', parameters: [] } });
  const err = await sse(stack.apiKey, `/api/v1/chats/${plain.json.data.id}/completions`, { question: 'hello' });
  expect(err[err.length - 2]!.json.code).toBe(500);
  expect(err[err.length - 2]!.json.message).toContain('No chat model is configured');
});

test('a tenant configures its own model (set_api_key, set_tenant_info, my_llms) and gets delta events', async () => {
  const reg = await fetch(`${stack.baseUrl}/v1/user/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'chat@example.com', nickname: 'chatter', password: 'opaque-blob' }),
  });
  expect(reg.status).toBe(200);
  const login = await fetch(`${stack.baseUrl}/v1/user/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'chat@example.com', password: 'opaque-blob' }) });
  const jwt = login.headers.get('authorization')!;
  const web = new RagflowHttp(stack.baseUrl, '');
  const h = { Authorization: jwt };
  const key = (await web.req('POST', '/v1/system/new_token', {}, h)).json.data.token as string;
  const set = await web.req('POST', '/v1/llm/set_api_key', { llm_factory: 'OpenAI-API-Compatible', api_key: 'sk-tenant', base_url: modelUrl, llm_name: 'tenant-model' }, h);
  expect(set.json.code).toBe(0);
  const info = await web.req('POST', '/v1/user/set_tenant_info', { llm_id: 'tenant-model@OpenAI-API-Compatible' }, h);
  expect(info.json.code).toBe(0);
  const llms = await web.req('GET', '/v1/llm/my_llms', undefined, h);
  expect(llms.json.data['OpenAI-API-Compatible'].llm).toEqual([{ type: 'chat', name: 'tenant-model', used_token: 0 }]);
  expect((await web.req('GET', '/v1/user/tenant_info', undefined, h)).json.data.llm_id).toBe('tenant-model@OpenAI-API-Compatible');

  const api = new RagflowHttp(stack.baseUrl, key);
  const ds = await datasetWithDoc(api, 'lakes');
  const chat = await api.post('/api/v1/chats', { name: 'lakes', dataset_ids: [ds] });
  expect(chat.json).toMatchObject({ code: 0, message: 'success' });
  const chatId = chat.json.data.id;
  const session = await api.post(`/api/v1/chats/${chatId}/sessions`, { name: 's' });
  const events = await sse(key, `/api/v1/chats/${chatId}/completions`, { question: 'How deep is Lake Baikal?', session_id: session.json.data.id });
  const content = events.slice(0, -1).map((e) => e.json);
  for (const e of content) expect(e).toMatchObject({ code: 0, message: '' });
  const deltas = content.filter((e) => e.data.final === false);
  const final = content.find((e) => e.data.final === true)!.data;
  expect(deltas.length).toBeGreaterThan(3);
  const joined = deltas.map((e) => e.data.answer).join('');
  expect(joined).toContain('Lake Baikal in Siberia is the deepest lake in the world.');
  expect(joined).toMatch(/\[ID:0\]/);
  expect(final).toMatchObject({ answer: '', chat_id: chatId, session_id: session.json.data.id });
  expect(final.reference.chunks[0].document_name).toBe('baikal.txt');
  expect((model.bodies.at(-1) as { model: string }).model).toBe('tenant-model');
  // the stored answer is the concatenated deltas
  const list = await api.get(`/api/v1/chats/${chatId}/sessions?id=${session.json.data.id}`);
  expect(list.json.data[0].messages[2].content).toBe(joined);
  // current OpenAI dialect: stream defaults to false; `model` other than "model" picks the model
  const oa = await api.post(`/api/v1/openai/${chatId}/chat/completions`, { model: 'model', messages: [{ role: 'user', content: 'How deep is Lake Baikal?' }] });
  expect(oa.json.object).toBe('chat.completion');
  expect(oa.json.choices[0].message.content).toContain('Lake Baikal in Siberia is the deepest lake in the world.');
  const other = await api.post(`/api/v1/openai/${chatId}/chat/completions`, { model: 'gpt-9@NoSuchFactory', messages: [{ role: 'user', content: 'How deep is Lake Baikal?' }] });
  expect(other.json.code).toBe(100);
  expect(other.json.message).toContain('gpt-9@NoSuchFactory is not configured');
  // current list shape
  const chats = await api.get('/api/v1/chats');
  expect(chats.json.data).toMatchObject({ total: 1, chats: [{ id: chatId }] });
});
