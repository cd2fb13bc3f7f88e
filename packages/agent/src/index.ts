export { loadDsl, DslError, branchTargets, type CanvasDsl, type LoadedDsl, type LoadedComponent } from './dsl.js';
export { runAgent, assertRunnable, SUPPORTED_COMPONENTS, MAX_STEPS } from './runtime.js';
export { beginInputs, prologue, type BeginInput } from './components/index.js';
export { normaliseCitations, toLegacyMarkers, knowledgeBlock } from './knowledge.js';
export { LazyText } from './lazy-text.js';
export * from './types.js';
