import type { LoadedComponent } from '../dsl.js';
import type { RunContext } from '../context.js';
import type { Segment } from '../variables.js';

export interface ComponentRun {
  outputs: Record<string, unknown>;
  /** components to run next (branches); default: the component's downstream */
  next?: string[];
  /** what a Message/Answer component says, streamed by the runtime */
  message?: Segment[];
  /** end the turn after this component (a legacy Answer that has answered) */
  stop?: boolean;
}

/** `from`: the component whose completion queued this one (undefined for begin). */
export type ComponentImpl = (c: LoadedComponent, ctx: RunContext, from: string | undefined) => Promise<ComponentRun>;

export const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
export const num = (v: unknown, fallback: number): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : fallback;
};
export const list = (v: unknown): string[] => (typeof v === 'string' ? (v ? [v] : []) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && !!x) : []);
