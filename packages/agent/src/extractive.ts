/**
 * The answer given when the tenant has no chat model: retrieved passages quoted as found, plainly marked, so
 * nobody mistakes it for generated text.
 */
export const EXTRACTIVE_NOTICE =
  'Extractive answer (no language model is configured for this tenant): the passages below are quoted from the knowledge base as retrieved, not generated.';
export const EXTRACTIVE_NOTHING_FOUND =
  'Extractive answer (no language model is configured for this tenant): no passage in the knowledge base matched the question.';

const MAX_PASSAGE_CHARS = 800;

/** `passages` in rank order; `index` is the chunk's position in the reference (its citation number). */
export function extractiveAnswer(passages: { content: string; index: number }[], maxPassages = 3): string {
  if (!passages.length) return EXTRACTIVE_NOTHING_FOUND;
  const lines = passages.slice(0, maxPassages).map((p, i) => {
    const text = p.content.trim().replace(/\s+\n/g, '\n');
    const cut = text.length > MAX_PASSAGE_CHARS ? `${text.slice(0, MAX_PASSAGE_CHARS)}…` : text;
    return `${i + 1}. ${cut} [ID:${p.index}]`;
  });
  return `${EXTRACTIVE_NOTICE}\n\n${lines.join('\n\n')}`;
}
