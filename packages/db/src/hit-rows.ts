import { statement } from './hot-reads.js';

/**
 * Search hits' rows by chunk id ($1): what a retrieval answers with besides the ranking. A child of parent/child
 * chunking answers with its parent's text (RAGFlow retrieval_by_children). Read by the api, or by the retrieval
 * service for a speculative chat retrieval (rows in the reply: one round trip less for the turn).
 * Rows: @ragnest/contracts SearchHitRow.
 */
export const HIT_ROWS = statement(
  'retrieval_hits',
  `SELECT c.id, c.dataset_id AS "datasetId", COALESCE(p.content, c.content) AS content,
          c.content_tokens AS "contentTokens", c.important_keywords AS "importantKeywords", c.questions, c.image_id AS "imageId",
          c.positions, c.doc_type AS "docType", c.mom_id AS "momId"
   FROM chunk c LEFT JOIN chunk p ON c.mom_id <> '' AND p.id = c.mom_id AND p.document_id = c.document_id
   WHERE c.id = ANY($1::text[])`,
);
