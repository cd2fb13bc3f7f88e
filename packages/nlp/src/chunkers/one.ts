import { countTokens } from '../tokens.js';
import type { ChunkDraft, Section } from '../types.js';
import { ParseError } from '../types.js';
import { addPositions, positionsOf, requireKind } from './common.js';
import type { ChunkContext } from './types.js';

/** `one`: the whole document as a single chunk, text in reading order (tables as HTML). */
export async function* chunkOne(sections: AsyncIterable<Section>, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  requireKind('one', ctx.kind, ['pdf', 'docx', 'txt', 'md', 'html', 'csv', 'json', 'code', 'xlsx', 'xls', 'pptx', 'eml']);
  const parts: string[] = [];
  const positions: number[][] = [];
  for await (const s of sections) {
    const t = s.kind === 'table' ? s.text : s.text.trim();
    if (!t) continue;
    parts.push(t);
    addPositions(positions, positionsOf(s));
  }
  const content = parts.join('\n');
  if (!content.trim()) throw new ParseError('No text content could be extracted from the file');
  yield { content, tokenCount: countTokens(content), positions, docType: '' };
}
