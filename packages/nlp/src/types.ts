import type { Readable } from 'node:stream';

/** Kinds of files RagNest can parse. */
export type FileKind = 'pdf' | 'docx' | 'txt' | 'md' | 'html' | 'csv' | 'json' | 'code' | 'xlsx' | 'xls' | 'pptx' | 'eml' | 'image';

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

/** A picture carried by a section (uploaded image, embedded image, figure/table crop). */
export interface SectionImage {
  data: Buffer;
  mime: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'image/bmp' | 'image/tiff';
  width?: number;
  height?: number;
}

/** A piece of parsed content in reading order. */
export interface Section {
  text: string;
  /** text: prose; table: HTML table; title: a heading; image: a picture (text = OCR text / caption, may be '') */
  kind: 'text' | 'table' | 'title' | 'image';
  level?: number; // heading level (titles), list nesting
  positions?: number[][]; // RAGFlow positions: [page(1-based), x0, x1, top, bottom]
  page?: number; // 1-based page/slide/sheet index where meaningful
  image?: SectionImage; // kind 'image' (and optionally a table/figure crop)
  /** structural labels used by chunk methods: e.g. { sheet: 'Sheet1' }, { slide: '3' }, { part: 'header'|'body'|'attachment', filename } , { list: 'bullet'|'ordered' }, { notes: '1' },
   *  PDF: { ocr: '1' } text recognised on a page without a text layer, { scan: '1' } such a page kept as a picture */
  meta?: Record<string, string>;
  /** spreadsheet rows: header names and typed cell values for the `table` chunk method */
  row?: { header: string[]; cells: (string | number | boolean | null)[] };
}

export interface ParseProgress {
  /** 0..1 of the file consumed */
  fraction: number;
  message?: string;
}

export interface ParseOptions {
  /** Largest file loaded whole into memory (PDF/DOCX/XLSX/PPTX/images). */
  maxInMemoryBytes: number;
  onProgress?: (p: ParseProgress) => void;
  signal?: AbortSignal;
  /** paged formats (PDF): 0-based page range [fromPage, toPage) like RAGFlow's task from_page/to_page */
  fromPage?: number;
  toPage?: number;
  /**
   * PDF: the whole file's running header/footer lines, as pdfLayout() learned them once for all of its page-range
   * tasks. Without them, each parse samples pages across the file to learn them (MARGIN_SAMPLE_PAGES).
   */
  pdfMargins?: readonly string[];
  /** run OCR on image sections and text-less PDF pages (default true) */
  ocr?: boolean;
  /**
   * The OCR engine (the worker owns one, e.g. `new TesseractOcr({ concurrency: OCR_CONCURRENCY })`, shared by all
   * parse jobs so OCR never takes more than its slots). Without one, images get no OCR text and a PDF page with no
   * text layer becomes an image section with empty text.
   */
  ocrEngine?: OcrEngine;
}

export interface OcrResult {
  /** recognised text, lines separated by \n ('' when nothing was found) */
  text: string;
  /** mean confidence 0..100 */
  confidence: number;
  /** paragraphs in reading order with their boxes in pixels of the image that was passed in */
  paragraphs?: { text: string; x0: number; y0: number; x1: number; y1: number }[];
}

/** Recognises text in an image (any format sharp reads). Rejects with ParseError for unreadable images. */
export interface OcrEngine {
  recognize(image: Buffer, signal?: AbortSignal): Promise<OcrResult>;
  close(): Promise<void>;
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
  /** '' for text, 'table' for tables, 'image' for pictures (RAGFlow doc_type_kwd) */
  docType: '' | 'table' | 'image';
  /** the picture stored for the chunk (image chunks, slides, table/figure crops); served by the image routes */
  image?: SectionImage;
  /** text analysed for full-text search when it is not the content (qa: only the question, as in RAGFlow) */
  tokenText?: string;
  /** keywords set by the chunk method (paper: the abstract) */
  importantKeywords?: string[];
  /** parent/child chunking: the parent chunk's text; retrieval answers with it when this child matches */
  parentContent?: string;
  /** table method: the row's typed values by field name (RAGFlow's <column>_long/_flt/_dt/_kwd/_tks) */
  fields?: Record<string, string | number | boolean | null>;
}

/** Permanent parse failure (corrupt/unsupported file): not retried; message is shown to users. */
export class ParseError extends Error {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}
