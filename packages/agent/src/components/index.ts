import { begin } from './begin.js';
import { categorize } from './categorize.js';
import { llm } from './llm.js';
import { answer, message } from './message.js';
import { retrieval } from './retrieval.js';
import { switchComponent } from './switch.js';
import type { ComponentImpl } from './types.js';

/** The components this runtime runs, by RAGFlow component_name (legacy and current names). */
export const COMPONENTS: Readonly<Record<string, ComponentImpl>> = {
  Begin: begin,
  Retrieval: retrieval,
  Generate: llm,
  LLM: llm,
  // an Agent without tools is an LLM call; one with tools is refused before the run (see unsupportedReason)
  Agent: llm,
  Answer: answer,
  Message: message,
  Categorize: categorize,
  Switch: switchComponent,
};

/** Why a component whose name we run cannot run with these params (null = it can). */
export function unsupportedReason(name: string, params: Record<string, unknown>): string | null {
  if (name === 'Agent') {
    const tools = [...(Array.isArray(params.tools) ? params.tools : []), ...(Array.isArray(params.mcp) ? params.mcp : [])];
    if (tools.length) {
      const names = tools.map((t) => (t && typeof t === 'object' ? String((t as { component_name?: unknown; name?: unknown }).component_name ?? (t as { name?: unknown }).name ?? '?') : String(t)));
      return `uses tools (${names.join(', ')}); tool calling is not supported yet, only an Agent without tools (a plain LLM call)`;
    }
  }
  return null;
}

export { beginInputs, prologue, type BeginInput } from './begin.js';
export { compare } from './switch.js';
export { pickCategory } from './categorize.js';
export type { ComponentImpl, ComponentRun } from './types.js';
