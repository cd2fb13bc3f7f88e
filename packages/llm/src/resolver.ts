import type { PrismaClient } from '@ragnest/db';
import { OpenAICompatibleChatModel } from './openai.js';
import { LlmError, type ChatModel, type ChatModelResolver } from './port.js';

/** The installation's default chat model (env `LLM_*`), used by every tenant that has not configured its own. */
export interface DefaultChatModelConfig {
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** factory part of the model id (default `OpenAI-API-Compatible`) */
  factory: string;
}

/** API roots of factories that speak the OpenAI protocol at a fixed address (RAGFlow factory names). */
const KNOWN_BASES: Record<string, string> = {
  OpenAI: 'https://api.openai.com/v1',
  DeepSeek: 'https://api.deepseek.com/v1',
  'Tongyi-Qianwen': 'https://dashscope.aliyuncs.com/compatible-mode/v1',
  Moonshot: 'https://api.moonshot.cn/v1',
  'ZHIPU-AI': 'https://open.bigmodel.cn/api/paas/v4',
  SILICONFLOW: 'https://api.siliconflow.cn/v1',
  OpenRouter: 'https://openrouter.ai/api/v1',
  Groq: 'https://api.groq.com/openai/v1',
  Mistral: 'https://api.mistral.ai/v1',
};

/** `name@factory`; RAGFlow also suffixes OpenAI-compatible names (`gpt-4o___OpenAI-API@OpenAI-API-Compatible`). */
export function parseModelId(id: string): { model: string; factory: string } {
  const at = id.lastIndexOf('@');
  const name = at < 0 ? id : id.slice(0, at);
  const factory = at < 0 ? '' : id.slice(at + 1);
  return { model: name.replace(/___[A-Za-z0-9-]+$/, '').trim(), factory: factory.trim() };
}

/** Ollama is configured with its root address; its OpenAI protocol lives under /v1. */
function apiRoot(factory: string, base: string): string {
  const b = base.replace(/\/+$/, '');
  if (factory === 'Ollama' && !/\/v1$/.test(b)) return `${b}/v1`;
  return b;
}

/** What a tenant has configured: its default model id (set_tenant_info) and its providers' credentials. */
export interface TenantModels {
  llmId: string;
  providers: { factory: string; apiKey: string; apiBase: string }[];
}

/**
 * Two select-list columns, `"tenantLlmId"` and `"tenantProviders"`, that load a tenant's TenantModels inside
 * another query (a chat turn reads them with its chat and session in one round trip); read them with
 * tenantModelsOf. `tenantId` is SQL text: a column (`c.tenant_id`) or a parameter (`$1`), never a value.
 */
export function tenantModelsColumns(tenantId: string): string {
  return `(SELECT t.llm_id FROM tenant t WHERE t.id = ${tenantId}) AS "tenantLlmId",
    (SELECT coalesce(jsonb_agg(jsonb_build_object('factory', l.llm_factory, 'apiKey', l.api_key, 'apiBase', l.api_base)), '[]'::jsonb)
       FROM tenant_llm l WHERE l.tenant_id = ${tenantId}) AS "tenantProviders"`;
}

export const tenantModelsOf = (row: { tenantLlmId: string | null; tenantProviders: unknown }): TenantModels => ({
  llmId: row.tenantLlmId ?? '',
  providers: Array.isArray(row.tenantProviders) ? (row.tenantProviders as TenantModels['providers']) : [],
});

export interface DbChatModelResolverOptions {
  default?: DefaultChatModelConfig;
  /** upstream first-byte and idle timeout (ms) */
  timeoutMs: number;
  /** OpenAICompatibleChatOptions.batchMs (default STREAM_BATCH_MS) */
  streamBatchMs?: number;
}

/**
 * A tenant's chat model: the chat's `llm.model_name`, else the tenant's `llm_id` (set_tenant_info), else the
 * installation default. Credentials come from the tenant's `tenant_llm` row for the factory (set_api_key /
 * add_llm), else from the default when the factory matches it.
 */
export class DbChatModelResolver implements ChatModelResolver {
  private readonly cache = new Map<string, ChatModel>();

  constructor(
    private readonly db: PrismaClient,
    private readonly opts: DbChatModelResolverOptions,
  ) {}

  defaultModelId(): string | undefined {
    const d = this.opts.default;
    return d ? `${d.model}@${d.factory}` : undefined;
  }

  /** The tenant's configuration, one query. */
  async tenantModels(tenantId: string): Promise<TenantModels> {
    const [row] = await this.db.$queryRawUnsafe<{ tenantLlmId: string | null; tenantProviders: unknown }[]>(`SELECT ${tenantModelsColumns('$1')}`, tenantId);
    return tenantModelsOf(row ?? { tenantLlmId: null, tenantProviders: [] });
  }

  async resolve(tenantId: string, modelName?: string): Promise<ChatModel | null> {
    return this.resolveFrom(await this.tenantModels(tenantId), modelName);
  }

  /** resolve() over a configuration already loaded (tenantModelsColumns); no I/O. */
  resolveFrom(tenant: TenantModels, modelName?: string): ChatModel | null {
    const name = modelName?.trim() || tenant.llmId.trim() || this.defaultModelId() || '';
    if (!name) return null;
    const { model, factory } = parseModelId(name);
    if (!model) throw new LlmError(`Invalid model name: ${name}`, 400);
    if (factory) {
      const row = tenant.providers.find((p) => p.factory === factory);
      if (row) {
        const base = row.apiBase || KNOWN_BASES[factory];
        if (!base) throw new LlmError(`No base URL is configured for the model provider ${factory}`, 400);
        return this.model(apiRoot(factory, base), row.apiKey, model, factory);
      }
    }
    const d = this.opts.default;
    if (d && (!factory || factory === d.factory)) return this.model(d.baseUrl, d.apiKey ?? '', model, d.factory);
    throw new LlmError(`The model ${name} is not configured: set its provider's API key with /v1/llm/set_api_key`, 400);
  }

  private model(baseUrl: string, apiKey: string, model: string, factory: string): ChatModel {
    const key = `${baseUrl}\u0000${apiKey}\u0000${model}\u0000${factory}`;
    let m = this.cache.get(key);
    if (!m) {
      if (this.cache.size >= 256) this.cache.delete(this.cache.keys().next().value as string);
      m = new OpenAICompatibleChatModel({ baseUrl, apiKey, model, factory, timeoutMs: this.opts.timeoutMs, ...(this.opts.streamBatchMs !== undefined ? { batchMs: this.opts.streamBatchMs } : {}) });
      this.cache.set(key, m);
    }
    return m;
  }
}
