/**
 * Agents over HTTP (issue 4, "Agents"): canvas CRUD and validation, sessions, completions in seed 002's format,
 * seed 000's /converse script (its stream parser, run as written), the OpenAI-compatible agent route with the
 * official openai client, extractive answers without a model, and a client disconnect cancelling the model call.
 */
import OpenAI from 'openai';
import { LocalOpenAIServer, type LocalReply } from '@ragnest/llm';
import { RagflowHttp, startStack, type Stack } from '@ragnest/testkit';

let stack: Stack;
let api: RagflowHttp;
let llm: LocalOpenAIServer;
let llmUrl = '';
let datasetId = '';
/** the agents' tenant: a registered user's API key and web session */
let apiKey = '';
let webAuth: Record<string, string> = {};

const DOC = [
  'RagNest stores every chunk in Postgres, which is the source of truth for documents and chunks.',
  '',
  'Foxes are small omnivorous mammals that live in forests and cities.',
].join('\n');
const QUESTION = 'Where does RagNest store every chunk?';

/** What the local model says: knowledge-grounded text with a citation, or a category, or a long slow answer. */
function reply(body: { messages: { role: string; content: string }[] }): LocalReply {
  const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
  const last = body.messages.at(-1)?.content ?? '';
  if (system.includes('text classifier')) return { pieces: [last.includes('chunk') ? 'knowledge' : 'chitchat'] };
  if (last.includes('slowly')) return { pieces: Array.from({ length: 400 }, (_, i) => `word${i} `), pieceDelayMs: 25 };
  if (system.includes('Postgres')) return { pieces: ['RagNest ', 'stores chunks ', 'in Postgres ', '[ID:0].'] };
  return { pieces: ['I ', 'found ', 'nothing.'] };
}

const node = (name: string, downstream: string[], params: Record<string, unknown> = {}, upstream: string[] = []) => ({
  obj: { component_name: name, params },
  downstream,
  upstream,
});

/** Begin → Retrieval → Generate → Answer (RAGFlow's legacy knowledge-base agent), with one Begin variable. */
const ragDsl = (kb: string) => ({
  components: {
    begin: node('Begin', ['Retrieval:Kb'], {
      prologue: 'Hi! I am the RagNest agent.',
      query: [{ key: 'lang', name: 'Language', type: 'line', optional: true, value: 'English' }],
    }),
    'Retrieval:Kb': node('Retrieval', ['Generate:Llm'], { kb_ids: [kb], similarity_threshold: 0.1, top_n: 4 }, ['begin']),
    'Generate:Llm': node('Generate', ['Answer:Out'], { llm_id: '', prompt: 'Answer in {begin@lang} from the knowledge:\n{input}', cite: true }, ['Retrieval:Kb']),
    'Answer:Out': node('Answer', [], {}, ['Generate:Llm']),
  },
  graph: { nodes: [], edges: [] },
  history: [],
  messages: [],
  path: [],
  reference: [],
  answer: [],
});

async function post(path: string, body: unknown, signal?: AbortSignal) {
  return fetch(`${stack.baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** `data:` payloads of an SSE body, in order ("[DONE]" kept as the string). */
function dataLines(text: string): unknown[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => {
      const raw = l.slice(5).trim();
      return raw === '[DONE]' ? raw : JSON.parse(raw);
    });
}

/**
 * Seed 000's converse_stream + simple_test, line for line: iter_lines, `data:` lines, stop at [DONE], skip what
 * does not parse, raise on a non-zero code, `obj["data"]`, then `chunk.get("answer")` (which needs a dict).
 */
function seed000Print(text: string): { printed: string; sawDone: boolean } {
  let printed = '';
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    if (!line.startsWith('data:')) continue;
    const raw = line.slice(5).trim();
    if (raw === '[DONE]' || raw === 'DONE') return { printed, sawDone: true };
    let obj: { code?: number; data?: unknown };
    try {
      obj = JSON.parse(raw);
    } catch {
      continue;
    }
    if (obj.code !== 0) throw new Error(`stream error: ${JSON.stringify(obj)}`);
    const chunk = obj.data;
    if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) throw new Error(`AttributeError: chunk.get on ${JSON.stringify(chunk)}`);
    const piece = (chunk as { answer?: unknown }).answer;
    if (piece) printed += String(piece);
  }
  return { printed, sawDone: false };
}

async function agentIdByTitle(title: string): Promise<string> {
  const r = await api.get(`/api/v1/agents?title=${encodeURIComponent(title)}`);
  expect(r.json.code).toBe(0);
  return r.json.data[0].id as string;
}

/** Points the tenant at the local OpenAI-protocol server the way the RAGFlow web UI does. */
async function configureTenantLlm(): Promise<void> {
  const web = new RagflowHttp(stack.baseUrl, '');
  const set = await web.req('POST', '/v1/llm/set_api_key', { llm_factory: 'OpenAI-API-Compatible', api_key: 'sk-local', base_url: llmUrl, llm_name: 'local-chat' }, webAuth);
  expect(set.json.code).toBe(0);
  const info = await web.req('POST', '/v1/user/set_tenant_info', { llm_id: 'local-chat@OpenAI-API-Compatible' }, webAuth);
  expect(info.json.code).toBe(0);
}

/** A registered user with its own tenant (no chat model until configureTenantLlm). */
async function registerTenant(): Promise<void> {
  const json = { 'Content-Type': 'application/json' };
  const reg = await fetch(`${stack.baseUrl}/v1/user/register`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'agents@example.com', nickname: 'agents', password: 'opaque-blob' }) });
  expect(reg.status).toBe(200);
  const login = await fetch(`${stack.baseUrl}/v1/user/login`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'agents@example.com', password: 'opaque-blob' }) });
  webAuth = { Authorization: login.headers.get('authorization')! };
  apiKey = (await new RagflowHttp(stack.baseUrl, '').req('POST', '/v1/system/new_token', {}, webAuth)).json.data.token as string;
}

beforeAll(async () => {
  llm = new LocalOpenAIServer({ reply, apiKey: 'sk-local' });
  llmUrl = await llm.start();
  // these tests check how each model piece is relayed: read piece by piece (batched reading, LLM_STREAM_BATCH_MS's
  // default, is covered by the provider tests and chat-load.test.ts)
  stack = await startStack({ label: 'agents', env: { LLM_STREAM_BATCH_MS: '0' } });
  await registerTenant();
  api = new RagflowHttp(stack.baseUrl, apiKey);
  const ds = await api.post('/api/v1/datasets', { name: 'agent_kb' });
  datasetId = ds.json.data.id;
  const up = await api.upload(datasetId, [{ name: 'notes.txt', content: DOC }]);
  const docId = up.json.data[0].id;
  await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: [docId] });
  const [doc] = await api.waitParsed(datasetId, [docId]);
  expect(doc.run).toBe('DONE');
});
afterAll(async () => {
  await stack?.stop();
  await llm?.stop();
});

describe('agent CRUD and DSL validation', () => {
  test('create, list, get, update, delete', async () => {
    const created = await api.post('/api/v1/agents', { title: 'crud agent', description: 'first', dsl: ragDsl(datasetId) });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ code: 0, message: 'success', data: true });
    const dup = await api.post('/api/v1/agents', { title: 'crud agent', dsl: ragDsl(datasetId) });
    expect(dup.json).toEqual({ code: 102, message: 'Agent with title crud agent already exists.' });
    const list = await api.get('/api/v1/agents?title=crud%20agent');
    expect(list.json.code).toBe(0);
    expect(list.json.data).toHaveLength(1);
    const agent = list.json.data[0];
    expect(agent).toMatchObject({ title: 'crud agent', description: 'first', canvas_category: 'agent_canvas', dsl: ragDsl(datasetId) });
    expect(agent.id).toMatch(/^[0-9a-f]{32}$/);
    expect(typeof agent.update_time).toBe('number');
    const got = await api.get(`/api/v1/agents/${agent.id}`);
    expect(got.json.data.id).toBe(agent.id);
    const upd = await api.put(`/api/v1/agents/${agent.id}`, { description: 'second' });
    expect(upd.json).toEqual({ code: 0, message: 'success', data: true });
    expect((await api.get(`/api/v1/agents?id=${agent.id}`)).json.data[0].description).toBe('second');
    expect((await api.get('/api/v1/agents?id=ffffffffffffffffffffffffffffffff')).json).toEqual({ code: 102, message: "The agent doesn't exist." });
    const del = await api.del(`/api/v1/agents/${agent.id}`);
    expect(del.json).toEqual({ code: 0, message: 'success', data: true });
    const again = await api.del(`/api/v1/agents/${agent.id}`);
    expect(again.json).toEqual({ code: 103, message: 'Only owner of canvas authorized for this operation.' });
  });

  test('a malformed DSL is refused on save with a message saying what is wrong', async () => {
    expect((await api.post('/api/v1/agents', { dsl: ragDsl(datasetId) })).json).toEqual({ code: 101, message: 'No title in request.' });
    expect((await api.post('/api/v1/agents', { title: 'x' })).json).toEqual({ code: 101, message: 'No DSL data in request.' });
    const noBegin = await api.post('/api/v1/agents', { title: 'bad1', dsl: { components: { 'Answer:A': node('Answer', []) } } });
    expect(noBegin.json).toEqual({ code: 101, message: 'Invalid DSL: components must contain the Begin component with the id "begin".' });
    const dangling = await api.post('/api/v1/agents', { title: 'bad2', dsl: { components: { begin: node('Begin', ['Retrieval:Gone']) } } });
    expect(dangling.json).toEqual({ code: 101, message: 'Invalid DSL: components.begin.downstream refers to "Retrieval:Gone", which is not a component.' });
    const notObject = await api.post('/api/v1/agents', { title: 'bad3', dsl: [1, 2] });
    expect(notObject.json.code).toBe(101);
    expect(notObject.json.message).toMatch(/^Invalid DSL: /);
    expect((await api.get('/api/v1/agents?title=bad1')).json.code).toBe(102); // nothing was stored
    await api.post('/api/v1/agents', { title: 'good', dsl: ragDsl(datasetId) });
    const id = await agentIdByTitle('good');
    const badUpdate = await api.put(`/api/v1/agents/${id}`, { dsl: { components: {} } });
    expect(badUpdate.json.message).toBe('Invalid DSL: components must contain the Begin component with the id "begin".');
  });

  test('a DSL with a component we do not run is saved as is; running it is refused naming the component', async () => {
    const dsl = {
      components: {
        begin: node('Begin', ['TavilySearch:Web']),
        'TavilySearch:Web': node('TavilySearch', ['Answer:A'], { api_key: 'tvly-x' }, ['begin']),
        'Answer:A': node('Answer', [], {}, ['TavilySearch:Web']),
      },
    };
    expect((await api.post('/api/v1/agents', { title: 'web agent', dsl })).json).toEqual({ code: 0, message: 'success', data: true });
    const id = await agentIdByTitle('web agent');
    expect((await api.get(`/api/v1/agents/${id}`)).json.data.dsl).toEqual(dsl);
    const expected = 'The agent uses the component "TavilySearch" (id "TavilySearch:Web"), which this server cannot run yet.';
    const run = await post(`/api/v1/agents/${id}/completions`, { question: 'search the web', stream: true });
    expect(run.headers.get('content-type')).toContain('application/json');
    const body = (await run.json()) as { code: number; message: string };
    expect(body.code).toBe(102);
    expect(body.message).toContain(expected);
    // seed 000's stream reader sees the refusal as a `data:` line and raises it
    const conv = await post(`/api/v1/agents/${id}/converse`, { question: 'search the web', stream: true });
    const convText = await conv.text();
    expect(() => seed000Print(convText)).toThrow(expected.replace(/"/g, '\\"'));
  });
});

describe('agent sessions', () => {
  let agentId = '';
  beforeAll(async () => {
    await api.post('/api/v1/agents', { title: 'session agent', dsl: ragDsl(datasetId) });
    agentId = await agentIdByTitle('session agent');
  });

  test('create with Begin inputs (seed 000 create_session body), list, delete', async () => {
    const a = await api.req('POST', `/api/v1/agents/${agentId}/sessions?user_id=u-42`, { lang: 'Deutsch' });
    expect(a.status).toBe(200);
    expect(a.json.code).toBe(0);
    expect(a.json.data).toMatchObject({ agent_id: agentId, user_id: 'u-42', source: 'agent', message: [{ role: 'assistant', content: 'Hi! I am the RagNest agent.' }] });
    expect(a.json.data.dsl).toEqual(ragDsl(datasetId));
    const b = await api.post(`/api/v1/agents/${agentId}/sessions`, {});
    const list = await api.get(`/api/v1/agents/${agentId}/sessions`);
    expect(list.json.data.map((s: { id: string }) => s.id).sort()).toEqual([a.json.data.id, b.json.data.id].sort());
    const byUser = await api.get(`/api/v1/agents/${agentId}/sessions?user_id=u-42&dsl=false`);
    expect(byUser.json.data).toHaveLength(1);
    expect(byUser.json.data[0]).not.toHaveProperty('dsl');
    expect((await api.del(`/api/v1/agents/${agentId}/sessions`, { ids: ['nope'] })).json).toEqual({ code: 102, message: "The agent doesn't own the session nope" });
    expect((await api.del(`/api/v1/agents/${agentId}/sessions`, { ids: [a.json.data.id] })).json).toEqual({ code: 0 });
    expect((await api.get(`/api/v1/agents/${agentId}/sessions`)).json.data).toHaveLength(1);
    expect((await api.del(`/api/v1/agents/${agentId}/sessions`, { ids: null })).json).toEqual({ code: 0 });
    expect((await api.del(`/api/v1/agents/${agentId}/sessions`, {})).json).toEqual({ code: 102, message: `Agent ${agentId} has no sessions` });
  });

  test('unknown agent', async () => {
    const r = await api.post('/api/v1/agents/ffffffffffffffffffffffffffffffff/sessions', {});
    expect(r.json).toEqual({ code: 102, message: 'Agent not found.' });
  });
});

let configured = false;
async function configuredOnce() {
  if (!configured) await configureTenantLlm();
  configured = true;
}

describe('runs without a chat model: extractive answers', () => {
  let agentId = '';
  beforeAll(async () => {
    expect(configured).toBe(false);
    await api.post('/api/v1/agents', { title: 'extractive agent', dsl: ragDsl(datasetId) });
    agentId = await agentIdByTitle('extractive agent');
  });

  test('completions (seed 002 format, stream by default): cumulative answers, reference on the last, then data:true', async () => {
    const res = await post(`/api/v1/agents/${agentId}/completions`, { question: QUESTION });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = dataLines(await res.text()) as { code: number; message: string; data: any }[];
    expect(events.at(-1)).toEqual({ code: 0, message: '', data: true });
    const content = events.slice(0, -1);
    expect(content.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < content.length; i++) expect(content[i]!.data.answer.startsWith(content[i - 1]!.data.answer.replace(/##\d+\$\$$/, ''))).toBe(true);
    const last = content.at(-1)!.data;
    expect(last.answer).toMatch(/^Extractive answer: no language model is configured/);
    expect(last.answer).toContain('RagNest stores every chunk in Postgres');
    expect(last.answer).toMatch(/##0\$\$/);
    expect(last.reference.chunks[0]).toMatchObject({ document_name: 'notes.txt', dataset_id: datasetId });
    expect(last.reference.doc_aggs).toEqual([expect.objectContaining({ doc_name: 'notes.txt', count: expect.any(Number) })]);
    expect(last.session_id).toMatch(/^[0-9a-f]{32}$/);
    // the turn is kept in the session the run created
    const sessions = await api.get(`/api/v1/agents/${agentId}/sessions?id=${last.session_id}`);
    const msgs = sessions.json.data[0].message;
    expect(msgs.map((m: { role: string }) => m.role)).toEqual(['assistant', 'user', 'assistant']);
    expect(msgs[1].content).toBe(QUESTION);
    expect(msgs[2].reference[0]).toMatchObject({ document_name: 'notes.txt' });
  });

  test('completions stream:false returns one answer', async () => {
    const r = await api.post(`/api/v1/agents/${agentId}/completions`, { question: QUESTION, stream: false });
    expect(r.json.code).toBe(0);
    expect(r.json.data.answer).toMatch(/^Extractive answer/);
    expect(r.json.data.reference.total).toBeGreaterThan(0);
  });

  test('seed 002: no session and no question opens a session and returns the Begin inputs it took', async () => {
    const r = await post(`/api/v1/agents/${agentId}/completions`, { lang: 'English' });
    const events = dataLines(await r.text()) as any[];
    expect(events).toHaveLength(2);
    expect(events[0].data.param).toEqual([{ key: 'lang', name: 'Language', optional: true, type: 'line', value: 'English' }]);
    expect(events[1]).toEqual({ code: 0, message: '', data: true });
    const withSession = await api.post(`/api/v1/agents/${agentId}/completions`, { session_id: events[0].data.session_id, stream: false });
    expect(withSession.json).toEqual({ code: 102, message: '`question` is required.' });
  });

  test('seed 000 converse_stream prints the extractive answer and stops at [DONE]', async () => {
    const res = await post(`/api/v1/agents/${agentId}/converse`, { question: QUESTION, stream: true });
    expect(res.status).toBe(200);
    const { printed, sawDone } = seed000Print(await res.text());
    expect(sawDone).toBe(true);
    expect(printed).toMatch(/^Extractive answer/);
    expect(printed).toContain('RagNest stores every chunk in Postgres');
  });
});

describe('runs with the tenant chat model (local OpenAI-protocol server)', () => {
  let agentId = '';
  beforeAll(async () => {
    await configuredOnce();
    await api.post('/api/v1/agents', { title: 'llm agent', dsl: ragDsl(datasetId) });
    agentId = await agentIdByTitle('llm agent');
  });

  test('completions: the model sees the retrieved knowledge; events are cumulative with ##n$$ markers', async () => {
    const res = await post(`/api/v1/agents/${agentId}/completions`, { question: QUESTION, stream: true });
    const events = dataLines(await res.text()) as any[];
    const answers = events.slice(0, -1).map((e) => e.data.answer as string);
    // cumulative: each answer extends the one before; the last is the whole answer with seed 002's markers
    for (let i = 1; i < answers.length; i++) expect(answers[i]!.startsWith(answers[i - 1]!)).toBe(true);
    expect(answers.at(-1)).toBe('RagNest stores chunks in Postgres ##0$$.');
    expect(events.at(-2).data.reference.chunks[0].content).toContain('Postgres');
    const sent = llm.bodies.at(-1) as { messages: { role: string; content: string }[] };
    expect(sent.messages[0]!.content).toContain('Answer in English from the knowledge:\nID: 0');
    expect(sent.messages.at(-1)).toEqual({ role: 'user', content: QUESTION });
  });

  test('seed 000 (unchanged parser): converse streams deltas that print the model answer', async () => {
    // simple_test(): need_begin_vars = False, no session, stream: True
    const res = await post(`/api/v1/agents/${agentId}/converse`, { question: QUESTION, stream: true });
    const text = await res.text();
    const deltas = (dataLines(text) as any[]).filter((e) => e !== '[DONE]').map((e) => e.data.answer);
    expect(deltas.slice(0, 4)).toEqual(['RagNest ', 'stores chunks ', 'in Postgres ', '[ID:0].']);
    expect(seed000Print(text)).toEqual({ printed: 'RagNest stores chunks in Postgres [ID:0].', sawDone: true });
    // converse() (non-stream): data is the whole answer
    const whole = await api.post(`/api/v1/agents/${agentId}/converse`, { question: QUESTION });
    expect(whole.json.code).toBe(0);
    expect(whole.json.data.answer).toBe('RagNest stores chunks in Postgres [ID:0].');
    // a second turn in the same session sends the history
    const again = await api.post(`/api/v1/agents/${agentId}/converse`, { question: 'And foxes?', session_id: whole.json.data.session_id });
    expect(again.json.code).toBe(0);
    const sent = llm.bodies.at(-1) as { messages: { role: string; content: string }[] };
    expect(sent.messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user', 'assistant', 'user']);
    expect(sent.messages[2]).toEqual({ role: 'user', content: QUESTION });
  });

  test('the Begin input given at session creation reaches the run', async () => {
    const s = await api.post(`/api/v1/agents/${agentId}/sessions`, { lang: 'Deutsch' });
    const before = llm.bodies.length;
    const r = await post(`/api/v1/agents/${agentId}/completions`, { question: QUESTION, stream: false, session_id: s.json.data.id });
    expect(((await r.json()) as { code: number }).code).toBe(0);
    const sent = llm.bodies.slice(before).find((b) => JSON.stringify(b).includes('Answer in'));
    expect(JSON.stringify(sent)).toContain('Answer in Deutsch from the knowledge');
  });

  test('agents_openai with the official openai client, non-stream and stream', async () => {
    const client = new OpenAI({ apiKey, baseURL: `${stack.baseUrl}/api/v1/agents_openai/${agentId}` });
    const res = await client.chat.completions.create({ model: 'model', messages: [{ role: 'user', content: QUESTION }] });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe(agentId);
    expect(res.choices[0]!.message.content).toBe('RagNest stores chunks in Postgres [ID:0].');
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({ model: 'model', messages: [{ role: 'user', content: QUESTION }], stream: true });
    let text = '';
    let finish: string | null = null;
    let reference: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      reference = (chunk.choices[0]?.delta as { reference?: unknown } | undefined)?.reference ?? reference;
    }
    expect(text).toBe('RagNest stores chunks in Postgres [ID:0].');
    expect(finish).toBe('stop');
    expect(reference).toEqual([expect.objectContaining({ document_name: 'notes.txt' })]);
  });

  test('agents_openai validation messages', async () => {
    const url = `/api/v1/agents_openai/${agentId}/chat/completions`;
    expect((await api.post(url, { messages: [{ role: 'user', content: 'hi' }] })).json).toEqual({ code: 101, message: 'required argument are missing: model; ', data: null });
    expect((await api.post(url, {})).json.message).toBe('required argument are missing: model,messages; ');
    expect((await api.post(url, { model: 'm', messages: [] })).json).toEqual({ code: 102, message: 'You have to provide messages.' });
    expect((await api.post(url, { model: 'm', messages: [{ role: 'assistant', content: 'x' }] })).json).toEqual({
      code: 102,
      message: 'The last content of this conversation is not from user.',
    });
  });

  test('a client that disconnects mid-stream cancels the model call', async () => {
    const abortsBefore = llm.stats.clientAborts;
    const ac = new AbortController();
    const res = await post(`/api/v1/agents/${agentId}/converse`, { question: 'answer slowly please', stream: true }, ac.signal);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"answer":"word0 "');
    ac.abort();
    const deadline = Date.now() + 10_000;
    while (llm.stats.clientAborts === abortsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(llm.stats.clientAborts).toBe(abortsBefore + 1);
    expect(llm.stats.active).toBe(0);
  });
});
