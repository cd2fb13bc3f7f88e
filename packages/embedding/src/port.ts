/** An embedding model. Vectors are L2-normalised Float32Arrays of `dimension` length. */
export interface EmbeddingProvider {
  /** `<model>@<provider>`, as RAGFlow names embedding models (e.g. `ragnest-hashing-v1@Builtin`). */
  readonly modelId: string;
  /** Known after construction for built-in models; for remote ones after the first call (or from config). */
  dimension(): Promise<number>;
  /** Embeds texts in order. Batching, truncation and retry of transient errors are the provider's job. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /**
   * Models that work on RagNest's analyzer tokens (the built-in one) may offer this: the same vectors as
   * embed() of the texts the token lists were analysed from, without analysing them again.
   */
  embedTokens?(tokenLists: string[][], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** A provider error that retrying will not fix (bad key, bad request, unknown model). */
export class PermanentEmbeddingError extends Error {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'PermanentEmbeddingError';
  }
}
