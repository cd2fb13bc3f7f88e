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
  Answer: answer,
  Message: message,
  Categorize: categorize,
  Switch: switchComponent,
};

export { beginInputs, prologue, type BeginInput } from './begin.js';
export { compare } from './switch.js';
export { pickCategory } from './categorize.js';
export type { ComponentImpl, ComponentRun } from './types.js';
