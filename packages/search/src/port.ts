/** What the search index holds per chunk. Everything else about a chunk lives in Postgres. */
export interface IndexedChunk {
  id: string;
  tenantId: string;
  datasetId: string;
  documentId: string;
  /**
   * Analyzer tokens, space-separated (already lower-cased/stemmed/segmented by @ragnest/nlp):
   * content tokens plus title/keyword/question tokens. The full-text leg matches on these.
   */
  tokens: string;
  vector: Float32Array;
  /** false = hidden from search (RAGFlow available_int = 0; also set while the document is disabled) */
  available: boolean;
  /** the document's name (RAGFlow docnm_kwd); engines that keep it return it with candidates */
  documentName?: string;
}

export interface SearchFilter {
  tenantId: string;
  datasetIds: string[];
  /** when non-empty, only these documents */
  documentIds?: string[];
}

export interface SearchRequest {
  filter: SearchFilter;
  /** analyzer tokens of the question for the full-text (BM25) leg; empty = skip that leg */
  queryTokens: string[];
  /** query embedding for the kNN leg; null = skip that leg */
  queryVector: Float32Array | null;
  /** max candidates from the full-text leg */
  textLimit: number;
  /** max candidates from the vector leg */
  vectorLimit: number;
}

/** Tokens as ids of an engine's term dictionary (structurally @ragnest/nlp's TermIdSequence). */
export interface TermIdSequence {
  readonly ids: ArrayLike<number>;
  readonly dictionary: { lookup(term: string): number | undefined; term(id: number): string };
}

/** A candidate's tokens in order, whatever form the engine returned them in. */
export function tokenList(tokens: Candidate['tokens']): string[] {
  if (typeof tokens === 'string') return tokens ? tokens.split(' ') : [];
  if (Array.isArray(tokens)) return tokens;
  return Array.from(tokens.ids, (id) => tokens.dictionary.term(id));
}

/** A candidate from either leg (or both). The two legs are independent: neither filters the other. */
export interface Candidate {
  id: string;
  datasetId: string;
  documentId: string;
  /**
   * the chunk's analyzer tokens: space-separated, in order as an array, or in order as ids of the engine's
   * term dictionary (the in-memory engine: no string is materialised; `tokenList` spells them out)
   */
  tokens: string | string[] | TermIdSequence;
  /** cosine similarity between the query vector and the chunk vector in [-1, 1]; 0 when no query vector */
  vectorSimilarity: number;
  /** raw BM25 score from the full-text leg, 0 when it came from the vector leg only */
  textScore: number;
  /** the document's name, from engines that keep it (see SearchIndex.followsFeed) */
  documentName?: string;
}

export interface SearchIndex {
  readonly kind: 'embedded' | 'elasticsearch';
  /**
   * true: the index lives in this process only, and the application fills it from Postgres' index change
   * feed (every replica follows the feed). Index writers then only stamp the feed instead of calling
   * upsert/delete, which would reach this replica alone. Such an index is exact as of the feed position it
   * has applied: entries carry availability (chunk and document) and the document name, so a search that
   * first caught up with the feed needs no check against Postgres.
   */
  readonly followsFeed?: boolean;
  /** Creates tables/indices for vectors of this dimension if missing. Idempotent. */
  ensureReady(dimension: number): Promise<void>;
  /** Insert or replace by id. Rows are searchable when the promise resolves (no refresh lag). */
  upsert(chunks: IndexedChunk[]): Promise<void>;
  deleteByIds(tenantId: string, ids: string[]): Promise<void>;
  deleteByDocument(tenantId: string, documentId: string): Promise<void>;
  deleteByDataset(tenantId: string, datasetId: string): Promise<void>;
  /** Hybrid candidates: union of the BM25 leg and the kNN leg, de-duplicated by id. Unavailable chunks never appear. */
  search(req: SearchRequest): Promise<Candidate[]>;
  /** Number of indexed rows matching the filter (available or not). */
  count(filter: SearchFilter): Promise<number>;
  /** Background maintenance (index building/compaction). Safe to call often; cheap when nothing to do. */
  optimize(): Promise<void>;
  health(): Promise<void>;
  close(): Promise<void>;
}
