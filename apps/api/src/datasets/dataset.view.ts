import type { Dataset } from '@ragnest/db';
import { rowTimes } from '../ragflow/format.js';

export interface DatasetCounts {
  documentCount: number;
  chunkCount: number;
  tokenCount: number;
}

/** Classic RAGFlow dataset object (§3.1) with REST renames. */
export function datasetView(d: Dataset, c: DatasetCounts) {
  return {
    id: d.id,
    avatar: d.avatar ?? '',
    tenant_id: d.tenantId,
    name: d.name,
    language: d.language,
    description: d.description,
    embedding_model: d.embeddingModel,
    permission: d.permission,
    created_by: d.createdBy,
    document_count: c.documentCount,
    token_num: c.tokenCount,
    chunk_count: c.chunkCount,
    similarity_threshold: d.similarityThreshold,
    vector_similarity_weight: d.vectorSimilarityWeight,
    chunk_method: d.chunkMethod,
    parser_id: d.chunkMethod,
    pipeline_id: d.pipelineId,
    parser_config: d.parserConfig,
    pagerank: d.pagerank,
    graphrag_task_id: null,
    graphrag_task_finish_at: null,
    raptor_task_id: null,
    raptor_task_finish_at: null,
    mindmap_task_id: null,
    mindmap_task_finish_at: null,
    status: '1',
    ...rowTimes(d.createdAt, d.updatedAt),
  };
}
