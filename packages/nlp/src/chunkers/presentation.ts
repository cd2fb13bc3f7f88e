import { countTokens } from '../tokens.js';
import type { ChunkDraft, Section, SectionImage } from '../types.js';
import { ParseError } from '../types.js';
import { imageDraft, positionsOf, requireKind } from './common.js';
import type { ChunkContext } from './types.js';

/** The slide (PPTX) or page (PDF) a section belongs to. */
function slideOf(s: Section): number | null {
  const n = Number(s.meta?.slide);
  if (Number.isInteger(n) && n > 0) return n;
  if (s.page) return s.page;
  const p = s.positions?.[0]?.[0];
  return p && p > 0 ? p : null;
}

interface Slide {
  no: number;
  text: string[];
  notes: string[];
  images: Section[];
}

function slideChunks(sl: Slide): ChunkDraft[] {
  const body = sl.text.join('\n');
  const notes = sl.notes.join('\n');
  const content = [body, notes ? `Notes: ${notes}` : ''].filter(Boolean).join('\n');
  // the slide's picture: its largest image (a full-slide render when the parser made one)
  const images = sl.images.filter((s): s is Section & { image: SectionImage } => !!s.image).sort((a, b) => b.image.data.length - a.image.data.length);
  const main = images[0];
  const out: ChunkDraft[] = [];
  if (content || main) {
    out.push({
      content,
      tokenCount: countTokens(content),
      positions: [[sl.no, 0, 0, 0, 0]],
      docType: main ? 'image' : '',
      ...(main ? { image: main.image } : {}),
    });
  }
  // further pictures of the slide stay retrievable as image chunks of their own
  for (const extra of images.slice(1)) out.push(imageDraft({ ...extra, positions: positionsOf(extra).length ? positionsOf(extra) : [[sl.no, 0, 0, 0, 0]] }));
  return out;
}

/** `presentation`: one chunk per slide (PPTX) or page (PDF) with its text, notes and picture. */
export async function* chunkPresentation(sections: AsyncIterable<Section>, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  requireKind('presentation', ctx.kind, ['pptx', 'pdf']);
  let cur: Slide | null = null;
  let emitted = 0;
  for await (const s of sections) {
    const no: number = slideOf(s) ?? cur?.no ?? 1;
    if (cur && cur.no !== no) {
      for (const d of slideChunks(cur)) {
        emitted++;
        yield d;
      }
      cur = null;
    }
    cur ??= { no, text: [], notes: [], images: [] };
    if (s.kind === 'image') {
      if (s.image) cur.images.push(s);
      if (s.text.trim()) cur.text.push(s.text.trim());
    } else if (s.meta?.notes) {
      if (s.text.trim()) cur.notes.push(s.text.trim());
    } else if (s.text.trim()) {
      cur.text.push(s.text.trim());
    }
  }
  if (cur) {
    for (const d of slideChunks(cur)) {
      emitted++;
      yield d;
    }
  }
  if (emitted === 0) throw new ParseError('No slide or page content could be extracted from the file');
}
