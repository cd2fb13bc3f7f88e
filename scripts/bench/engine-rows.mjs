// Rows for the in-memory search engine as the indexing path builds them (analyzed tokens, the built-in
// embedding), for the benches that drive the engine in-process (search-inprocess.mjs, vector-recall.mjs).
import { analyze, analyzeToString } from '@ragnest/nlp';
import { HashingEmbedder } from '@ragnest/embedding';
import { text } from './corpus.mjs';

export const embedder = new HashingEmbedder({ tokenize: analyze });

/** The one tenant and dataset every row belongs to (a search filter). */
export const SCOPE = { tenantId: 't', datasetIds: ['d'] };

/** The default corpus' content of row i: English and Chinese in turn. */
export function uniformContent(r, i) {
  const lang = i % 2 ? 'zh' : 'en';
  return text(r, lang, lang === 'zh' ? 350 : 500);
}

/** Row i of the engine, with this content (500 documents). */
export function engineRow(i, content) {
  return { id: 'c' + i, tenantId: SCOPE.tenantId, datasetId: SCOPE.datasetIds[0], documentId: 'doc' + (i % 500), tokens: analyzeToString(content), vector: embedder.embedText(content), available: true };
}
