import { bytesToVector } from '@ragnest/embedding';
import { analyzeToString } from '@ragnest/nlp';
import type { IndexedChunk } from '@ragnest/search';

/** The columns of a chunk row that make its index entry. */
export interface ChunkIndexRow {
  id: string;
  tenantId: string;
  datasetId: string;
  documentId: string;
  contentTokens: string;
  importantKeywords: string[];
  questions: string[];
  /** searchable: the chunk is available and its document enabled */
  available: boolean;
  vector: Uint8Array;
  documentName: string;
}

/** Analyzer tokens of a document's title (its name without the extension). */
export function titleTokens(documentName: string): string {
  return analyzeToString(documentName.replace(/\.[^.]+$/, ''));
}

/**
 * What the full-text leg matches: content tokens, plus the document title (×2), keywords (×5) and
 * questions (×6), repeated as RAGFlow weights them in its token bag.
 */
export function indexTokens(content: string, title: string, keywords: string[], questions: string[]): string {
  const parts = [content];
  if (title) parts.push(title, title);
  const kw = keywords.map(analyzeToString).join(' ').trim();
  if (kw) for (let i = 0; i < 5; i++) parts.push(kw);
  const qs = questions.map(analyzeToString).join(' ').trim();
  if (qs) for (let i = 0; i < 6; i++) parts.push(qs);
  return parts.join(' ');
}

/**
 * One chunk row → its index entry. Every index writer and the in-memory feed follower build entries here.
 * `title` is titleTokens(row.documentName), passed in so a page of one document's rows analyses it once.
 */
export function toIndexedChunk(row: ChunkIndexRow, title: string): IndexedChunk {
  return {
    id: row.id,
    tenantId: row.tenantId,
    datasetId: row.datasetId,
    documentId: row.documentId,
    tokens: indexTokens(row.contentTokens, title, row.importantKeywords, row.questions),
    vector: bytesToVector(row.vector),
    available: row.available,
    documentName: row.documentName,
  };
}
