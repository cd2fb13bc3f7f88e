/**
 * Seed 001 §2, §6 and §7 (chat assistants, sessions, conversation, the OpenAI-compatible route) over HTTP against
 * the booted apps, with the real provider client talking to a local OpenAI-protocol server.
 */
import OpenAI from 'openai';
import { LocalOpenAIServer, type LocalReply } from '@ragnest/llm';
import { RagflowHttp, startStack, type Stack } from '@ragnest/testkit';

type Body = Parameters<ConstructorParameters<typeof LocalOpenAIServer>[0]['reply']>[0];

/** The test model: quotes the first knowledge block it was given, so answers are checkable. */
function reply(body: Body): LocalReply {
  const system = body.messages[0]?.role === 'system' ? body.messages[0].content : '';
  const last = body.messages[body.messages.length - 1]?.content ?? '';
  if (system.startsWith('Rewrite the last USER question')) return { pieces: ['What do foxes eat?'] };
  if (system.startsWith('Suggest 5 to 10 search queries')) return { pieces: ['1. fox diet\n2. fox habitat\n', '3. red fox behaviour\n4. omnivorous mammals\n5. fox species'] };
  if (last.includes('fail upstream')) return { pieces: [], errorStatus: 500, errorMessage: 'the GPU caught fire' };
  if (last.includes('stall upstream')) return { pieces: ['Thinking'], stallAfterFirstPiece: true };
  if (last.includes('long answer')) return { pieces: Array.from({ length: 400 }, (_, i) => `word${i} `), pieceDelayMs: 10 };
  if (last.includes('think first')) return { pieces: ['<think>Let me', ' think.</think>', 'Foxes eat ', 'rodents.'] };
  if (last.includes('think separately')) return { reasoningPieces: ['Hmm, ', 'foxes.'], pieces: ['Foxes eat ', 'rodents.'] };
  if (last.includes('cite yourself')) return { pieces: ['Foxes are small omnivorous ', 'mammals [I', 'D:0]. They', ' jump (ID: 0).'] };
  const knowledge = /└── Content:\n([^\n]+)/.exec(system)?.[1];
  const text = knowledge ? `${knowledge.split(/(?<=\.) /)[0]} That is what the knowledge base says.` : `You asked: ${last}`;
  return { pieces: text.split(/(?<= )/) };
}

const model = new LocalOpenAIServer({ apiKey: 'sk-test-llm', reply });
let stack: Stack;
let api: RagflowHttp;
let datasetId = '';

interface SseEvent {
  raw: string;
  json: any;
}

async function sse(path: string, body: unknown): Promise<{ status: number; contentType: string; events: SseEvent[]; text: string }> {
  const res = await fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  const events = text
    .split('\n\n')
    .filter((b) => b.startsWith('data:'))
    .map((b) => {
      const raw = b.slice(5);
      let json: unknown = raw;
      try {
        json = JSON.parse(raw);
      } catch {
        /* [DONE] */
      }
      return { raw, json };
    });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', events, text };
}

beforeAll(async () => {
  const baseUrl = await model.start();
  // these tests check how each model piece is relayed: read piece by piece (batched reading, LLM_STREAM_BATCH_MS's
  // default, is covered by the provider tests and chat-load.test.ts)
  stack = await startStack({ label: 'chat', env: { LLM_BASE_URL: baseUrl, LLM_MODEL: 'local-model', LLM_API_KEY: 'sk-test-llm', LLM_TIMEOUT_MS: '1500', LLM_STREAM_BATCH_MS: '0' } });
  api = new RagflowHttp(stack.baseUrl, stack.apiKey);
  const ds = await api.post('/api/v1/datasets', { name: 'kb_1' });
  datasetId = ds.json.data.id;
  const up = await api.upload(datasetId, [
    { name: 'foxes.txt', content: 'Foxes are small omnivorous mammals that eat rodents, fruit and insects. The red fox is the largest of the true foxes.' },
    { name: 'lakes.txt', content: 'Lake Baikal in Siberia is the deepest lake in the world. It holds about a fifth of the fresh water on Earth.' },
  ]);
  const ids = up.json.data.map((d: { id: string }) => d.id);
  await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: ids });
  const docs = await api.waitParsed(datasetId, ids);
  expect(docs.map((d) => d.run)).toEqual(['DONE', 'DONE']);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await model.stop();
});

// ragflow-sdk 0.24 create_chat's exact body (seed 001 §6.1)
const sdkCreateBody = (name: string, datasetIds: string[]) => ({
  name,
  avatar: '',
  dataset_ids: datasetIds,
  llm: { model_name: null, temperature: 0.1, top_p: 0.3, presence_penalty: 0.4, frequency_penalty: 0.7, max_tokens: 512 },
  prompt: {
    similarity_threshold: 0.2,
    keywords_similarity_weight: 0.7,
    top_n: 8,
    top_k: 1024,
    variables: [{ key: 'knowledge', optional: true }],
    rerank_model: '',
    empty_response: null,
    opener: 'Hi! I am your assistant, can I help you?',
    show_quote: true,
    prompt:
      'You are an intelligent assistant. Please summarize the content of the knowledge base to answer the question. Here is the knowledge base:\n{knowledge}\nThe above is the knowledge base.',
  },
});

describe('chat assistants (seed 001 §6)', () => {
  let chatId = '';

  test('6.1 create_chat with the SDK body', async () => {
    const r = await api.post('/api/v1/chats', sdkCreateBody('Miss R', [datasetId]));
    expect(r.status).toBe(200);
    expect(r.json.code).toBe(0);
    expect(r.json).not.toHaveProperty('message');
    const c = r.json.data;
    chatId = c.id;
    expect(c.id).toMatch(/^[0-9a-f]{32}$/);
    expect(c).toMatchObject({ name: 'Miss R', dataset_ids: [datasetId], description: 'A helpful Assistant', do_refer: '1', language: 'English' });
    expect(c.llm).toMatchObject({ temperature: 0.1, top_p: 0.3, presence_penalty: 0.4, frequency_penalty: 0.7, max_tokens: 512 });
    // RAGFlow stores keywords_similarity_weight as the vector weight and reports 1 − it
    expect(c.prompt).toMatchObject({ top_n: 8, similarity_threshold: 0.2, keywords_similarity_weight: 0.3, show_quote: true, opener: 'Hi! I am your assistant, can I help you?' });
    expect(c.prompt.empty_response).toBe('Sorry! No relevant content was found in the knowledge base!');
    expect(c).not.toHaveProperty('top_k');
  });

  test('create validation and defaults', async () => {
    expect((await api.post('/api/v1/chats', {})).json).toEqual({ code: 102, message: '`name` is required.' });
    expect((await api.post('/api/v1/chats', { name: 'Miss R' })).json).toEqual({ code: 102, message: 'Duplicated chat name in creating chat.' });
    expect((await api.post('/api/v1/chats', { name: 'x', dataset_ids: ['0'.repeat(32)] })).json).toEqual({ code: 102, message: `You don't own the dataset ${'0'.repeat(32)}` });
    const empty = await api.post('/api/v1/datasets', { name: 'empty_kb' });
    expect((await api.post('/api/v1/chats', { name: 'x', dataset_ids: [empty.json.data.id] })).json).toEqual({ code: 102, message: `The dataset ${empty.json.data.id} doesn't own parsed file` });
    expect((await api.post('/api/v1/chats', { name: 'x', llm: { model_name: 'gpt-9@NoSuchFactory' } })).json).toEqual({
      code: 102,
      message: '`model_name` gpt-9@NoSuchFactory doesn\'t exist',
    });
    expect((await api.post('/api/v1/chats', { name: 'x', prompt: { prompt: 'no placeholder', variables: [{ key: 'knowledge', optional: false }] } })).json).toEqual({
      code: 102,
      message: "Parameter 'knowledge' is not used",
    });
    const d = await api.post('/api/v1/chats', { name: 'defaults' });
    expect(d.json.data.prompt).toMatchObject({
      similarity_threshold: 0.2,
      keywords_similarity_weight: 0.7,
      top_n: 6,
      opener: "Hi! I'm your assistant. What can I do for you?",
      variables: [{ key: 'knowledge', optional: false }],
      show_quote: true,
    });
    expect(d.json.data.prompt.prompt).toContain('{knowledge}');
    await api.del('/api/v1/chats', { ids: [d.json.data.id] });
  });

  test('6.2 update without dataset_ids keeps the datasets; llm and prompt merge', async () => {
    const created = await api.post('/api/v1/chats', sdkCreateBody('Miss R2', [datasetId]));
    const id = created.json.data.id;
    const r = await api.put(`/api/v1/chats/${id}`, { name: 'Stefan', llm: { temperature: 0.8 }, prompt: { top_n: 8 } });
    expect(r.json).toEqual({ code: 0 });
    const list = await api.get(`/api/v1/chats?id=${id}`);
    const c = list.json.data[0];
    expect(c).toMatchObject({ name: 'Stefan', dataset_ids: [datasetId] });
    expect(c.llm).toMatchObject({ temperature: 0.8, top_p: 0.3, max_tokens: 512 });
    expect(c.prompt.top_n).toBe(8);
    expect(c.datasets.map((d: { id: string }) => d.id)).toEqual([datasetId]);
    expect((await api.put(`/api/v1/chats/${id}`, { name: '' })).json).toEqual({ code: 102, message: '`name` cannot be empty.' });
    expect((await api.put(`/api/v1/chats/${id}`, { name: 'Miss R' })).json).toEqual({ code: 102, message: 'Duplicated chat name in updating chat.' });
    expect((await api.put(`/api/v1/chats/${'0'.repeat(32)}`, { name: 'y' })).json).toEqual({ code: 102, message: 'You do not own the chat' });
    // 6.3 delete by id
    expect((await api.del('/api/v1/chats', { ids: [id] })).json).toEqual({ code: 0 });
    expect((await api.del('/api/v1/chats', { ids: [id] })).json).toEqual({ code: 102, message: `Assistant(${id}) not found.` });
  });

  test('6.4 list chats, by name, and the current-generation routes', async () => {
    const all = await api.get('/api/v1/chats');
    expect(all.json.code).toBe(0);
    expect(all.json.data.map((c: { name: string }) => c.name)).toContain('Miss R');
    const byName = await api.get('/api/v1/chats?name=Miss%20R');
    expect(byName.json.data).toHaveLength(1);
    expect(byName.json.data[0].id).toBe(chatId);
    expect((await api.get('/api/v1/chats?name=nobody')).json).toEqual({ code: 102, message: "The chat doesn't exist" });
    const one = await api.get(`/api/v1/chats/${chatId}`);
    expect(one.json).toMatchObject({ code: 0, message: 'success', data: { id: chatId, llm_id: '', dataset_ids: [datasetId], kb_names: ['kb_1'] } });
    const patched = await api.req('PATCH', `/api/v1/chats/${chatId}`, { prompt_config: { refine_multiturn: true } });
    expect(patched.json.data.prompt_config).toMatchObject({ refine_multiturn: true, quote: true });
    expect(patched.json.data.top_n).toBe(8);
  });

  describe('sessions and conversation (seed 001 §7)', () => {
    let sessionId = '';

    test('7.1 create_session: opener first, chat_id present', async () => {
      const r = await api.post(`/api/v1/chats/${chatId}/sessions`, { name: 'New session' });
      expect(r.json.code).toBe(0);
      sessionId = r.json.data.id;
      expect(r.json.data).toMatchObject({ chat_id: chatId, name: 'New session', messages: [{ role: 'assistant', content: 'Hi! I am your assistant, can I help you?' }] });
      expect((await api.post(`/api/v1/chats/${chatId}/sessions`, { name: '' })).json).toEqual({ code: 102, message: '`name` can not be empty.' });
      expect((await api.post(`/api/v1/chats/${'0'.repeat(32)}/sessions`, {})).json).toEqual({ code: 102, message: 'You do not own the assistant.' });
    });

    test('7.2 rename a session', async () => {
      const s = await api.post(`/api/v1/chats/${chatId}/sessions`, { name: 'session_name' });
      expect((await api.put(`/api/v1/chats/${chatId}/sessions/${s.json.data.id}`, { name: 'updated_name' })).json).toEqual({ code: 0 });
      expect((await api.put(`/api/v1/chats/${chatId}/sessions/${s.json.data.id}`, { messages: [] })).json).toEqual({ code: 102, message: '`message` can not be change' });
      expect((await api.put(`/api/v1/chats/${chatId}/sessions/${'0'.repeat(32)}`, { name: 'x' })).json).toEqual({ code: 102, message: 'Session does not exist' });
      const l = await api.get(`/api/v1/chats/${chatId}/sessions?name=updated_name`);
      expect(l.json.data).toHaveLength(1);
      expect(l.json.data[0].chat_id).toBe(chatId);
    });

    test('7.5 session.ask(stream=True): cumulative answers print cleanly; reference on the last content event', async () => {
      const r = await sse(`/api/v1/chats/${chatId}/completions`, { question: 'What do foxes eat?', stream: true, session_id: sessionId });
      expect(r.status).toBe(200);
      expect(r.contentType).toBe('text/event-stream; charset=utf-8');
      expect(r.text.endsWith('data:{"code": 0, "data": true}\n\n')).toBe(true);
      const content = r.events.slice(0, -1).map((e) => e.json.data);
      expect(content.length).toBeGreaterThan(2);
      // the seed's loop: print(ans.content[len(cont):]); cont = ans.content
      let printed = '';
      let cont = '';
      for (const d of content) {
        expect(d.answer.startsWith(cont)).toBe(true);
        printed += d.answer.slice(cont.length);
        cont = d.answer;
        expect(d.session_id).toBe(sessionId);
        expect(typeof d.id).toBe('string');
      }
      const last = content[content.length - 1];
      expect(printed).toBe(last.answer);
      expect(last.answer).toContain('Foxes are small omnivorous mammals');
      expect(last.answer).toMatch(/##0\$\$/);
      expect(last.reference.chunks[0]).toMatchObject({ document_name: 'foxes.txt', dataset_id: datasetId });
      expect(Object.keys(last.reference.chunks[0]).sort()).toEqual(
        ['content', 'dataset_id', 'doc_type', 'document_id', 'document_name', 'id', 'image_id', 'positions', 'similarity', 'term_similarity', 'url', 'vector_similarity'].sort(),
      );
      expect(last.reference.doc_aggs).toEqual([{ doc_name: 'foxes.txt', doc_id: last.reference.chunks[0].document_id, count: 1 }]);
      expect(last.reference.total).toBeGreaterThanOrEqual(1);
      for (const d of content.slice(0, -1)) expect(d.reference).toEqual({});
      expect(r.events.slice(0, -1).every((e) => !('message' in e.json))).toBe(true);
      // the model got the knowledge and the citation rules
      const sent = model.bodies.at(-1) as Body;
      expect(sent.messages[0]!.content).toContain('Foxes are small omnivorous mammals');
      expect(sent.messages[0]!.content).toContain('[ID:i]');
      expect(sent).toMatchObject({ model: 'local-model', temperature: 0.1, max_tokens: 512 });
    });

    test('markers the model writes are normalised, even split across pieces', async () => {
      const r = await sse(`/api/v1/chats/${chatId}/completions`, { question: 'Please cite yourself', session_id: sessionId });
      const last = r.events[r.events.length - 2]!.json.data;
      expect(last.answer).toBe('Foxes are small omnivorous mammals ##0$$. They jump ##0$$.');
      expect(r.events.slice(0, -1).every((e) => !/\[I|\(ID/.test(e.json.data.answer))).toBe(true);
    });

    test('reasoning models: <think> text stays in the cumulative answer, prefix-stable', async () => {
      const fresh = await api.post(`/api/v1/chats/${chatId}/sessions`, {});
      const r = await sse(`/api/v1/chats/${chatId}/completions`, { question: 'Do foxes think first?', session_id: fresh.json.data.id });
      const content = r.events.slice(0, -1).map((e) => e.json.data.answer as string);
      let cont = '';
      for (const a of content) {
        expect(a.startsWith(cont)).toBe(true);
        cont = a;
      }
      expect(cont).toMatch(/^<think>Let me think\.<\/think>Foxes eat rodents\./);
    });

    test('multi-turn: the history is refined into a standalone question', async () => {
      const before = model.bodies.length;
      const r = await api.post(`/api/v1/chats/${chatId}/completions`, { question: 'And what about them?', stream: false, session_id: sessionId });
      expect(r.json.code).toBe(0);
      const calls = model.bodies.slice(before) as Body[];
      expect(calls[0]!.messages[0]!.content).toMatch(/^Rewrite the last USER question/);
      expect(calls[0]!.messages[1]!.content).toContain('USER: What do foxes eat?');
      expect(calls[0]!.messages[1]!.content).toContain('USER: And what about them?');
      // the answering call carries the conversation, markers stripped from earlier answers
      const answering = calls[1]!;
      expect(answering.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
      expect(answering.messages[2]!.content).not.toContain('##');
      expect(r.json.data).toMatchObject({ session_id: sessionId, audio_binary: null });
      expect(r.json.data.answer).toContain('Foxes are small omnivorous mammals');
      expect(r.json.data.reference.chunks.length).toBeGreaterThan(0);
      expect(r.json.data.prompt).toContain('Retrieval:');
    });

    test('7.3 list sessions: messages persisted with per-turn references', async () => {
      const r = await api.get(`/api/v1/chats/${chatId}/sessions?id=${sessionId}`);
      const s = r.json.data[0];
      expect(s.chat_id).toBe(chatId);
      expect(s.messages.map((m: { role: string }) => m.role)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
      expect(s.messages[1]).toMatchObject({ role: 'user', content: 'What do foxes eat?' });
      expect(s.messages[0].reference).toEqual([]);
      expect(s.messages[2].reference[0]).toMatchObject({ document_name: 'foxes.txt', dataset_id: datasetId });
      expect(Object.keys(s.messages[2].reference[0]).sort()).toEqual(['content', 'dataset_id', 'document_id', 'document_name', 'id', 'image_id', 'positions']);
      expect(s.messages[2].id).toBe(s.messages[1].id);
      expect((await api.get(`/api/v1/chats/${'0'.repeat(32)}/sessions`)).json).toEqual({ code: 102, message: `You don't own the assistant ${'0'.repeat(32)}.` });
    });

    test('without session_id (classic): the question is ignored, the opener and a new session come back', async () => {
      const r = await sse(`/api/v1/chats/${chatId}/completions`, { question: 'ignored?' });
      expect(r.events).toHaveLength(2);
      expect(r.events[0]!.json).toMatchObject({ code: 0, message: '', data: { answer: 'Hi! I am your assistant, can I help you?', reference: {}, id: null } });
      expect(r.events[1]!.raw).toBe('{"code": 0, "message": "", "data": true}');
      const sid = r.events[0]!.json.data.session_id;
      expect((await api.get(`/api/v1/chats/${chatId}/sessions?id=${sid}`)).json.data[0].name).toBe('New session');
      const ns = await api.post(`/api/v1/chats/${chatId}/completions`, { question: 'x', stream: false });
      expect(ns.json).toMatchObject({ code: 0, data: { answer: 'Hi! I am your assistant, can I help you?', reference: {}, audio_binary: null, id: null } });
    });

    test('nothing above the threshold → empty_response without calling the model', async () => {
      const fresh = await api.post(`/api/v1/chats/${chatId}/sessions`, {});
      const before = model.stats.requests;
      const r = await api.post(`/api/v1/chats/${chatId}/completions`, { question: 'qwxzv plmokn', stream: false, session_id: fresh.json.data.id });
      expect(r.json.data.answer).toBe('Sorry! No relevant content was found in the knowledge base!');
      expect(r.json.data.reference).toEqual({ total: 0, chunks: [], doc_aggs: [] });
      expect(model.stats.requests).toBe(before);
      // metadata_condition that no document matches: nothing is retrieved
      const fresh2 = await api.post(`/api/v1/chats/${chatId}/sessions`, {});
      const m = await api.post(`/api/v1/chats/${chatId}/completions`, {
        question: 'What do foxes eat?',
        stream: false,
        session_id: fresh2.json.data.id,
        metadata_condition: { logic: 'and', conditions: [{ name: 'author', comparison_operator: 'is', value: 'nobody' }] },
      });
      expect(m.json.data.answer).toBe('Sorry! No relevant content was found in the knowledge base!');
    });

    test('show_quote off: no markers, no references', async () => {
      const c = await api.post('/api/v1/chats', { ...sdkCreateBody('No quotes', [datasetId]), prompt: { ...sdkCreateBody('', []).prompt, show_quote: false } });
      const s = await api.post(`/api/v1/chats/${c.json.data.id}/sessions`, {});
      const r = await api.post(`/api/v1/chats/${c.json.data.id}/completions`, { question: 'What do foxes eat?', stream: false, session_id: s.json.data.id });
      expect(r.json.data.answer).toContain('Foxes are small omnivorous mammals');
      expect(r.json.data.answer).not.toMatch(/##\d+\$\$|\[ID:/);
      expect(r.json.data.reference.chunks).toEqual([]);
      expect((model.bodies.at(-1) as Body).messages[0]!.content).not.toContain('[ID:i]');
    });

    test('upstream errors become the error event, then the final event; nothing hangs', async () => {
      const r = await sse(`/api/v1/chats/${chatId}/completions`, { question: 'please fail upstream', session_id: sessionId });
      const err = r.events[r.events.length - 2]!.json;
      expect(err).toMatchObject({ code: 500, data: { reference: [] } });
      expect(err.message).toContain('the GPU caught fire');
      expect(err.data.answer).toMatch(/^\*\*ERROR\*\*: /);
      expect(r.events[r.events.length - 1]!.raw).toBe('{"code": 0, "data": true}');
      const stalled = await sse(`/api/v1/chats/${chatId}/completions`, { question: 'stall upstream now', session_id: sessionId });
      const e2 = stalled.events[stalled.events.length - 2]!.json;
      expect(e2.code).toBe(500);
      expect(e2.message).toContain('did not answer within 1500 ms');
      const ns = await api.post(`/api/v1/chats/${chatId}/completions`, { question: 'please fail upstream', stream: false, session_id: sessionId });
      expect(ns.json.code).toBe(100);
      expect(ns.json.message).toContain('the GPU caught fire');
    });

    test('a client that disconnects mid-stream cancels the model call', async () => {
      const aborts = model.stats.clientAborts;
      const ctl = new AbortController();
      const res = await fetch(`${stack.baseUrl}/api/v1/chats/${chatId}/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ question: 'give me a long answer', session_id: sessionId }),
        signal: ctl.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      await reader.read();
      ctl.abort();
      const deadline = Date.now() + 5_000;
      while (model.stats.clientAborts === aborts && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(model.stats.clientAborts).toBe(aborts + 1);
    });

    test('errors before streaming are plain JSON', async () => {
      expect((await api.post(`/api/v1/chats/${'0'.repeat(32)}/completions`, { question: 'q' })).json).toEqual({ code: 102, message: `You don't own the chat ${'0'.repeat(32)}` });
      expect((await api.post(`/api/v1/chats/${chatId}/completions`, { question: 'q', session_id: 'nope' })).json).toEqual({ code: 102, message: "You don't own the session nope" });
    });

    test('sessions/ask: one question over datasets, no assistant', async () => {
      const r = await sse('/api/v1/sessions/ask', { question: 'What do foxes eat?', dataset_ids: [datasetId] });
      const last = r.events[r.events.length - 2]!.json;
      expect(last).toMatchObject({ code: 0, message: '' });
      expect(last.data.answer).toContain('Foxes are small omnivorous mammals');
      expect(last.data.reference.chunks[0].document_name).toBe('foxes.txt');
      expect(r.events[r.events.length - 1]!.raw).toBe('{"code": 0, "message": "", "data": true}');
      expect((await api.post('/api/v1/sessions/ask', { question: 'x', dataset_ids: ['0'.repeat(32)] })).json).toEqual({ code: 102, message: `You don't own the dataset ${'0'.repeat(32)}.` });
    });

    test('related questions come from the model', async () => {
      const r = await api.post('/api/v1/sessions/related_questions', { question: 'fox', industry: 'zoology' });
      expect(r.json).toEqual({ code: 0, data: ['fox diet', 'fox habitat', 'red fox behaviour', 'omnivorous mammals', 'fox species'] });
      expect((await api.post('/api/v1/sessions/related_questions', {})).json).toEqual({ code: 102, message: '`question` is required.' });
    });

    test('7.4 delete sessions', async () => {
      const s = await api.post(`/api/v1/chats/${chatId}/sessions`, {});
      expect((await api.del(`/api/v1/chats/${chatId}/sessions`, { ids: [s.json.data.id] })).json).toEqual({ code: 0 });
      expect((await api.del(`/api/v1/chats/${chatId}/sessions`, { ids: [s.json.data.id] })).json).toEqual({ code: 102, message: `The chat doesn't own the session ${s.json.data.id}` });
    });
  });

  describe('OpenAI-compatible route (seed 001 §2) with the openai npm client', () => {
    const client = () => new OpenAI({ apiKey: stack.apiKey, baseURL: `${stack.baseUrl}/api/v1/chats_openai/${chatId}` });

    test('stream=True: chunks, usage, [DONE]', async () => {
      const stream = await client().chat.completions.create({
        model: 'deepseek-r1:1.5b',
        messages: [
          { role: 'system', content: '你是一个乐于助人的助手' },
          { role: 'user', content: 'What do foxes eat?' },
        ],
        stream: true,
      });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        expect(chunk.id).toBe(`chatcmpl-${chatId}`);
        expect(chunk.object).toBe('chat.completion.chunk');
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      expect(text).toContain('Foxes are small omnivorous mammals');
      expect(text).not.toMatch(/##\d/);
      expect(finish).toBe('stop');
      expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
      expect(usage!.completion_tokens).toBeGreaterThan(0);
      // system messages are dropped: the model saw the assistant's own system prompt
      expect((model.bodies.at(-1) as Body).messages[0]!.content).not.toContain('乐于助人');
    });

    test('stream=False with extra_body.reference, on the current alias', async () => {
      const c = new OpenAI({ apiKey: stack.apiKey, baseURL: `${stack.baseUrl}/api/v1/openai/${chatId}` });
      const r = await c.chat.completions.create({ model: 'model', messages: [{ role: 'user', content: 'What do foxes eat?' }], stream: false, extra_body: { reference: true } } as never);
      const completion = r as unknown as OpenAI.ChatCompletion & { choices: { message: { reference: { document_name: string }[] } }[] };
      expect(completion.object).toBe('chat.completion');
      expect(completion.choices[0]!.message.content).toContain('Foxes are small omnivorous mammals');
      expect(completion.choices[0]!.message.content).toMatch(/##0\$\$/);
      expect(completion.choices[0]!.message.reference[0]!.document_name).toBe('foxes.txt');
      expect(completion.usage!.completion_tokens_details).toMatchObject({ reasoning_tokens: 0, rejected_prediction_tokens: 0 });
    });

    test('reasoning goes to delta.reasoning_content (seed 001 §2 uses deepseek-r1)', async () => {
      for (const q of ['Do foxes think first?', 'Do foxes think separately?']) {
        const stream = await client().chat.completions.create({ model: 'deepseek-r1:1.5b', messages: [{ role: 'user', content: q }], stream: true });
        let content = '';
        let reasoning = '';
        for await (const chunk of stream) {
          const d = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string | null } | undefined;
          content += d?.content ?? '';
          reasoning += d?.reasoning_content ?? '';
        }
        expect(content).toBe('Foxes eat rodents.');
        expect(reasoning).toBe(q.includes('first') ? 'Let me think.' : 'Hmm, foxes.');
      }
      const r = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Do foxes think first?' }], stream: false });
      expect(r.choices[0]!.message.content).toBe('Foxes eat rodents.');
      expect((r.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toBe('Let me think.');
    });

    test('streamed reference and final_content in the last chunk', async () => {
      const r = await sse(`/api/v1/chats_openai/${chatId}/chat/completions`, { model: 'model', messages: [{ role: 'user', content: 'What do foxes eat?' }], stream: true, extra_body: { reference: true } });
      expect(r.events[r.events.length - 1]!.raw).toBe('[DONE]');
      const last = r.events[r.events.length - 2]!.json;
      expect(last.choices[0]).toMatchObject({ finish_reason: 'stop', delta: { content: null, role: 'assistant' } });
      expect(last.choices[0].delta.final_content).toContain('Foxes are small omnivorous mammals');
      expect(last.choices[0].delta.reference[0].document_name).toBe('foxes.txt');
      expect(last.usage.total_tokens).toBeGreaterThan(0);
    });

    test('validation messages', async () => {
      const p = `/api/v1/chats_openai/${chatId}/chat/completions`;
      expect((await api.post(p, { messages: [{ role: 'user', content: 'x' }] })).json).toEqual({ code: 101, message: 'required argument are missing: model; ', data: null });
      expect((await api.post(p, {})).json).toEqual({ code: 101, message: 'required argument are missing: model,messages; ', data: null });
      expect((await api.post(p, { model: 'm', messages: [] })).json).toEqual({ code: 102, message: 'You have to provide messages.' });
      expect((await api.post(p, { model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }] })).json).toEqual({
        code: 102,
        message: 'The last content of this conversation is not from user.',
      });
      expect((await api.post(p, { model: 'm', messages: [{ role: 'user', content: 'x' }], extra_body: 'no' })).json).toEqual({ code: 102, message: 'extra_body must be an object.' });
      expect((await api.post(`/api/v1/chats_openai/${'0'.repeat(32)}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] })).json).toEqual({
        code: 102,
        message: `You don't own the chat ${'0'.repeat(32)}`,
      });
    });
  });
});

describe("a turn's retrieval starts while its chat loads (speculation on the chat's last plan)", () => {
  async function speculation(): Promise<Record<string, number>> {
    const text = await (await fetch(`${stack.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${stack.apiKey}` } })).text();
    const out: Record<string, number> = { used: 0, discarded: 0, failed: 0, behind: 0 };
    for (const m of text.matchAll(/^ragnest_chat_retrieval_speculation_total\{outcome="(\w+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  }

  async function ask(chatId: string, question: string): Promise<string> {
    const s = await api.post(`/api/v1/chats/${chatId}/sessions`, {});
    const r = await sse(`/api/v1/chats/${chatId}/completions`, { question, stream: false, session_id: s.json.data.id });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(body.code).toBe(0);
    return body.data.answer as string;
  }

  test('used when the loaded chat plans the same retrieval, dropped when its settings changed', async () => {
    const c = await api.post('/api/v1/chats', sdkCreateBody('Speculator', [datasetId]));
    const chatId = c.json.data.id as string;
    const before = await speculation();

    // the first turn has no plan to speculate on
    expect(await ask(chatId, 'What do foxes eat?')).toContain('Foxes are small omnivorous mammals');
    expect(await speculation()).toEqual(before);

    // the next one retrieves, on the last plan, for its own question
    expect(await ask(chatId, 'Which lake is the deepest in the world?')).toContain('Lake Baikal in Siberia is the deepest lake');
    expect(await speculation()).toEqual({ ...before, used: before.used! + 1 });

    // a stricter threshold: the speculation ran with the old one and is not used
    expect((await api.put(`/api/v1/chats/${chatId}`, { prompt: { similarity_threshold: 0.99 } })).json.code).toBe(0);
    // (nothing passes 0.99: the chat's empty response)
    expect(await ask(chatId, 'Which lake is the deepest in the world?')).toBe('Sorry! No relevant content was found in the knowledge base!');
    expect(await speculation()).toEqual({ ...before, used: before.used! + 1, discarded: before.discarded! + 1 });

    // the dataset list changed (datasets are the chat's, checked with the chat row): not used either
    const other = await api.post('/api/v1/datasets', { name: 'kb_speculation' });
    const up = await api.upload(other.json.data.id, [{ name: 'owls.txt', content: 'Owls hunt at night and swallow their prey whole.' }]);
    await api.post(`/api/v1/datasets/${other.json.data.id}/chunks`, { document_ids: [up.json.data[0].id] });
    await api.waitParsed(other.json.data.id, [up.json.data[0].id]);
    expect((await api.put(`/api/v1/chats/${chatId}`, { dataset_ids: [other.json.data.id], prompt: { similarity_threshold: 0.2 } })).json.code).toBe(0);
    expect(await ask(chatId, 'When do owls hunt?')).toContain('Owls hunt at night');
    expect(await speculation()).toEqual({ ...before, used: before.used! + 1, discarded: before.discarded! + 2 });
  }, 60_000);

  test('the OpenAI-compatible route too; a refined multi-turn question is not the speculated one', async () => {
    const c = await api.post('/api/v1/chats', sdkCreateBody('Speculator 2', [datasetId]));
    const client = new OpenAI({ apiKey: stack.apiKey, baseURL: `${stack.baseUrl}/api/v1/chats_openai/${c.json.data.id}` });
    const before = await speculation();
    const first = await client.chat.completions.create({ model: 'model', messages: [{ role: 'user', content: 'What do foxes eat?' }], stream: false });
    expect(first.choices[0]!.message.content).toContain('Foxes are small omnivorous mammals');
    const second = await client.chat.completions.create({ model: 'model', messages: [{ role: 'user', content: 'Which lake is the deepest in the world?' }], stream: false });
    expect(second.choices[0]!.message.content).toContain('Lake Baikal in Siberia is the deepest lake');
    expect(await speculation()).toEqual({ ...before, used: before.used! + 1 });
    // two user turns: the question is refined by the model first (the test model rewrites it as the foxes question)
    const refined = await client.chat.completions.create({
      model: 'model',
      messages: [
        { role: 'user', content: 'Which lake is the deepest in the world?' },
        { role: 'assistant', content: 'Lake Baikal.' },
        { role: 'user', content: 'And what do they eat?' },
      ],
      stream: false,
    });
    expect(refined.choices[0]!.message.content).toContain('Foxes are small omnivorous mammals');
    expect(await speculation()).toEqual({ ...before, used: before.used! + 1, discarded: before.discarded! + 1 });
  }, 60_000);

  test("a chunk added just before a turn is in its retrieval: the speculation counts only if its index had reached the chat's feed head", async () => {
    const ds = await api.post('/api/v1/datasets', { name: 'kb_speculation_feed' });
    const dsId = ds.json.data.id as string;
    const up = await api.upload(dsId, [{ name: 'newts.txt', content: 'Newts are amphibians that live both in water and on land.' }]);
    const docId = up.json.data[0].id as string;
    await api.post(`/api/v1/datasets/${dsId}/chunks`, { document_ids: [docId] });
    await api.waitParsed(dsId, [docId]);
    const c = await api.post('/api/v1/chats', sdkCreateBody('Speculator 3', [dsId]));
    const chatId = c.json.data.id as string;
    expect(await ask(chatId, 'Where do newts live?')).toContain('Newts are amphibians');
    const before = await speculation();
    // acknowledged before the next question is sent: the index feed's head moves past what the retrieval
    // service has applied (it catches up on its timer, or when a checked search asks for the head)
    const added = await api.post(`/api/v1/datasets/${dsId}/documents/${docId}/chunks`, { content: 'Axolotls regrow lost limbs within a few weeks.' });
    expect(added.json.code).toBe(0);
    // the speculation (on the chat's last plan) ran first; whether it had caught up or not, the answer has the new chunk
    expect(await ask(chatId, 'What do axolotls regrow?')).toContain('Axolotls regrow lost limbs');
    const after = await speculation();
    expect(after.used! + after.behind! - before.used! - before.behind!).toBe(1);
    expect(after.discarded).toBe(before.discarded);
  }, 60_000);
});
