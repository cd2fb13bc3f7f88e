import type { ChunkDraft, FileKind, Section } from '../types.js';

/** Every chunking setting a method may read, taken from the document's parser_config. */
export interface ChunkMethodOptions {
  chunkTokenNum: number;
  /** RAGFlow delimiter: every character splits; `backticked` text is a multi-character delimiter */
  delimiter: string;
  overlappedPercent: number;
  /** naive parent/child chunking: each chunk is split again on these delimiters into searchable children */
  childrenDelimiter?: string;
  /** the dataset's language: RAGFlow writes English or Chinese labels (qa) from it */
  language: string;
}

export interface ChunkContext {
  kind: FileKind;
  fileName: string;
  options: ChunkMethodOptions;
}

/** A chunk method: a pure transformation of the parsed sections into chunk drafts, streamed. */
export type ChunkMethod = (sections: AsyncIterable<Section>, ctx: ChunkContext) => AsyncGenerator<ChunkDraft>;
