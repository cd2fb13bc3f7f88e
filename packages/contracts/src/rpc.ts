import { z } from 'zod';

/** Request/response patterns (served over the load-balanced Redis-list transport in @ragnest/runtime). */
export const RpcPatterns = {
  search: 'retrieval.search.v1',
  indexChunksNow: 'retrieval.index-chunks.v1',
  ping: 'retrieval.ping.v1',
} as const;
export type RpcPattern = (typeof RpcPatterns)[keyof typeof RpcPatterns];

export const searchRequestSchema = z.object({
  tenantId: z.string(),
  datasetIds: z.array(z.string()).min(1),
  documentIds: z.array(z.string()).default([]),
  question: z.string(),
  page: z.number().int().min(1),
  pageSize: z.number().int().min(1),
  similarityThreshold: z.number(),
  vectorSimilarityWeight: z.number().min(0).max(1),
  topK: z.number().int().min(1),
  highlight: z.boolean().default(false),
  /**
   * Set by a caller that has already checked the datasets (the API): their embedding model and the index
   * feed position read with them, so the retrieval service need not read them again.
   */
  embeddingModel: z.string().optional(),
  feedHead: z.string().regex(/^\d+$/).optional(),
  /** the hits' rows read here and sent with the reply (a speculative chat retrieval: one round trip less for the turn) */
  withRows: z.boolean().default(false),
  correlationId: z.string().optional(),
});
export type SearchRpcRequest = z.input<typeof searchRequestSchema>;

export interface SearchHit {
  chunkId: string;
  documentId: string;
  documentName: string;
  similarity: number;
  vectorSimilarity: number;
  termSimilarity: number;
}

/** A hit's row as Postgres has it when the hit is read (HIT_ROWS in @ragnest/db). */
export interface SearchHitRow {
  id: string;
  datasetId: string;
  content: string;
  contentTokens: string;
  importantKeywords: string[];
  questions: string[];
  imageId: string;
  positions: unknown;
  docType: string;
  momId: string;
}

export interface SearchRpcResponse {
  total: number;
  hits: SearchHit[];
  /** over all hits above the threshold, not just the page */
  docAggs: { documentId: string; documentName: string; count: number }[];
  /** id of the replica that answered (lets tests and operators see load balancing) */
  servedBy: string;
  /**
   * A request without `feedHead` (a speculative one): the index feed position the searched index had applied
   * at least, for the caller to compare with the head it reads itself. Absent from an index that does not
   * follow the feed.
   */
  position?: string;
  /** the hits' rows, when the request asked for them (a hit whose chunk is gone has none) */
  rows?: SearchHitRow[];
}

export const indexChunksNowSchema = z.object({
  chunkIds: z.array(z.string()).min(1).max(1000),
  correlationId: z.string().optional(),
});
export type IndexChunksNowRequest = z.input<typeof indexChunksNowSchema>;
export interface IndexChunksNowResponse {
  indexed: number;
}

export interface RpcPayloads {
  [RpcPatterns.search]: { req: SearchRpcRequest; res: SearchRpcResponse };
  [RpcPatterns.indexChunksNow]: { req: IndexChunksNowRequest; res: IndexChunksNowResponse };
  [RpcPatterns.ping]: { req: Record<string, never>; res: { servedBy: string } };
}
