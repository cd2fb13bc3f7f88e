import { HashingEmbedder } from './hashing.js';
import { OpenAICompatibleEmbedder } from './openai.js';
import type { EmbeddingProvider } from './port.js';

export interface EmbeddingConfig {
  provider: 'builtin' | 'openai';
  dimension?: number;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  batchSize?: number;
  maxRetries?: number;
  timeoutMs?: number;
  /** modelId suffix for remote providers (e.g. `Ollama`, `VLLM`); default `OpenAI-API-Compatible`. */
  providerName?: string;
  /** Used by the built-in model. */
  tokenize: (text: string) => string[];
}

export function createEmbeddingProvider(cfg: EmbeddingConfig): EmbeddingProvider {
  switch (cfg.provider) {
    case 'builtin':
      return new HashingEmbedder({
        tokenize: cfg.tokenize,
        ...(cfg.dimension !== undefined ? { dimension: cfg.dimension } : {}),
      });
    case 'openai': {
      if (!cfg.baseUrl) throw new Error('embedding provider "openai" needs baseUrl (e.g. http://host:11434/v1)');
      if (!cfg.model) throw new Error('embedding provider "openai" needs model');
      const { baseUrl, model, apiKey, dimension, batchSize, maxRetries, timeoutMs, providerName } = cfg;
      return new OpenAICompatibleEmbedder({
        baseUrl,
        model,
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...(dimension !== undefined ? { dimension } : {}),
        ...(batchSize !== undefined ? { batchSize } : {}),
        ...(maxRetries !== undefined ? { maxRetries } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(providerName !== undefined ? { providerName } : {}),
      });
    }
    default:
      throw new Error(`unknown embedding provider ${JSON.stringify((cfg as { provider: unknown }).provider)}`);
  }
}
