import { analyze, buildQuery, termSimilarity } from '@ragnest/nlp';

/** `hash` = `##n$$` (seed documents, RAGFlow ≤ v0.19.0); `id` = `[ID:n]` (v0.19.1+). */
export type MarkerStyle = 'hash' | 'id';

/** The citation marker of the chunk at `i` of the reference. */
export const citationMarker = (i: number, style: MarkerStyle) => (style === 'hash' ? `##${i}$$` : `[ID:${i}]`);

export const EXTRACTIVE_NOTE =
  'Extractive answer: no language model is configured for this assistant, so these are the passages of the knowledge base that best match the question.';
export const EXTRACTIVE_NOTHING =
  'Extractive answer: no language model is configured for this assistant, and nothing in its knowledge base matched the question.';

const SENTENCE = /[^。！？；!?;\n]+(?:[。！？；!?;]+|\.(?=\s|$)|$)|[^\n]+/g;

/** Splits text into sentences (CJK and Latin end marks), keeping the marks. */
function sentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n+/)) {
    const parts = para.match(SENTENCE) ?? [];
    for (const p of parts) {
      // a Latin "." ends a sentence only before whitespace
      for (const s of p.split(/(?<=[.!?])\s+/)) if (s.trim()) out.push(s.trim());
    }
  }
  return out;
}

/**
 * An answer assembled from the retrieved chunks when no model is configured (chat assistants and agents
 * alike): for each chunk, in ranking order, its sentences that share the most terms with the question,
 * with a citation to the chunk (its position in `chunks`). The text says plainly that it is extractive.
 */
export function extractiveAnswer(question: string, chunks: { content: string }[], quote: boolean, style: MarkerStyle, maxChunks = 4): { text: string; cited: number[] } {
  if (!chunks.length) return { text: EXTRACTIVE_NOTHING, cited: [] };
  const q = buildQuery(question);
  const lines: string[] = [];
  const cited: number[] = [];
  for (const [i, c] of chunks.slice(0, maxChunks).entries()) {
    const scored = sentences(c.content).map((s, k) => ({ s, k, score: q.tokens.length ? termSimilarity(q, analyze(s)) : 0 }));
    if (!scored.length) continue;
    const best = Math.max(...scored.map((x) => x.score));
    // the best-matching sentences (or the opening ones when none shares a term), in their original order, at most 3
    const picked = (best > 0 ? scored.filter((x) => x.score >= best * 0.5) : scored).slice(0, 3).sort((a, b) => a.k - b.k);
    lines.push(`- ${picked.map((x) => x.s).join(' ')}${quote ? ` ${citationMarker(i, style)}` : ''}`);
    cited.push(i);
  }
  return { text: `${EXTRACTIVE_NOTE}\n\n${lines.join('\n')}`, cited };
}
