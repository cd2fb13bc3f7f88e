import type { BeginInput } from '@ragnest/agent';

/** Body keys of the completion routes that are never Begin variables. */
const RESERVED = new Set(['question', 'query', 'stream', 'session_id', 'user_id', 'inputs', 'files', 'return_trace', 'custom_header', 'id', 'agent_id', 'release']);

/**
 * Begin input values of a request: `inputs: {key: {type, value}}` (classic API) or `inputs: {key: value}`, and,
 * as seed 002 and seed 000 send them, top-level keys named like a Begin input.
 */
export function beginValues(declared: BeginInput[], body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = body.inputs && typeof body.inputs === 'object' && !Array.isArray(body.inputs) ? (body.inputs as Record<string, unknown>) : {};
  for (const inp of declared) {
    let v = given[inp.key];
    if (v && typeof v === 'object' && !Array.isArray(v) && 'value' in v) v = (v as { value: unknown }).value;
    if (v === undefined && !RESERVED.has(inp.key)) v = body[inp.key];
    if (v !== undefined && v !== null) out[inp.key] = v;
  }
  return out;
}
