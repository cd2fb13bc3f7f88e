export * from './port.js';
export { HashingEmbedder, HASHING_MODEL_ID, type HashingEmbedderOptions } from './hashing.js';
export { OpenAICompatibleEmbedder, parseRetryAfter, type OpenAICompatibleEmbedderOptions } from './openai.js';
export { createEmbeddingProvider, type EmbeddingConfig } from './factory.js';
export { EmbeddingRegistry, createEmbeddingRegistry, embedChunks, vectorToBytes, bytesToVector, type ChunkText } from './registry.js';
