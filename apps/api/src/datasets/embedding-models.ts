import { Injectable } from '@nestjs/common';
import { BUILTIN_EMBEDDING_MODEL, DomainError, RetCode } from '@ragnest/contracts';
import { InjectConfig } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';

/** The embedding models this installation can run (built-in, plus the configured remote one). */
@Injectable()
export class EmbeddingModels {
  private readonly remote?: string;

  constructor(@InjectConfig() config: AppConfig) {
    const e = config.embedding;
    if (e.provider === 'openai' && e.model) this.remote = `${e.model}@${e.providerName ?? 'OpenAI-API-Compatible'}`;
  }

  defaultModelId(): string {
    return this.remote ?? BUILTIN_EMBEDDING_MODEL;
  }

  available(): string[] {
    return this.remote ? [BUILTIN_EMBEDDING_MODEL, this.remote] : [BUILTIN_EMBEDDING_MODEL];
  }

  /** RAGFlow's checks and messages for an `embedding_model` value. */
  assertUsable(model: string): void {
    const at = model.lastIndexOf('@');
    if (at < 0) throw new DomainError(RetCode.ARGUMENT_ERROR, 'Embedding model identifier must follow <model_name>@<provider> format');
    if (!model.slice(0, at).trim() || !model.slice(at + 1).trim()) {
      throw new DomainError(RetCode.ARGUMENT_ERROR, 'Both model_name and provider must be non-empty strings');
    }
    if (!this.available().includes(model)) throw new DomainError(RetCode.ARGUMENT_ERROR, `Unsupported model: ${model}`);
  }
}
