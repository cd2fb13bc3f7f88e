import { COMPONENTS, unsupportedReason } from './components/index.js';
import type { ComponentRun } from './components/types.js';
import { RunContext } from './context.js';
import { branchTargets, type LoadedDsl } from './dsl.js';
import { LazyText } from './lazy-text.js';
import { AgentRunError, type AgentEvent, type RunDeps, type RunInput, type RunResult } from './types.js';

/** A run that goes on longer than this is a loop in the DSL, not a conversation turn. */
export const MAX_STEPS = 100;

export const SUPPORTED_COMPONENTS = Object.keys(COMPONENTS);

/** Components reachable from begin (downstream edges and branch targets). */
function reachable(dsl: LoadedDsl): string[] {
  const seen = new Set<string>(['begin']);
  const todo = ['begin'];
  while (todo.length) {
    const c = dsl.components.get(todo.pop()!);
    if (!c) continue;
    for (const n of [...c.downstream, ...branchTargets(c)]) {
      if (!seen.has(n)) {
        seen.add(n);
        todo.push(n);
      }
    }
  }
  return [...seen];
}

/** Refuses, before anything runs, a canvas that reaches a component this runtime does not run (never skips it). */
export function assertRunnable(dsl: LoadedDsl): void {
  for (const id of reachable(dsl)) {
    const c = dsl.components.get(id)!;
    if (!COMPONENTS[c.name]) {
      throw new AgentRunError(
        `The agent uses the component "${c.name}" (id "${id}"), which this server cannot run yet. Supported components: ${SUPPORTED_COMPONENTS.join(', ')}.`,
        id,
      );
    }
    const why = unsupportedReason(c.name, c.params);
    if (why) throw new AgentRunError(`The agent's ${c.name} component (id "${id}") ${why}.`, id);
  }
}

function plain(outputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v instanceof LazyText ? v.current : v]));
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs one conversation turn of a canvas: components in path order from begin (RAGFlow's path-extension
 * scheduler, one at a time), branches following Categorize/Switch, Message/Answer streamed as `message`
 * events. Aborting `deps.signal` stops the run and the model call in flight.
 */
export async function* runAgent(dsl: LoadedDsl, input: RunInput, deps: RunDeps): AsyncGenerator<AgentEvent, RunResult> {
  assertRunnable(dsl);
  const ctx = new RunContext(dsl, input, deps);
  const queue: { id: string; from: string | undefined }[] = [{ id: 'begin', from: undefined }];
  let answer = '';
  let steps = 0;
  let last: Record<string, unknown> = {};
  while (queue.length) {
    deps.signal.throwIfAborted();
    const { id, from } = queue.shift()!;
    if (++steps > MAX_STEPS) throw new AgentRunError(`The agent ran more than ${MAX_STEPS} components in one turn; the DSL has a loop with no way out.`, id);
    const c = dsl.components.get(id)!;
    const impl = COMPONENTS[c.name]!;
    yield { type: 'node_started', componentId: id, componentName: c.name };
    const t0 = performance.now();
    let run: ComponentRun;
    try {
      run = await impl(c, ctx, from);
      if (run.message) {
        let said = '';
        let pending = ''; // adjacent literal pieces go out as one event
        for (const seg of run.message) {
          if (typeof seg === 'string') {
            pending += seg;
            continue;
          }
          if (pending) {
            said += pending;
            yield { type: 'message', text: pending };
            pending = '';
          }
          for await (const piece of seg.stream()) {
            said += piece;
            yield { type: 'message', text: piece };
          }
        }
        if (pending) {
          said += pending;
          yield { type: 'message', text: pending };
        }
        run.outputs.content = said;
        answer += said;
        yield { type: 'message_end', reference: ctx.reference };
      }
    } catch (e) {
      yield { type: 'node_finished', componentId: id, componentName: c.name, elapsedMs: performance.now() - t0, outputs: {}, error: errorText(e) };
      throw e;
    }
    ctx.outputs.set(id, run.outputs);
    last = run.outputs;
    yield { type: 'node_finished', componentId: id, componentName: c.name, elapsedMs: performance.now() - t0, outputs: plain(run.outputs), error: null };
    if (run.stop) break;
    for (const n of run.next ?? c.downstream) if (!queue.some((q) => q.id === n)) queue.push({ id: n, from: id });
  }
  return { answer, reference: ctx.reference, usage: ctx.usage, outputs: plain(last) };
}
