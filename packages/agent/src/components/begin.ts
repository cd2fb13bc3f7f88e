import { AgentRunError } from '../types.js';
import type { ComponentImpl } from './types.js';

export interface BeginInput {
  key: string;
  name: string;
  type: string;
  optional: boolean;
  value?: unknown;
  options?: unknown;
}

/** Begin inputs: current DSLs keep `params.inputs` ({key: {name, type, optional, value}}), legacy ones `params.query` ([{key, …}]). */
export function beginInputs(params: Record<string, unknown>): BeginInput[] {
  const out: BeginInput[] = [];
  const add = (key: string, v: Record<string, unknown>) =>
    out.push({
      key,
      name: typeof v.name === 'string' ? v.name : key,
      type: typeof v.type === 'string' ? v.type : 'line',
      optional: v.optional === true,
      ...(v.value !== undefined ? { value: v.value } : {}),
      ...(v.options !== undefined ? { options: v.options } : {}),
    });
  if (params.inputs && typeof params.inputs === 'object' && !Array.isArray(params.inputs)) {
    for (const [key, v] of Object.entries(params.inputs as Record<string, unknown>)) if (v && typeof v === 'object') add(key, v as Record<string, unknown>);
  }
  if (Array.isArray(params.query)) {
    for (const v of params.query) {
      if (v && typeof v === 'object' && typeof (v as { key?: unknown }).key === 'string') add((v as { key: string }).key, v as Record<string, unknown>);
    }
  }
  return out;
}

export function prologue(params: Record<string, unknown>): string {
  return typeof params.prologue === 'string' ? params.prologue : "Hi! I'm your smart assistant. What can I do for you?";
}

/** Begin: its outputs are the input variables (`{begin@key}`), from the request or the defaults in the DSL. */
export const begin: ComponentImpl = async (c, ctx) => {
  const outputs: Record<string, unknown> = {};
  for (const inp of beginInputs(c.params)) {
    const given = ctx.input.inputs[inp.key];
    const value = given !== undefined && given !== null && given !== '' ? given : inp.value;
    if ((value === undefined || value === null || value === '') && !inp.optional) {
      throw new AgentRunError(`The Begin input "${inp.key}" (${inp.name}) is required.`, c.id);
    }
    outputs[inp.key] = value ?? '';
  }
  return { outputs };
};
