import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import type { Chat } from '@ragnest/db';
import { DEFAULT_LLM_SETTING, defaultPromptConfig, llmSettingOf, promptConfigOf, type LlmSetting, type PromptConfig, type PromptParameter } from './chat.model.js';

/** A chat's stored columns as a create/update request sets them (only present keys). */
export interface ChatPatch {
  name?: string;
  avatar?: string;
  description?: string;
  language?: string;
  llmId?: string;
  llmSetting?: LlmSetting;
  promptConfig?: PromptConfig;
  kbIds?: string[];
  topN?: number;
  topK?: number;
  similarityThreshold?: number;
  vectorSimilarityWeight?: number;
  rerankId?: string;
  doRefer?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(v: unknown, name: string, min: number, max: number, int = false): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || (int && !Number.isInteger(n))) {
    throw dataError(`\`${name}\` should be ${int ? 'an integer' : 'a number'}`);
  }
  if (n < min || n > max) throw dataError(`\`${name}\` should be between ${min} and ${max}`);
  return n;
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw dataError(`\`${name}\` should be a string`);
  return v;
}

function parameters(v: unknown): PromptParameter[] {
  if (!Array.isArray(v)) throw dataError('`variables` should be a list');
  return v.map((p) => {
    if (!isObj(p) || typeof p.key !== 'string' || !p.key) throw dataError('Each variable needs a `key`');
    return { key: p.key, optional: p.optional === true || p.optional === 'true' };
  });
}

function datasetIds(v: unknown): string[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw dataError('`dataset_ids` should be a list');
  return [...new Set(v.map(String).filter((s) => s.length > 0))];
}

const LLM_KEYS = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'max_tokens'] as const;

function llmSetting(src: Record<string, unknown>, base: LlmSetting): LlmSetting {
  const out: LlmSetting = { ...base };
  for (const [k, v] of Object.entries(src)) {
    if (k === 'model_name' || k === 'model_type' || v === null || v === undefined) continue;
    if ((LLM_KEYS as readonly string[]).includes(k)) {
      out[k] = k === 'max_tokens' ? num(v, k, 1, 1_000_000, true) : num(v, k, k.endsWith('penalty') ? -2 : 0, 2);
    } else out[k] = v;
  }
  return out;
}

/**
 * Classic body (`avatar`, `llm{model_name,…}`, `prompt{…}`) into stored columns, with RAGFlow's renames:
 * variables→parameters, opener→prologue, show_quote→quote, prompt→system, rerank_model→rerank_id, and
 * keywords_similarity_weight stored *unconverted* as the vector weight (the classic inversion, §7.1).
 * Null values mean "not given" (ragflow-sdk sends `empty_response: None`).
 */
export function classicPatch(body: Record<string, unknown>, existing?: Chat): ChatPatch {
  const p: ChatPatch = {};
  if (body.name !== undefined) p.name = str(body.name, 'name');
  if (body.avatar !== undefined && body.avatar !== null) p.avatar = str(body.avatar, 'avatar');
  if (body.icon !== undefined && body.icon !== null) p.avatar = str(body.icon, 'icon');
  if (body.description !== undefined && body.description !== null) p.description = str(body.description, 'description');
  if (body.language !== undefined && body.language !== null) p.language = str(body.language, 'language');
  if (body.dataset_ids !== undefined) p.kbIds = datasetIds(body.dataset_ids);
  if (body.show_quotation !== undefined && body.show_quotation !== null) p.doRefer = body.show_quotation ? '1' : '0';
  if (body.llm !== undefined && body.llm !== null) {
    if (!isObj(body.llm)) throw dataError('`llm` should be an object');
    const llm = body.llm;
    if (llm.model_name !== undefined && llm.model_name !== null) p.llmId = str(llm.model_name, 'model_name').trim();
    p.llmSetting = llmSetting(llm, existing ? llmSettingOf(existing) : { ...DEFAULT_LLM_SETTING });
  }
  if (body.prompt !== undefined && body.prompt !== null) {
    if (!isObj(body.prompt)) throw dataError('`prompt` should be an object');
    const pc: PromptConfig = existing ? promptConfigOf(existing) : defaultPromptConfig();
    for (const [k, v] of Object.entries(body.prompt)) {
      if (v === null || v === undefined) continue;
      switch (k) {
        case 'similarity_threshold':
          p.similarityThreshold = num(v, k, 0, 1);
          break;
        case 'keywords_similarity_weight':
          p.vectorSimilarityWeight = num(v, k, 0, 1);
          break;
        case 'vector_similarity_weight':
          p.vectorSimilarityWeight = num(v, k, 0, 1);
          break;
        case 'top_n':
          p.topN = num(v, k, 0, 1024, true);
          break;
        case 'top_k':
          p.topK = num(v, k, 1, 65_536, true);
          break;
        case 'rerank_model':
          p.rerankId = str(v, k);
          break;
        case 'variables':
          pc.parameters = parameters(v);
          break;
        case 'opener':
          pc.prologue = str(v, k);
          break;
        case 'show_quote':
          pc.quote = v === true || v === 'true';
          break;
        case 'prompt':
          pc.system = str(v, k);
          break;
        case 'empty_response':
          pc.empty_response = str(v, k);
          break;
        default:
          pc[k] = v;
      }
    }
    p.promptConfig = pc;
  }
  return p;
}

/** Current-generation body (`icon`, `llm_id`, `llm_setting`, `prompt_config`, raw columns); settings objects merge. */
export function currentPatch(body: Record<string, unknown>, existing?: Chat): ChatPatch {
  const p = classicPatch(
    Object.fromEntries(Object.entries(body).filter(([k]) => ['name', 'icon', 'avatar', 'description', 'language', 'dataset_ids', 'llm', 'prompt'].includes(k))),
    existing,
  );
  if (body.kb_ids !== undefined && body.dataset_ids === undefined) p.kbIds = datasetIds(body.kb_ids);
  if (body.llm_id !== undefined && body.llm_id !== null) p.llmId = str(body.llm_id, 'llm_id').trim();
  if (body.llm_setting !== undefined && body.llm_setting !== null) {
    if (!isObj(body.llm_setting)) throw dataError('`llm_setting` should be an object');
    p.llmSetting = llmSetting(body.llm_setting, p.llmSetting ?? (existing ? llmSettingOf(existing) : { ...DEFAULT_LLM_SETTING }));
  }
  if (body.prompt_config !== undefined && body.prompt_config !== null) {
    if (!isObj(body.prompt_config)) throw dataError('`prompt_config` should be an object');
    const pc = p.promptConfig ?? (existing ? promptConfigOf(existing) : defaultPromptConfig());
    for (const [k, v] of Object.entries(body.prompt_config)) {
      if (v === undefined) continue;
      if (k === 'parameters') pc.parameters = parameters(v);
      else if (k === 'quote' || k === 'tts' || k === 'refine_multiturn') pc[k] = v === true || v === 'true';
      else if (k === 'system' || k === 'prologue' || k === 'empty_response') pc[k] = v === null ? '' : str(v, k);
      else pc[k] = v;
    }
    p.promptConfig = pc;
  }
  if (body.similarity_threshold !== undefined && body.similarity_threshold !== null) p.similarityThreshold = num(body.similarity_threshold, 'similarity_threshold', 0, 1);
  if (body.vector_similarity_weight !== undefined && body.vector_similarity_weight !== null) {
    p.vectorSimilarityWeight = num(body.vector_similarity_weight, 'vector_similarity_weight', 0, 1);
  }
  if (body.top_n !== undefined && body.top_n !== null) p.topN = num(body.top_n, 'top_n', 0, 1024, true);
  if (body.top_k !== undefined && body.top_k !== null) p.topK = num(body.top_k, 'top_k', 1, 65_536, true);
  if (body.rerank_id !== undefined && body.rerank_id !== null) p.rerankId = str(body.rerank_id, 'rerank_id');
  return p;
}

/** A non-optional variable must appear in the system prompt as `{key}` (RAGFlow's check and message). */
export function checkParameters(pc: PromptConfig): void {
  for (const prm of pc.parameters) {
    if (prm.optional) continue;
    if (!pc.system.includes(`{${prm.key}}`)) throw new DomainError(RetCode.DATA_ERROR, `Parameter '${prm.key}' is not used`);
  }
}
