import type { ChatModel, LlmMessage, LlmUsage } from '@ragnest/llm';

/** One chunk of a run's reference, in RAGFlow's chat-reference format (`chunks_format`, §9.5). */
export interface ReferenceChunk {
  id: string;
  content: string;
  document_id: string;
  document_name: string;
  dataset_id: string;
  image_id: string;
  positions: unknown;
  url: string | null;
  similarity: number;
  vector_similarity: number;
  term_similarity: number;
  doc_type: string;
}
export interface DocAgg {
  doc_name: string;
  doc_id: string;
  count: number;
}
export interface AgentReference {
  total: number;
  chunks: ReferenceChunk[];
  doc_aggs: DocAgg[];
}

export interface RetrievalQuery {
  datasetIds: string[];
  question: string;
  topN: number;
  topK: number;
  similarityThreshold: number;
  vectorSimilarityWeight: number;
}

/** Ports the runtime needs; the API binds them to the tenant (adapters over its retrieval service and model resolver). */
export interface AgentRetrieval {
  retrieve(q: RetrievalQuery, signal: AbortSignal): Promise<AgentReference>;
}
export interface AgentModels {
  /** The chat model for a component's `llm_id` (or the tenant default); null when the tenant has none. */
  resolve(llmId: string | undefined): Promise<ChatModel | null>;
}

export interface RunInput {
  /** the user's question (sys.query) */
  query: string;
  /** Begin input values by key */
  inputs: Record<string, unknown>;
  /** earlier turns of the conversation, oldest first, without the current question */
  history: LlmMessage[];
  userId: string;
}

export interface RunDeps {
  retrieval: AgentRetrieval;
  models: AgentModels;
  signal: AbortSignal;
}

export type AgentEvent =
  | { type: 'node_started'; componentId: string; componentName: string }
  | { type: 'node_finished'; componentId: string; componentName: string; elapsedMs: number; outputs: Record<string, unknown>; error: string | null }
  /** a piece of the answer, as the Message/Answer component streams it */
  | { type: 'message'; text: string }
  | { type: 'message_end'; reference: AgentReference };

export interface RunResult {
  /** everything the Message/Answer components said, concatenated */
  answer: string;
  reference: AgentReference;
  usage: LlmUsage;
  /** outputs of the last component that ran */
  outputs: Record<string, unknown>;
}

/** A run failed for a reason the client may see (bad input, unsupported component, model error). */
export class AgentRunError extends Error {
  constructor(
    message: string,
    readonly componentId?: string,
  ) {
    super(message);
    this.name = 'AgentRunError';
  }
}
