import { NaiveChunker, parseDelimiter } from '../chunker.js';
import { countTokens } from '../tokens.js';
import type { ChunkDraft, Section } from '../types.js';
import type { ChunkContext, ChunkMethodOptions } from './types.js';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The splitter for children_delimiter (same syntax as delimiter: characters, or `backticked` strings). */
export function childSplitter(delimiter: string): RegExp | null {
  const { chars, custom } = parseDelimiter(delimiter);
  const alternatives = [...custom.map(escapeRegExp), ...[...chars].map(escapeRegExp)];
  return alternatives.length ? new RegExp(alternatives.join('|'), 'u') : null;
}

/**
 * Parent/child chunking (RAGFlow `children_delimiter`): a text chunk that splits into several pieces becomes
 * those pieces, each searchable on its own and carrying the whole chunk as its parent (RAGFlow's
 * mom_with_weight); retrieval answers with the parent. A chunk that does not split stays as it is.
 */
export function splitChildren(draft: ChunkDraft, splitter: RegExp | null): ChunkDraft[] {
  if (!splitter || draft.docType !== '') return [draft];
  const pieces = draft.content
    .split(splitter)
    .map((p) => p.trim())
    .filter(Boolean);
  if (pieces.length < 2) return [draft];
  return pieces.map((content) => ({ content, tokenCount: countTokens(content), positions: draft.positions, docType: '', parentContent: draft.content }));
}

/** A naive chunker over a section stream, with the method's options; used by methods that group then merge. */
export function naiveChunker(o: ChunkMethodOptions): NaiveChunker {
  return new NaiveChunker({ chunkTokenNum: o.chunkTokenNum, delimiter: o.delimiter, overlappedPercent: o.overlappedPercent });
}

/** `naive` (General): RAGFlow's naive merge; tables and figures are chunks of their own. */
export async function* chunkNaive(sections: AsyncIterable<Section>, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  const chunker = naiveChunker(ctx.options);
  const splitter = ctx.options.childrenDelimiter ? childSplitter(ctx.options.childrenDelimiter) : null;
  for await (const s of sections) for (const d of chunker.push(s)) yield* splitChildren(d, splitter);
  for (const d of chunker.flush()) yield* splitChildren(d, splitter);
}
