import type { Candidate, IndexedChunk, SearchFilter } from './port.js';

/** Cosine similarity in [-1, 1]; 0 when either vector has no direction (all zeros) or lengths differ. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return 0;
  const c = dot / Math.sqrt(na * nb);
  return c > 1 ? 1 : c < -1 ? -1 : c;
}

/** A SQL string literal: single quotes doubled, NUL rejected. */
export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`expected a string id, got ${typeof value}`);
  if (value.includes('\0')) throw new Error('ids must not contain NUL characters');
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIn(column: string, values: readonly string[]): string {
  if (values.length === 0) return 'false';
  return `${column} IN (${[...new Set(values)].map(sqlString).join(', ')})`;
}

/**
 * The SQL predicate for a SearchFilter. `datasetIds: []` matches nothing (there is no "all datasets"
 * wildcard); `documentIds` restricts only when non-empty. Returns null when the filter can match nothing.
 */
export function lanceFilter(filter: SearchFilter, opts: { onlyAvailable: boolean }): string | null {
  if (filter.datasetIds.length === 0) return null;
  const parts = [`tenant_id = ${sqlString(filter.tenantId)}`, sqlIn('dataset_id', filter.datasetIds)];
  if (filter.documentIds && filter.documentIds.length > 0) parts.push(sqlIn('document_id', filter.documentIds));
  if (opts.onlyAvailable) parts.push('available = true');
  return parts.join(' AND ');
}

/** Splits into slices of at most `size` (for IN-lists and bulk requests). */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Query tokens as one whitespace-separated string for the BM25 leg (blank tokens dropped). */
export function joinQueryTokens(tokens: readonly string[]): string {
  return tokens
    .flatMap((t) => t.split(/\s+/))
    .filter((t) => t.length > 0)
    .join(' ');
}

/** Groups chunks by vector dimension; within a group the last chunk for an id wins. */
export function groupByDimension(chunks: readonly IndexedChunk[]): Map<number, IndexedChunk[]> {
  const byDim = new Map<number, Map<string, IndexedChunk>>();
  for (const c of chunks) {
    const dim = c.vector.length;
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`chunk ${c.id}: empty vector`);
    let g = byDim.get(dim);
    if (!g) byDim.set(dim, (g = new Map()));
    g.delete(c.id); // keep insertion order of the last occurrence
    g.set(c.id, c);
  }
  return new Map([...byDim].map(([dim, g]) => [dim, [...g.values()]]));
}

export function assertDimension(dimension: number): void {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65_536) {
    throw new Error(`invalid vector dimension ${dimension}`);
  }
}

/**
 * Unions the two legs by id. Text hits come first in BM25 order, then vector-only hits by similarity.
 * A chunk found by both legs keeps its text score and its similarity.
 */
export function unionCandidates(textHits: readonly Candidate[], vectorHits: readonly Candidate[]): Candidate[] {
  const byId = new Map<string, Candidate>();
  for (const h of textHits) {
    const prev = byId.get(h.id);
    if (!prev || h.textScore > prev.textScore) byId.set(h.id, { ...h });
  }
  const vectorOnly = new Map<string, Candidate>();
  for (const h of vectorHits) {
    const prev = byId.get(h.id);
    if (prev) {
      prev.vectorSimilarity = h.vectorSimilarity;
    } else if (!vectorOnly.has(h.id)) {
      vectorOnly.set(h.id, { ...h, textScore: 0 });
    }
  }
  const text = [...byId.values()].sort((a, b) => b.textScore - a.textScore);
  const rest = [...vectorOnly.values()].sort((a, b) => b.vectorSimilarity - a.vectorSimilarity);
  return [...text, ...rest];
}

export function clampLimit(n: number, max: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(Math.floor(n), max);
}
