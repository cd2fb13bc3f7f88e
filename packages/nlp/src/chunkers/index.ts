import type { ChunkDraft, Section } from '../types.js';
import { ParseError } from '../types.js';
import { chunkEmail } from './email.js';
import { BOOK, LAWS, MANUAL, PAPER, chunkHierarchy } from './hierarchy.js';
import { chunkNaive } from './naive.js';
import { chunkOne } from './one.js';
import { chunkPicture } from './picture.js';
import { chunkPresentation } from './presentation.js';
import { chunkQa } from './qa.js';
import { chunkTable } from './table.js';
import type { ChunkContext, ChunkMethod } from './types.js';

export type { ChunkContext, ChunkMethod, ChunkMethodOptions } from './types.js';
export { chunkMethodOptions, llmFeatureNotice, llmFeatureRefusal, pageRanges, taskPageSize } from './options.js';
export { inferColumnType, fieldName } from './table.js';

/** Every chunk method this build runs, by RAGFlow name. */
export const CHUNK_METHOD_IMPLEMENTATIONS: Readonly<Record<string, ChunkMethod>> = {
  naive: chunkNaive,
  qa: chunkQa,
  table: chunkTable,
  paper: (s, c) => chunkHierarchy(s, c, PAPER),
  book: (s, c) => chunkHierarchy(s, c, BOOK),
  laws: (s, c) => chunkHierarchy(s, c, LAWS),
  manual: (s, c) => chunkHierarchy(s, c, MANUAL),
  presentation: chunkPresentation,
  picture: chunkPicture,
  one: chunkOne,
  email: chunkEmail,
};

/** Chunks a section stream with the document's chunk method. Unknown methods fail permanently, by name. */
export function chunkDocument(sections: AsyncIterable<Section>, method: string, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  const impl = CHUNK_METHOD_IMPLEMENTATIONS[method];
  if (!impl) throw new ParseError(`Chunk method '${method}' is not supported by this server; choose one of ${Object.keys(CHUNK_METHOD_IMPLEMENTATIONS).join(', ')}.`);
  return impl(sections, ctx);
}
