import { countTokens } from '../tokens.js';
import type { ChunkDraft, Section, SectionImage } from '../types.js';
import { ParseError } from '../types.js';
import { addPositions, positionsOf, requireKind } from './common.js';
import type { ChunkContext } from './types.js';

/** `picture`: the uploaded image and its OCR text as one chunk (doc_type image). */
export async function* chunkPicture(sections: AsyncIterable<Section>, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  requireKind('picture', ctx.kind, ['image']);
  let image: SectionImage | undefined;
  const text: string[] = [];
  const positions: number[][] = [];
  for await (const s of sections) {
    if (s.image && !image) image = s.image;
    if (s.text.trim()) text.push(s.text.trim());
    addPositions(positions, positionsOf(s));
  }
  if (!image) throw new ParseError('The image could not be decoded, so there is no picture to keep for chunk method \'picture\'');
  const content = text.join('\n');
  yield { content, tokenCount: countTokens(content), positions, docType: 'image', image };
}
