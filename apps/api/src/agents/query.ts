import { argumentError } from '@ragnest/contracts';

type Query = Record<string, string | string[] | undefined>;

const one = (q: Query, k: string): string | undefined => {
  const v = q[k];
  return Array.isArray(v) ? v[0] : v;
};

export function intParam(q: Query, k: string, fallback: number): number {
  const v = one(q, k);
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw argumentError(`\`${k}\` should be a positive integer.`);
  return n;
}

/** Python SDKs send booleans as "True"/"False"; RAGFlow's agent routes treat anything but false-ish as true. */
export function boolParam(v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'boolean') return v;
  return !['false', '0', 'no', 'off', 'f', 'n'].includes(String(v).trim().toLowerCase());
}

export function orderParam(q: Query): 'create_time' | 'update_time' {
  const v = one(q, 'orderby');
  if (v === undefined || v === '' || v === 'update_time') return 'update_time';
  if (v === 'create_time') return 'create_time';
  throw argumentError('`orderby` should be create_time or update_time.');
}

export const strParam = (q: Query, k: string): string | undefined => {
  const v = one(q, k);
  return v === undefined || v === '' ? undefined : v;
};
