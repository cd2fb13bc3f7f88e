import type { AgentEvent, AgentReference, RunResult } from '@ragnest/agent';
import { classicWire, converseWire, eventWire, openaiWire } from '../../src/agents/agent-wire.js';
import { beginValues } from '../../src/agents/inputs.js';

const meta = { agentId: 'a1', sessionId: 's1', messageId: 'm1', createdAt: 1700000000 };
const reference: AgentReference = {
  total: 1,
  chunks: [
    {
      id: 'c1',
      content: 'text',
      document_id: 'd1',
      document_name: 'd.txt',
      dataset_id: 'k1',
      image_id: '',
      positions: [],
      url: null,
      similarity: 0.5,
      vector_similarity: 0.4,
      term_similarity: 0.6,
      doc_type: '',
    },
  ],
  doc_aggs: [{ doc_name: 'd.txt', doc_id: 'd1', count: 1 }],
};
const result: RunResult = { answer: 'Hello [ID:0].', reference, usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 }, outputs: {} };
const msg = (text: string): AgentEvent => ({ type: 'message', text });
const parse = (frames: string[]) =>
  frames.map((f) => {
    expect(f.endsWith('\n\n')).toBe(true);
    const raw = f.replace(/^data: ?/, '').trim();
    return raw === '[DONE]' ? raw : JSON.parse(raw);
  });

describe('agent wire formats', () => {
  test('classic (seed 002): cumulative answers with ##n$$, reference on the last, then data:true', () => {
    const w = classicWire(meta, 5);
    expect(w.event(msg('Hel'), 'Hel')).toEqual([]); // under the step: gathered
    expect(parse(w.event(msg('lo [ID:'), 'Hello [ID:'))).toEqual([
      { code: 0, message: '', data: { answer: 'Hello [ID:', reference: {}, id: 'm1', session_id: 's1' } },
    ]);
    expect(w.event({ type: 'node_started', componentId: 'x', componentName: 'X' }, '')).toEqual([]);
    expect(parse(w.end(result))).toEqual([
      { code: 0, message: '', data: { answer: 'Hello ##0$$.', reference, id: 'm1', session_id: 's1' } },
      { code: 0, message: '', data: true },
    ]);
    expect(w.end(result)[1]).toBe('data:{"code":0,"message":"","data":true}\n\n');
    expect(parse(w.error('boom'))[0]).toEqual({ code: 500, message: 'boom', data: { answer: '**ERROR**: boom', reference: [] } });
    expect(w.body(result)).toEqual({ code: 0, data: { answer: 'Hello ##0$$.', reference, id: 'm1', session_id: 's1' } });
  });

  test('v0.24 events (RAGFLOW_COMPAT=current): message deltas, message_end with the reference, [DONE]', () => {
    const w = eventWire(meta, false);
    const head = { message_id: 'm1', created_at: 1700000000, task_id: 'a1', session_id: 's1' };
    expect(parse(w.event(msg('Hel'), 'Hel'))).toEqual([{ event: 'message', ...head, data: { content: 'Hel', start_to_think: false, end_to_think: false } }]);
    expect(parse(w.event({ type: 'message_end', reference }, ''))).toEqual([{ event: 'message_end', ...head, data: { reference, status: null, attachment: null } }]);
    const finished: AgentEvent = { type: 'node_finished', componentId: 'begin', componentName: 'Begin', elapsedMs: 5, outputs: {}, error: null };
    expect(w.event(finished, '')).toEqual([]);
    expect(w.end(result)).toEqual(['data:[DONE]\n\n']);
    expect(w.body(result)).toEqual({ code: 0, data: { event: 'message', ...head, data: { content: 'Hello [ID:0].', reference } } });
    const traced = eventWire(meta, true);
    expect(parse(traced.event(finished, ''))[0]).toMatchObject({ event: 'node_finished', data: { component_id: 'begin', elapsed_time: 0.005 } });
    expect((traced.body(result).data as { data: { trace: unknown[] } }).data.trace).toHaveLength(1);
  });

  test('converse: deltas, the reference on an empty last piece, then [DONE]', () => {
    const w = converseWire(meta);
    expect(parse(w.event(msg('Hel'), 'Hel'))).toEqual([{ code: 0, data: { answer: 'Hel', reference: {}, id: 'm1', session_id: 's1' } }]);
    expect(parse(w.end(result))).toEqual([{ code: 0, data: { answer: '', reference, id: 'm1', session_id: 's1' } }, '[DONE]']);
    expect(parse(w.error('boom'))[0]).toMatchObject({ code: 500, message: 'boom' });
  });

  test('openai: chunks with "data: ", usage and reference on the last, chat.completion body', () => {
    const w = openaiWire(meta, 'a1');
    expect(w.event(msg('Hi'), 'Hi')[0]!.startsWith('data: {')).toBe(true);
    const [chunk] = parse(w.event(msg('Hi'), 'Hi'));
    expect(chunk).toMatchObject({ id: 's1', object: 'chat.completion.chunk', model: 'a1', choices: [{ delta: { content: 'Hi', role: 'assistant' }, finish_reason: null }] });
    const [last, done] = parse(w.end(result));
    expect(last).toMatchObject({
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      choices: [{ finish_reason: 'stop', delta: { content: null, reference: reference.chunks, final_content: 'Hello [ID:0].' } }],
    });
    expect(done).toBe('[DONE]');
    expect(w.body(result)).toMatchObject({ id: 's1', object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'Hello [ID:0].', reference: reference.chunks } }] });
    expect(openaiWire({ ...meta, sessionId: '' }, 'a1').body(result).id).toBe('chatcmpl-a1');
  });
});

describe('Begin values from a request', () => {
  const declared = [
    { key: 'lang', name: 'Language', type: 'line', optional: false },
    { key: 'question', name: 'Q', type: 'line', optional: true },
  ];
  test('classic inputs {key: {type, value}}, plain values, and top-level keys (seed 002 / seed 000)', () => {
    expect(beginValues(declared, { inputs: { lang: { type: 'line', value: 'fr' } } })).toEqual({ lang: 'fr' });
    expect(beginValues(declared, { inputs: { lang: 'de' } })).toEqual({ lang: 'de' });
    expect(beginValues(declared, { lang: 'ja', other: 'ignored' })).toEqual({ lang: 'ja' });
    // a Begin variable named like a request field is only read from `inputs`
    expect(beginValues(declared, { question: 'the question' })).toEqual({});
  });
});
