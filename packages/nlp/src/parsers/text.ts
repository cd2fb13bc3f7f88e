import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { decodeTextStream } from '../encoding.js';
import { byteProgress } from './common.js';

/** Size of the pieces a text file is yielded in; the chunker splits them further. */
const PIECE_CHARS = 64 * 1024;

/** Plain text and source code: decoded as a stream and yielded in newline-aligned pieces, never whole. */
export async function* parseText(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const stream = await source.stream();
  const progress = byteProgress(source.size, opts);
  let carry = '';
  let sawText = false;
  for await (const s of decodeTextStream(stream, { onBytes: progress, signal: opts.signal })) {
    carry += s;
    while (carry.length >= PIECE_CHARS * 2) {
      const cut = cutPoint(carry);
      const piece = carry.slice(0, cut);
      carry = carry.slice(cut);
      sawText ||= /\S/.test(piece);
      yield { kind: 'text', text: normalizeNewlines(piece) };
    }
  }
  if (carry) {
    sawText ||= /\S/.test(carry);
    yield { kind: 'text', text: normalizeNewlines(carry) };
  }
  if (!sawText) throw new ParseError('File is empty');
}

// Prefer a line break, then a space, then any non-surrogate boundary, so a file without newlines still streams.
function cutPoint(s: string): number {
  const nl = s.lastIndexOf('\n', PIECE_CHARS);
  if (nl > 0) return nl + 1;
  const sp = s.lastIndexOf(' ', PIECE_CHARS);
  if (sp > PIECE_CHARS / 2) return sp + 1;
  const c = s.charCodeAt(PIECE_CHARS - 1);
  return c >= 0xd800 && c <= 0xdbff ? PIECE_CHARS + 1 : PIECE_CHARS;
}

function normalizeNewlines(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}
