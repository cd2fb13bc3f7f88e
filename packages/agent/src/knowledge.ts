import type { ReferenceChunk } from './types.js';

/** RAGFlow's knowledge block (`kb_prompt`): one block per chunk with its citation id, blocks separated by rules. */
export function knowledgeBlock(chunks: { chunk: ReferenceChunk; index: number }[]): string {
  return chunks
    .map(({ chunk, index }) => `ID: ${index}\n├── Title: ${chunk.document_name}\n└── Content:\n${chunk.content}`)
    .join('\n\n------\n\n');
}

export const CITATION_PROMPT = [
  '',
  '# Citations',
  '- When a sentence uses information from the knowledge above, cite the passage by writing [ID:n] right after the sentence, before its punctuation, where n is the ID of that passage.',
  '- Use at most 4 citations per sentence, and cite only passages that support the sentence.',
  '- Numbers, dates and claims of cause and effect taken from the knowledge must be cited.',
].join('\n');

/** Citation markers models write in other shapes ((ID:1), [ID 1], 【ID:1】, [ID:1, ID:2]) → `[ID:n]`. */
export function normaliseCitations(text: string): string {
  return text
    .replace(/[[(（【]\s*ID\s*[:：]?\s*(\d+)\s*[\])）】]/gi, '[ID:$1]')
    .replace(/\[ID:(\d+)((?:\s*,\s*ID:?\s*\d+)+)\]/gi, (_m, first: string, rest: string) =>
      [first, ...rest.split(',').map((s) => s.replace(/\D/g, '')).filter(Boolean)].map((n) => `[ID:${n}]`).join(''),
    );
}

/** Seed-002-era marker `##n$$` from `[ID:n]`. */
export function toLegacyMarkers(text: string): string {
  return normaliseCitations(text).replace(/\[ID:(\d+)\]/g, '##$1$$$$');
}
