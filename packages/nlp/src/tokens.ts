import { countTokens as cl100kCount } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * cl100k_base token count (what RAGFlow's num_tokens_from_string uses).
 * gpt-tokenizer is exact and fast enough (measured 25–45 MB/s on English/mixed text, 60+ MB/s on Chinese),
 * so no approximation is needed.
 */
export function countTokens(text: string): number {
  return text ? cl100kCount(text) : 0;
}
