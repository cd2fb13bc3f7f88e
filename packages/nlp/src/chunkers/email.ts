import type { ChunkDraft, Section } from '../types.js';
import { requireKind } from './common.js';
import { naiveChunker } from './naive.js';
import type { ChunkContext } from './types.js';

/**
 * `email`: the headers ("Header: value" lines) and the body merged by the naive merge, then each attachment
 * chunked on its own (the parser has already parsed attachments recursively).
 */
export async function* chunkEmail(sections: AsyncIterable<Section>, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  requireKind('email', ctx.kind, ['eml']);
  let chunker = naiveChunker(ctx.options);
  let part: string | null = null;
  for await (const s of sections) {
    // headers and body are one stream; every attachment starts a stream of its own
    const key = s.meta?.part === 'attachment' ? `attachment\u0000${s.meta.filename ?? ''}` : 'message';
    if (part !== null && key !== part) {
      yield* chunker.flush();
      chunker = naiveChunker(ctx.options);
    }
    part = key;
    yield* chunker.push(s);
  }
  yield* chunker.flush();
}
