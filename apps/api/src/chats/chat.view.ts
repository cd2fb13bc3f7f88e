import type { Chat } from '@ragnest/db';
import { rowTimes } from '../ragflow/format.js';
import { llmSettingOf, promptConfigOf } from './chat.model.js';

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * The classic chat object (§7.1) as a superset: the classic `avatar`/`llm`/`prompt`/`dataset_ids` keys plus the
 * current generation's raw columns (`icon`, `llm_id`, `prompt_config`…), which ragflow-sdk keeps as attributes.
 * `keywords_similarity_weight` is reported as 1 − the stored vector weight, as RAGFlow does.
 */
export function classicChatView(c: Chat, datasets?: unknown[]) {
  const pc = promptConfigOf(c);
  const llm = llmSettingOf(c);
  const { system, prologue, parameters, empty_response, quote, ...restPrompt } = pc;
  return {
    id: c.id,
    tenant_id: c.tenantId,
    name: c.name,
    description: c.description,
    avatar: c.avatar,
    language: c.language,
    prompt_type: c.promptType,
    meta_data_filter: c.metaDataFilter,
    top_k: c.topK,
    do_refer: c.doRefer,
    status: '1',
    ...rowTimes(c.createdAt, c.updatedAt),
    llm: { model_name: c.llmId || null, ...llm },
    prompt: {
      ...restPrompt,
      similarity_threshold: c.similarityThreshold,
      keywords_similarity_weight: round(1 - c.vectorSimilarityWeight),
      top_n: c.topN,
      rerank_model: c.rerankId,
      variables: parameters,
      opener: prologue,
      empty_response,
      show_quote: quote,
      prompt: system,
    },
    dataset_ids: c.kbIds,
    ...(datasets ? { datasets } : {}),
  };
}

/** The current-generation dialog object (§7.6): raw columns plus `dataset_ids` and `kb_names`. */
export function currentChatView(c: Chat, kbNames: string[]) {
  return {
    id: c.id,
    tenant_id: c.tenantId,
    name: c.name,
    description: c.description,
    icon: c.avatar,
    language: c.language,
    llm_id: c.llmId,
    tenant_llm_id: null,
    llm_setting: llmSettingOf(c),
    prompt_type: c.promptType,
    prompt_config: promptConfigOf(c),
    meta_data_filter: c.metaDataFilter,
    similarity_threshold: c.similarityThreshold,
    vector_similarity_weight: c.vectorSimilarityWeight,
    top_n: c.topN,
    top_k: c.topK,
    do_refer: c.doRefer,
    rerank_id: c.rerankId,
    tenant_rerank_id: null,
    status: '1',
    dataset_ids: c.kbIds,
    kb_ids: c.kbIds,
    kb_names: kbNames,
    ...rowTimes(c.createdAt, c.updatedAt),
  };
}
