import { countTokens as cl100kCount } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * cl100k_base token count (what RAGFlow's num_tokens_from_string uses).
 * gpt-tokenizer is exact and fast enough (~45 MB/s English, ~50 MB/s Chinese measured), so no approximation.
 */
export function countTokens(text: string): number {
  return text ? cl100kCount(text) : 0;
}
