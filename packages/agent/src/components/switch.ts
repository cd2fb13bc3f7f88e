import { AgentRunError } from '../types.js';
import { BARE_REF, interpolateText, valueText } from '../variables.js';
import { list, type ComponentImpl } from './types.js';

const asNumber = (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : NaN);

/** One Switch item: RAGFlow's operator names (and their ASCII spellings). */
export function compare(actual: string, operator: string, expected: string): boolean {
  const a = actual;
  const e = expected;
  switch (operator.trim().toLowerCase()) {
    case 'contains':
      return a.toLowerCase().includes(e.toLowerCase());
    case 'not contains':
      return !a.toLowerCase().includes(e.toLowerCase());
    case 'start with':
    case 'starts with':
      return a.toLowerCase().startsWith(e.toLowerCase());
    case 'end with':
    case 'ends with':
      return a.toLowerCase().endsWith(e.toLowerCase());
    case 'empty':
      return a.trim() === '';
    case 'not empty':
      return a.trim() !== '';
    case '=':
    case '==':
      return a === e;
    case '≠':
    case '!=':
      return a !== e;
    case '>':
    case '<':
    case '≥':
    case '>=':
    case '≤':
    case '<=': {
      const x = asNumber(a);
      const y = asNumber(e);
      if (Number.isNaN(x) || Number.isNaN(y)) return false;
      const op = operator.trim();
      if (op === '>') return x > y;
      if (op === '<') return x < y;
      if (op === '≥' || op === '>=') return x >= y;
      return x <= y;
    }
    default:
      throw new Error(`unknown operator "${operator}"`);
  }
}

/** Switch: the first condition that holds chooses `to`; none → `end_cpn_ids` (the else branch). */
export const switchComponent: ComponentImpl = async (c, ctx) => {
  const conds = Array.isArray(c.params.conditions) ? (c.params.conditions as Record<string, unknown>[]) : [];
  for (const cond of conds) {
    const items = Array.isArray(cond.items) ? (cond.items as Record<string, unknown>[]) : [];
    const results: boolean[] = [];
    for (const item of items) {
      const ref = typeof item.cpn_id === 'string' ? item.cpn_id.replace(/^\{|\}$/g, '') : '';
      const actual = BARE_REF.test(ref) || ctx.component(ref) ? await valueText(ctx.lookup(ref)) : '';
      const expected = typeof item.value === 'string' ? await interpolateText(item.value, ctx) : item.value === undefined || item.value === null ? '' : String(item.value);
      try {
        results.push(compare(actual, typeof item.operator === 'string' ? item.operator : '', expected));
      } catch (e) {
        throw new AgentRunError(`Switch component "${c.id}": ${(e as Error).message}.`, c.id);
      }
    }
    const holds = String(cond.logical_operator ?? 'and').toLowerCase() === 'or' ? results.some(Boolean) : results.length > 0 && results.every(Boolean);
    if (holds) {
      const to = list(cond.to);
      return { outputs: { _next: to }, next: to };
    }
  }
  const otherwise = [...list(c.params.end_cpn_ids), ...list(c.params.end_cpn_id)];
  return { outputs: { _next: otherwise }, next: otherwise };
};
