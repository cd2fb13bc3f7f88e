/**
 * Agents with RAGFLOW_COMPAT=current: the v0.24 agent event format, read the way ragflow-sdk ≥ 0.20's agent
 * `Session.ask` reads it (its loop, transcribed below), and the current list shape.
 */
import { RagflowHttp, startStack, type Stack } from '@ragnest/testkit';

let stack: Stack;
let api: RagflowHttp;
let agentId = '';

const node = (name: string, downstream: string[], params: Record<string, unknown> = {}) => ({ obj: { component_name: name, params }, downstream, upstream: [] });

/** Begin (one input) → Switch on it → one of two Messages that quote the question and the input. */
const dsl = {
  components: {
    begin: node('Begin', ['Switch:S'], { prologue: 'Hello.', inputs: { tone: { name: 'Tone', type: 'line', optional: true, value: 'plain' } } }),
    'Switch:S': node('Switch', [], {
      conditions: [{ logical_operator: 'and', items: [{ cpn_id: 'begin@tone', operator: '=', value: 'loud' }], to: ['Message:Loud'] }],
      end_cpn_ids: ['Message:Plain'],
    }),
    'Message:Loud': node('Message', [], { content: ['YOU ASKED: {sys.query}'] }),
    'Message:Plain': node('Message', [], { content: ['You asked: {sys.query} ({begin@tone})'] }),
  },
};

beforeAll(async () => {
  stack = await startStack({ label: 'agents-current', env: { RAGFLOW_COMPAT: 'current' } });
  api = new RagflowHttp(stack.baseUrl, stack.apiKey);
  expect((await api.post('/api/v1/agents', { title: 'switcher', dsl })).json.code).toBe(0);
  const list = await api.get('/api/v1/agents?title=switcher');
  expect(list.json.data.total).toBe(1);
  agentId = list.json.data.canvas[0].id;
});
afterAll(async () => {
  await stack?.stop();
});

async function completions(body: Record<string, unknown>) {
  return fetch(`${stack.baseUrl}/api/v1/agents/${agentId}/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** ragflow-sdk ≥ 0.20 Session.ask for agents, stream=True: `data:` lines, [DONE], stop at message_end, yield data.content. */
function sdkAsk(text: string): string[] {
  const out: string[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (!line) continue;
    line = line.trim();
    let content = line;
    if (line.startsWith('data:')) {
      content = line.slice(5).trim();
      if (content === '[DONE]') break;
    }
    let json: { event?: string; data: { content: string } };
    try {
      json = JSON.parse(content);
    } catch {
      continue;
    }
    if (json.event === 'message_end') return out;
    out.push(json.data.content);
  }
  return out;
}

test('v0.24 events: message deltas, message_end with the reference, [DONE]; the SDK loop reads the answer', async () => {
  const s = await api.post(`/api/v1/agents/${agentId}/sessions`, {});
  const res = await completions({ question: 'what is new', stream: true, session_id: s.json.data.id });
  const text = await res.text();
  const lines = text.split('\n\n').filter(Boolean);
  expect(lines.at(-1)).toBe('data:[DONE]');
  const events = lines.slice(0, -1).map((l) => JSON.parse(l.slice(5)));
  expect(events.map((e) => e.event)).toEqual(['message', 'message_end']);
  expect(events[0]).toMatchObject({ session_id: s.json.data.id, data: { content: 'You asked: what is new (plain)' } });
  expect(events[1].data.reference).toEqual({ total: 0, chunks: [], doc_aggs: [] });
  expect(sdkAsk(text).join('')).toBe('You asked: what is new (plain)');
});

test('the Begin input picks the Switch branch; non-stream returns the last event with the whole content; trace on request', async () => {
  const r = await api.post(`/api/v1/agents/${agentId}/completions`, { question: 'hi', stream: false, inputs: { tone: { type: 'line', value: 'loud' } }, return_trace: true });
  expect(r.json.code).toBe(0);
  expect(r.json.data).toMatchObject({ event: 'message', data: { content: 'YOU ASKED: hi' } });
  expect(r.json.data.data.trace.map((t: { component_id: string }) => t.component_id)).toEqual(['begin', 'Switch:S', 'Message:Loud']);
  const traced = await (await completions({ question: 'hi', return_trace: true })).text();
  expect(traced).toContain('"event":"node_finished"');
});

test('the v0.25+ route POST /api/v1/agents/chat/completions (agent_id in the body, stream defaults to false)', async () => {
  const r = await api.post('/api/v1/agents/chat/completions', { agent_id: agentId, query: 'ping', inputs: { tone: 'loud' } });
  expect(r.json).toMatchObject({ code: 0, data: { event: 'message', data: { content: 'YOU ASKED: ping' } } });
  const oa = await api.post('/api/v1/agents/chat/completions', { agent_id: agentId, 'openai-compatible': true, model: 'm', messages: [{ role: 'user', content: 'ping' }] });
  expect(oa.json).toMatchObject({ object: 'chat.completion', model: agentId, choices: [{ message: { content: 'You asked: ping (plain)' } }] });
  expect((await api.post('/api/v1/agents/chat/completions', { query: 'x' })).json).toEqual({ code: 102, message: '`agent_id` is required.' });
});
