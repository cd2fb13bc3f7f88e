import { toLegacyMarkers, type AgentEvent, type AgentReference, type RunResult } from '@ragnest/agent';

/** Ids and times an answer's events share. */
export interface TurnMeta {
  agentId: string;
  sessionId: string;
  messageId: string;
  createdAt: number;
}

/**
 * One wire dialect of an agent turn: SSE frames per runtime event, the last frames, the frames after a failure,
 * and the one JSON body of a non-streamed turn.
 */
export interface AgentWire {
  event(e: AgentEvent, answerSoFar: string): string[];
  end(result: RunResult): string[];
  error(message: string): string[];
  body(result: RunResult): Record<string, unknown>;
}

/** `data:` + JSON + blank line: RAGFlow's framing (no space after the colon). */
export const frame = (payload: unknown) => `data:${JSON.stringify(payload)}\n\n`;
const ERROR_PREFIX = '**ERROR**: ';
/** characters of new text before a cumulative event is sent again (the last event always has everything) */
export const CUMULATIVE_STEP = 48;
const emptyReference = (): AgentReference => ({ total: 0, chunks: [], doc_aggs: [] });

/**
 * Seed 002's agent completions (the default): every event carries the whole answer so far (`##n$$` citation
 * markers), the last one the reference, then `data:{"code":0,"message":"","data":true}`.
 */
export function classicWire(m: TurnMeta, minStep = CUMULATIVE_STEP): AgentWire {
  const data = (answer: string, reference: unknown) => ({ answer: toLegacyMarkers(answer), reference, id: m.messageId, session_id: m.sessionId });
  let sent = 0;
  return {
    event: (e, soFar) => {
      // every event repeats the whole answer, so small model deltas are gathered (RAGFlow sent one per ~16 tokens)
      if (e.type !== 'message' || soFar.length - sent < minStep) return [];
      sent = soFar.length;
      return [frame({ code: 0, message: '', data: data(soFar, {}) })];
    },
    end: (r) => [frame({ code: 0, message: '', data: data(r.answer, r.reference) }), frame({ code: 0, message: '', data: true })],
    error: (msg) => [frame({ code: 500, message: msg, data: { answer: ERROR_PREFIX + msg, reference: [] } }), frame({ code: 0, message: '', data: true })],
    body: (r) => ({ code: 0, data: data(r.answer, r.reference) }),
  };
}

/**
 * RAGFlow v0.24 (RAGFLOW_COMPAT=current): `message` events with text deltas, `message_end` with the reference,
 * `node_finished` when the request asks for a trace, then `data:[DONE]`.
 */
export function eventWire(m: TurnMeta, returnTrace: boolean): AgentWire {
  const head = (event: string) => ({ event, message_id: m.messageId, created_at: m.createdAt, task_id: m.agentId, session_id: m.sessionId });
  const trace: Record<string, unknown>[] = [];
  return {
    event: (e) => {
      if (e.type === 'message') return [frame({ ...head('message'), data: { content: e.text, start_to_think: false, end_to_think: false } })];
      if (e.type === 'message_end') return [frame({ ...head('message_end'), data: { reference: e.reference, status: null, attachment: null } })];
      if (e.type === 'node_finished') {
        const d = { component_id: e.componentId, component_name: e.componentName, elapsed_time: e.elapsedMs / 1000, outputs: e.outputs, error: e.error };
        trace.push(d);
        return returnTrace ? [frame({ ...head('node_finished'), data: d })] : [];
      }
      return [];
    },
    end: () => ['data:[DONE]\n\n'],
    error: (msg) => [frame({ ...head('message'), code: 500, message: msg, data: { content: ERROR_PREFIX + msg } }), 'data:[DONE]\n\n'],
    body: (r) => ({
      code: 0,
      data: { ...head('message'), data: { content: r.answer, reference: r.reference, ...(returnTrace ? { trace } : {}) } },
    }),
  };
}

/**
 * `/agents/{id}/converse` (seed 000's client): each event carries only the new text, the last one the
 * reference, and the stream ends with `data:[DONE]`. The client stops on `[DONE]` and raises on a non-zero code.
 */
export function converseWire(m: TurnMeta): AgentWire {
  const data = (answer: string, reference: unknown) => ({ answer, reference, id: m.messageId, session_id: m.sessionId });
  return {
    event: (e) => (e.type === 'message' ? [frame({ code: 0, data: data(e.text, {}) })] : []),
    end: (r) => [frame({ code: 0, data: data('', r.reference) }), 'data:[DONE]\n\n'],
    error: (msg) => [frame({ code: 500, message: msg, data: { answer: ERROR_PREFIX + msg, reference: emptyReference() } }), 'data:[DONE]\n\n'],
    body: (r) => ({ code: 0, data: data(r.answer, r.reference) }),
  };
}

/**
 * `/agents_openai/{id}/chat/completions` (§10, agent variant): chat.completion chunks with `data: ` (a space),
 * chunk id = session id, model = agent id, the reference in the last delta when the agent retrieved anything.
 */
export function openaiWire(m: TurnMeta, model: string): AgentWire {
  const id = m.sessionId || `chatcmpl-${m.agentId}`;
  const chunk = (delta: Record<string, unknown>, finish: string | null, usage: unknown = null) => ({
    id,
    object: 'chat.completion.chunk',
    created: m.createdAt,
    model,
    system_fingerprint: '',
    usage,
    choices: [{ index: 0, finish_reason: finish, logprobs: null, delta: { role: 'assistant', function_call: null, tool_calls: null, reasoning_content: null, ...delta } }],
  });
  const line = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
  const usageOf = (r: RunResult) => ({ prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens, total_tokens: r.usage.totalTokens });
  return {
    event: (e) => (e.type === 'message' ? [line(chunk({ content: e.text }, null))] : []),
    end: (r) => [
      line(chunk({ content: null, ...(r.reference.chunks.length ? { reference: r.reference.chunks, final_content: r.answer } : {}) }, 'stop', usageOf(r))),
      'data: [DONE]\n\n',
    ],
    error: (msg) => [line(chunk({ content: ERROR_PREFIX + msg }, null)), line(chunk({ content: null }, 'stop')), 'data: [DONE]\n\n'],
    body: (r) => ({
      id,
      object: 'chat.completion',
      created: m.createdAt,
      model,
      usage: {
        ...usageOf(r),
        completion_tokens_details: { reasoning_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: 'stop',
          message: { role: 'assistant', content: r.answer, ...(r.reference.chunks.length ? { reference: r.reference.chunks } : {}) },
        },
      ],
    }),
  };
}
