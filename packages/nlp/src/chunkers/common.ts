import { countTokens } from '../tokens.js';
import type { ChunkDraft, FileKind, Section } from '../types.js';
import { ParseError } from '../types.js';

const HAN = /\p{Script=Han}/u;

export function hasHan(s: string): boolean {
  return HAN.test(s);
}

/** RAGFlow positions of a section; slides and pages without coordinates get (page, 0, 0, 0, 0). */
export function positionsOf(s: Section): number[][] {
  if (s.positions?.length) return s.positions;
  return s.page ? [[s.page, 0, 0, 0, 0]] : [];
}

export function addPositions(into: number[][], add: number[][]): number[][] {
  for (const p of add) if (!into.some((q) => q.length === p.length && q.every((v, k) => v === p[k]))) into.push(p);
  return into;
}

export function textDraft(content: string, positions: number[][] = []): ChunkDraft {
  return { content, tokenCount: countTokens(content), positions, docType: '' };
}

/** A section's picture as a chunk of its own (doc_type image); its text is the OCR text or caption. */
export function imageDraft(s: Section, prefix = ''): ChunkDraft {
  const content = [prefix, s.text.trim()].filter(Boolean).join('\n');
  return { content, tokenCount: countTokens(content), positions: positionsOf(s), docType: 'image', ...(s.image ? { image: s.image } : {}) };
}

/** A table section (HTML) as a chunk of its own, optionally under its heading path. */
export function tableDraft(s: Section, prefix = ''): ChunkDraft {
  const content = [prefix, s.text].filter(Boolean).join('\n');
  return { content, tokenCount: countTokens(content), positions: positionsOf(s), docType: 'table', ...(s.image ? { image: s.image } : {}) };
}

const KIND_NAMES: Record<FileKind, string> = {
  pdf: 'PDF', docx: 'DOCX', txt: 'TXT', md: 'Markdown', html: 'HTML', csv: 'CSV', json: 'JSON', code: 'source code',
  xlsx: 'XLSX', xls: 'XLS', pptx: 'PPTX', eml: 'EML', image: 'image',
};

/** Refuses a file type a chunk method cannot work with, naming what it accepts. */
export function requireKind(method: string, kind: FileKind, accepted: readonly FileKind[]): void {
  if (accepted.includes(kind)) return;
  throw new ParseError(
    `Chunk method '${method}' does not support ${KIND_NAMES[kind]} files; it accepts ${accepted.map((k) => KIND_NAMES[k]).join(', ')}. Choose another chunk method for this document.`,
  );
}

/** Lines of a section's text with surrounding blanks removed. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}
