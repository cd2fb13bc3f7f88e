import type { z } from 'zod';
import { argumentError } from '@ragnest/contracts';

/** Formats a value the way pydantic echoes it in messages (truncated to 128 chars). */
function show(v: unknown): string {
  let s: string;
  if (v === undefined) s = '{}';
  else if (typeof v === 'string') s = `'${v}'`;
  else if (v === null) s = 'None';
  else if (v === true) s = 'True';
  else if (v === false) s = 'False';
  else s = JSON.stringify(v) ?? String(v);
  return s.length > 128 ? `${s.slice(0, 128)}...` : s;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const k of path) {
    if (cur && typeof cur === 'object') cur = (cur as Record<PropertyKey, unknown>)[k];
    else return undefined;
  }
  return cur;
}

const quoteList = (vals: readonly unknown[]) => {
  const q = vals.map((v) => `'${String(v)}'`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
};

/** pydantic v2 wording for a zod issue. */
function pydanticMessage(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const v = valueAt(input, issue.path);
      if (v === undefined) return 'Field required';
      const expected = issue.expected;
      if (expected === 'string') return 'Input should be a valid string';
      if (expected === 'int' || expected === 'number') return Number.isFinite(v) ? 'Input should be a valid integer, got a number with a fractional part' : 'Input should be a valid integer';
      if (expected === 'boolean') return 'Input should be a valid boolean';
      if (expected === 'array') return 'Input should be a valid list';
      if (expected === 'object' || expected === 'record') return 'Input should be a valid dictionary';
      return issue.message;
    }
    case 'too_small':
      if (issue.origin === 'string') return `String should have at least ${issue.minimum} character${Number(issue.minimum) === 1 ? '' : 's'}`;
      if (issue.origin === 'array') return `List should have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'} after validation`;
      return `Input should be greater than ${issue.inclusive ? 'or equal to ' : ''}${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `String should have at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `List should have at most ${issue.maximum} items after validation`;
      return `Input should be less than ${issue.inclusive ? 'or equal to ' : ''}${issue.maximum}`;
    case 'invalid_value':
      return `Input should be ${quoteList(issue.values)}`;
    case 'unrecognized_keys':
      return 'Extra inputs are not permitted';
    default:
      return issue.message;
  }
}

/**
 * Validates like RAGFlow's pydantic models and fails with its message format:
 * `Field: <loc> - Message: <msg> - Value: <input>` joined by newlines.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const res = schema.safeParse(input);
  if (res.success) return res.data;
  const lines: string[] = [];
  for (const issue of res.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const loc = [...issue.path, key].map(String).join('.');
        lines.push(`Field: <${loc}> - Message: <Extra inputs are not permitted> - Value: <${show(valueAt(input, [...issue.path, key]))}>`);
      }
      continue;
    }
    const loc = issue.path.map(String).join('.');
    lines.push(`Field: <${loc}> - Message: <${pydanticMessage(issue, input)}> - Value: <${show(valueAt(input, issue.path))}>`);
  }
  throw argumentError(lines.join('\n'));
}
