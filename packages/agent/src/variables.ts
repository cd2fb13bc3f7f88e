import { LazyText } from './lazy-text.js';

/**
 * Variable references in component params (internals §5): `{component_id@output[.path]}`, `{sys.query}`,
 * `{env.X}`; legacy DSLs also write `{component_id}` (its main output) and `{input}` (Generate).
 */
const REF = /\{\s*([A-Za-z0-9_:-]+@[A-Za-z0-9_.-]+|sys\.[A-Za-z0-9_.]+|env\.[A-Za-z0-9_.]+|[A-Za-z0-9_:-]+)\s*\}/g;

/** A reference without braces, as Switch items and Retrieval `query` write it ("sys.query", "begin@lang"). */
export const BARE_REF = /^([A-Za-z0-9_:-]+@[A-Za-z0-9_.-]+|sys\.[A-Za-z0-9_.]+|env\.[A-Za-z0-9_.]+)$/;

export type Segment = string | LazyText;

export interface Scope {
  /** value of a reference, or undefined when the name is not a reference here (the text is then kept as written) */
  lookup(ref: string): unknown;
}

function walk(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur && typeof cur === 'object' && !(cur instanceof LazyText)) cur = (cur as Record<string, unknown>)[key];
    else return undefined;
  }
  return cur;
}

/** Resolves `cid@out.path` against component outputs. */
export function outputAt(outputs: ReadonlyMap<string, Record<string, unknown>>, ref: string): { known: boolean; value: unknown } {
  const at = ref.indexOf('@');
  if (at < 0) return { known: false, value: undefined };
  const cid = ref.slice(0, at);
  const [out, ...path] = ref.slice(at + 1).split('.');
  const o = outputs.get(cid);
  if (!o) return { known: false, value: undefined };
  return { known: true, value: walk(o[out!], path) };
}

/** Splits a template into literal text and referenced values (LazyText kept as is so it can be streamed). */
export function interpolate(template: string, scope: Scope): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of template.matchAll(REF)) {
    const value = scope.lookup(m[1]!);
    if (value === undefined) continue;
    if (m.index > last) out.push(template.slice(last, m.index));
    out.push(value instanceof LazyText ? value : stringify(value));
    last = m.index + m[0].length;
  }
  if (last < template.length) out.push(template.slice(last));
  return out;
}

export async function interpolateText(template: string, scope: Scope): Promise<string> {
  const parts = interpolate(template, scope);
  let s = '';
  for (const p of parts) s += typeof p === 'string' ? p : await p.text();
  return s;
}

export async function valueText(value: unknown): Promise<string> {
  return value instanceof LazyText ? value.text() : stringify(value);
}

export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof LazyText) return value.current;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('\n');
  return JSON.stringify(value);
}
