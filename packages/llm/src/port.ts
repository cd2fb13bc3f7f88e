/** One chat message as sent to a chat model. */
export interface LlmMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Generation parameters (RAGFlow's chat `llm` block, minus the model name). */
export interface LlmParams {
  temperature?: number;
  top_p?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  max_tokens?: number;
}

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export type LlmDelta = { type: 'text'; text: string } | { type: 'usage'; usage: LlmUsage };

/** A chat model. Errors: throws LlmError (status, message safe to show); aborting `signal` cancels the upstream HTTP call. */
export interface ChatModel {
  /** RAGFlow model id "<model_name>@<factory>" */
  readonly id: string;
  stream(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): AsyncIterable<LlmDelta>;
  complete(messages: LlmMessage[], params: LlmParams, signal: AbortSignal): Promise<{ text: string; usage: LlmUsage }>;
}

/** A model-call failure whose message is safe to show to the API client. */
export class LlmError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

/** Resolves a tenant's chat model (tenant's llm_id / per-chat llm.model_name, configured via /v1/llm/set_api_key and
 *  /v1/user/set_tenant_info, or the env default for the default tenant). null = no LLM configured → extractive answers. */
export interface ChatModelResolver {
  resolve(tenantId: string, modelName?: string): Promise<ChatModel | null>;
}
