import type { Document } from '@ragnest/db';
import { rowTimes } from '../ragflow/format.js';

/** Classic RAGFlow document object (§4.1): text `run`, REST renames. */
export function documentView(d: Document) {
  return {
    id: d.id,
    thumbnail: d.thumbnail,
    dataset_id: d.datasetId,
    knowledgebase_id: d.datasetId,
    chunk_method: d.chunkMethod,
    parser_id: d.chunkMethod,
    pipeline_id: null,
    parser_config: d.parserConfig,
    source_type: d.sourceType,
    type: d.type,
    created_by: d.createdBy,
    name: d.name,
    location: d.name,
    size: Number(d.size),
    token_count: d.tokenCount,
    chunk_count: d.chunkCount,
    progress: d.progress,
    progress_msg: d.progressMsg,
    process_begin_at: d.processBeginAt ? d.processBeginAt.toUTCString() : null,
    process_duration: d.processDuration,
    suffix: d.suffix,
    run: d.run,
    status: d.status,
    meta_fields: d.metaFields,
    title: null,
    ...rowTimes(d.createdAt, d.updatedAt),
  };
}

/** What upload returns per file (§4.2): the insert dict, not a full row. */
export function uploadedView(d: Document) {
  return {
    id: d.id,
    dataset_id: d.datasetId,
    chunk_method: d.chunkMethod,
    pipeline_id: null,
    parser_config: d.parserConfig,
    created_by: d.createdBy,
    type: d.type,
    name: d.name,
    source_type: d.sourceType,
    suffix: d.suffix,
    location: d.name,
    size: Number(d.size),
    thumbnail: d.thumbnail ?? '',
    run: d.run,
  };
}
