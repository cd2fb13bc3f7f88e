import type { LlmUsage } from '@ragnest/llm';
import type { LoadedComponent, LoadedDsl } from './dsl.js';
import { LazyText } from './lazy-text.js';
import type { AgentReference, RunDeps, RunInput } from './types.js';
import { outputAt, type Scope } from './variables.js';

/** What one run of a canvas knows: component outputs so far, the merged reference, token usage. */
export class RunContext implements Scope {
  readonly outputs = new Map<string, Record<string, unknown>>();
  readonly reference: AgentReference = { total: 0, chunks: [], doc_aggs: [] };
  readonly usage: LlmUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  readonly startedAt = new Date();

  constructor(
    readonly dsl: LoadedDsl,
    readonly input: RunInput,
    readonly deps: RunDeps,
  ) {}

  get signal(): AbortSignal {
    return this.deps.signal;
  }

  lookup(ref: string): unknown {
    if (ref.startsWith('sys.')) return this.sys(ref.slice(4));
    if (ref.startsWith('env.')) {
      const g = this.dsl.globals;
      return g[ref] ?? (g.env && typeof g.env === 'object' ? (g.env as Record<string, unknown>)[ref.slice(4)] : undefined) ?? '';
    }
    if (ref.includes('@')) {
      const r = outputAt(this.outputs, ref);
      if (r.known) return r.value ?? '';
      // a component that exists but has not run in this turn (another branch): empty, as RAGFlow renders it
      return this.dsl.components.has(ref.slice(0, ref.indexOf('@'))) ? '' : undefined;
    }
    if (this.dsl.components.has(ref)) return this.mainOutput(ref);
    return undefined;
  }

  private sys(name: string): unknown {
    switch (name) {
      case 'query':
        return this.input.query;
      case 'user_id':
        return this.input.userId;
      case 'conversation_turns':
        return this.input.history.filter((m) => m.role === 'user').length + 1;
      case 'history':
        return this.input.history.map((m) => `${m.role.toUpperCase()}: ${m.content}`).join('\n');
      case 'date':
        return this.startedAt.toISOString().slice(0, 19).replace('T', ' ');
      case 'files':
        return [];
      default:
        return undefined;
    }
  }

  /** The output a legacy `{component_id}` reference means. */
  mainOutput(id: string): unknown {
    const o = this.outputs.get(id);
    if (!o) return '';
    for (const key of ['content', 'formalized_content', 'category_name']) if (o[key] !== undefined) return o[key];
    return '';
  }

  /** Adds retrieved chunks to the run's reference; returns each chunk's citation index. */
  addReference(res: AgentReference): number[] {
    const indexes = res.chunks.map((c) => {
      const at = this.reference.chunks.findIndex((x) => x.id === c.id);
      if (at >= 0) return at;
      this.reference.chunks.push(c);
      return this.reference.chunks.length - 1;
    });
    for (const agg of res.doc_aggs) {
      const have = this.reference.doc_aggs.find((d) => d.doc_id === agg.doc_id);
      if (have) have.count += agg.count;
      else this.reference.doc_aggs.push({ ...agg });
    }
    this.reference.total = this.reference.chunks.length;
    return indexes;
  }

  addUsage(u: LlmUsage): void {
    this.usage.promptTokens += u.promptTokens;
    this.usage.completionTokens += u.completionTokens;
    this.usage.totalTokens += u.totalTokens;
  }

  component(id: string): LoadedComponent | undefined {
    return this.dsl.components.get(id);
  }
}

export { LazyText };
