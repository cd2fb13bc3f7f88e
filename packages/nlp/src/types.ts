import type { Readable } from 'node:stream';

/** Kinds of files RagNest can parse (issue 2 set; more come later). */
export type FileKind = 'pdf' | 'docx' | 'txt' | 'md' | 'html' | 'csv' | 'json' | 'code';

export interface DetectedType {
  kind: FileKind;
  /** real MIME type, used for download Content-Type */
  mime: string;
  /** RAGFlow document `type`: pdf | doc | visual | aural | virtual | other */
  docType: 'pdf' | 'doc' | 'visual' | 'aural' | 'virtual' | 'other';
  /** iconv-lite name of the text encoding (text kinds only) */
  encoding?: string;
}

/** Where a parser reads the file from. The worker backs it with object storage. */
export interface ParseSource {
  fileName: string;
  size: number;
  /** A fresh stream of the whole file. */
  stream(): Promise<Readable>;
  /** The whole file in memory; parsers that need random access (PDF, DOCX) use this. Rejects above maxBytes. */
  buffer(maxBytes: number): Promise<Buffer>;
}

/** A piece of parsed content in reading order. */
export interface Section {
  text: string;
  /** text: prose; table: HTML table; title: a heading */
  kind: 'text' | 'table' | 'title';
  /** heading level for titles (1 = top) */
  level?: number;
  /** RAGFlow positions: [page(1-based), x0, x1, top, bottom] */
  positions?: number[][];
}

export interface ParseProgress {
  /** 0..1 of the file consumed */
  fraction: number;
  message?: string;
}

export interface ParseOptions {
  /** Largest file loaded whole into memory (PDF/DOCX). */
  maxInMemoryBytes: number;
  onProgress?: (p: ParseProgress) => void;
  signal?: AbortSignal;
}

/** Chunker settings (RAGFlow parser_config for `naive`). */
export interface ChunkerOptions {
  chunkTokenNum: number;
  /** RAGFlow delimiter string: every char is a delimiter; `backticked` text is a multi-char delimiter */
  delimiter: string;
  overlappedPercent?: number;
}

export interface ChunkDraft {
  content: string;
  tokenCount: number;
  positions: number[][];
  /** '' for text, 'table' for tables */
  docType: '' | 'table';
}

/** Permanent parse failure (corrupt/unsupported file): not retried; message is shown to users. */
export class ParseError extends Error {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}
