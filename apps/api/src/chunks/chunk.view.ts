import type { Chunk } from '@ragnest/db';
import { chunkTimes } from '../ragflow/format.js';

/** Chunk as the list route returns it (§5.1). */
export function chunkListView(c: Chunk, docName: string, content = c.content) {
  return {
    id: c.id,
    content,
    document_id: c.documentId,
    docnm_kwd: docName,
    important_keywords: c.importantKeywords,
    questions: c.questions,
    dataset_id: c.datasetId,
    image_id: c.imageId,
    available: c.available,
    positions: c.positions,
    doc_type_kwd: c.docType || 'text',
    ...chunkTimes(c.createdAt),
  };
}

/** Chunk as the add route returns it (§5.2). */
export function chunkAddView(c: Chunk) {
  return {
    id: c.id,
    content: c.content,
    document_id: c.documentId,
    important_keywords: c.importantKeywords,
    questions: c.questions,
    dataset_id: c.datasetId,
    image_id: c.imageId,
    doc_type_kwd: c.docType || 'text',
    ...chunkTimes(c.createdAt),
  };
}

/** Wraps each case-insensitive occurrence of the keywords in <em>, as RAGFlow's keyword listing does. */
export function highlight(text: string, keywords: string[]): string {
  const words = keywords.filter((k) => k.trim().length > 0).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!words.length) return text;
  return text.replace(new RegExp(`(${words.join('|')})`, 'gi'), '<em>$1</em>');
}
