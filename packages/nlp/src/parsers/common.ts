import type { ParseOptions, ParseSource } from '../types.js';
import { ParseError } from '../types.js';

const MB = 1024 * 1024;

/** The whole file for formats that need random access; refuses files above the in-memory limit up front. */
export async function readWhole(source: ParseSource, opts: ParseOptions, what: string): Promise<Buffer> {
  if (source.size > opts.maxInMemoryBytes) {
    throw new ParseError(
      `${what} file is too large to parse (${(source.size / MB).toFixed(1)} MB, limit ${(opts.maxInMemoryBytes / MB).toFixed(1)} MB)`,
    );
  }
  const buf = await source.buffer(opts.maxInMemoryBytes);
  if (buf.length === 0) throw new ParseError('File is empty');
  return buf;
}

/** onProgress throttled to whole percents, so a 200 MB file does not produce thousands of callbacks. */
export function byteProgress(total: number, opts: ParseOptions): (bytes: number) => void {
  let last = -1;
  return (bytes) => {
    if (!opts.onProgress || total <= 0) return;
    const pct = Math.min(100, Math.floor((bytes / total) * 100));
    if (pct === last) return;
    last = pct;
    opts.onProgress({ fraction: pct / 100 });
  };
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Collapse runs of whitespace the way a browser renders them. */
export function collapseWhitespace(s: string): string {
  return s.replace(/[ \t\n\r\f\v\u00a0]+/g, ' ').trim();
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}
