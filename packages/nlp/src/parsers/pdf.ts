import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

let pdfjsPromise: Promise<Pdfjs> | undefined;

// pdfjs is large, so it loads on the first PDF. Registering the worker module on globalThis makes pdfjs run its
// "fake worker" in this thread instead of resolving and spawning a worker file.
function loadPdfjs(): Promise<Pdfjs> {
  pdfjsPromise ??= (async () => {
    const workerSpecifier = 'pdfjs-dist/legacy/build/pdf.worker.mjs';
    const [pdfjs, worker] = await Promise.all([import('pdfjs-dist/legacy/build/pdf.mjs'), import(workerSpecifier)]);
    (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker ??= worker;
    return pdfjs;
  })();
  return pdfjsPromise;
}

// CJK PDFs need the Adobe CMaps; pdfjs reads them from disk in Node (paths must end with a slash).
const pdfjsRoot = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const CMAP_DIR = join(pdfjsRoot, 'cmaps') + '/';
const FONT_DIR = join(pdfjsRoot, 'standard_fonts') + '/';

interface Line {
  text: string;
  x0: number;
  x1: number;
  top: number;
  bottom: number;
  /** font size */
  h: number;
}

interface RawItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}

/** Number of pages, so a large PDF can be split into page-range tasks. Bad input → ParseError. */
export async function pdfPageCount(source: ParseSource, maxBytes: number): Promise<number> {
  const buf = await readWhole(source, { maxInMemoryBytes: maxBytes }, 'PDF');
  const pdfjs = await loadPdfjs();
  const task = pdfjs.getDocument({ data: new Uint8Array(buf), isEvalSupported: false, useWorkerFetch: false, verbosity: 0 });
  try {
    const doc = await task.promise.catch((e: unknown) => {
      throw pdfError(e);
    });
    return doc.numPages;
  } finally {
    await task.destroy().catch(() => undefined);
  }
}

/** PDF text layer, page by page: lines grouped into paragraphs, each with its RAGFlow position. */
export async function* parsePdf(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'PDF');
  const pdfjs = await loadPdfjs();
  const task = pdfjs.getDocument({
    // pdfjs may transfer (detach) the buffer it gets, and Node Buffers can share a pooled ArrayBuffer.
    data: new Uint8Array(buf),
    cMapUrl: CMAP_DIR,
    cMapPacked: true,
    standardFontDataUrl: FONT_DIR,
    useSystemFonts: false,
    disableFontFace: true,
    isEvalSupported: false,
    useWorkerFetch: false,
    verbosity: 0,
  });
  try {
    let doc: Awaited<typeof task.promise>;
    try {
      doc = await task.promise;
    } catch (e) {
      throw pdfError(e);
    }
    let paragraphs = 0;
    for (let n = 1; n <= doc.numPages; n++) {
      opts.signal?.throwIfAborted();
      let lines: Line[];
      try {
        const page = await doc.getPage(n);
        const [, , , pageTop] = page.view as [number, number, number, number];
        const content = await page.getTextContent();
        lines = toLines(content.items.filter((i) => 'str' in i) as RawItem[], pageTop, page.view[0] ?? 0);
        page.cleanup();
      } catch (e) {
        throw pdfError(e);
      }
      for (const p of toParagraphs(lines)) {
        paragraphs++;
        yield {
          kind: 'text',
          text: p.text,
          positions: [[n, round(p.x0), round(p.x1), round(p.top), round(p.bottom)]],
        };
      }
      opts.onProgress?.({ fraction: n / doc.numPages, message: `page ${n}/${doc.numPages}` });
    }
    if (!paragraphs) throw new ParseError('PDF has no text layer (scanned?); OCR is not available yet');
  } finally {
    await task.destroy().catch(() => undefined);
  }
}

function pdfError(e: unknown): Error {
  if (e instanceof ParseError) return e;
  const name = e instanceof Error ? e.name : '';
  if (name === 'AbortError') return e as Error;
  if (name === 'PasswordException') return new ParseError('PDF is password-protected');
  return new ParseError(`Corrupt PDF: ${errorMessage(e)}`);
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Text items → visual lines. Top/bottom are measured from the top of the page, in PDF points. */
function toLines(items: RawItem[], pageTop: number, pageLeft: number): Line[] {
  const lines: Line[] = [];
  let cur: (Line & { baseline: number }) | null = null;
  let breakNext = false;
  for (const it of items) {
    const [, , c = 0, d = 0, x = 0, y = 0] = it.transform;
    const h = it.height || Math.hypot(c, d) || 1;
    if (!it.str.trim()) {
      // Whitespace items carry no geometry worth keeping, but they still separate words and end lines.
      if (cur && it.str && !cur.text.endsWith(' ')) cur.text += ' ';
      breakNext ||= it.hasEOL;
      continue;
    }
    const x0 = x - pageLeft;
    const x1 = x0 + it.width;
    const sameLine = cur && !breakNext && Math.abs(y - cur.baseline) < 0.5 * Math.max(h, cur.h) && x0 > cur.x0 - h;
    if (cur && sameLine) {
      const gap = x0 - cur.x1;
      if (gap > 0.2 * h && !cur.text.endsWith(' ') && !it.str.startsWith(' ')) cur.text += ' ';
      cur.text += it.str;
      cur.x1 = Math.max(cur.x1, x1);
      cur.top = Math.min(cur.top, pageTop - (y + h));
      cur.bottom = Math.max(cur.bottom, pageTop - y);
      cur.h = Math.max(cur.h, h);
    } else {
      if (cur) lines.push(cur);
      cur = { text: it.str, x0, x1, top: pageTop - (y + h), bottom: pageTop - y, h, baseline: y };
    }
    breakNext = it.hasEOL;
  }
  if (cur) lines.push(cur);
  return lines.map(({ text, x0, x1, top, bottom, h }) => ({ text: text.trim(), x0, x1, top, bottom, h }));
}

/** Lines → paragraphs: a new paragraph at a vertical gap, a font-size change, or a jump back up (next column). */
function toParagraphs(lines: Line[]): Line[] {
  const out: Line[] = [];
  let cur: Line | null = null;
  for (const line of lines) {
    if (!line.text) continue;
    if (cur) {
      const gap = line.top - cur.bottom;
      const sizeChange = Math.abs(line.h - cur.h) > 0.2 * Math.min(line.h, cur.h);
      if (gap <= 0.6 * line.h && gap > -0.5 * line.h && !sizeChange) {
        cur.text = joinLines(cur.text, line.text);
        cur.x0 = Math.min(cur.x0, line.x0);
        cur.x1 = Math.max(cur.x1, line.x1);
        cur.bottom = Math.max(cur.bottom, line.bottom);
        continue;
      }
      out.push(cur);
    }
    cur = { ...line };
  }
  if (cur) out.push(cur);
  return out;
}

const CJK_END = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]$/u;
const CJK_START = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]/u;

function joinLines(a: string, b: string): string {
  // "exam-" + "ple" was one word broken by the layout.
  if (/\p{L}-$/u.test(a) && /^\p{Ll}/u.test(b)) return a.slice(0, -1) + b;
  if (CJK_END.test(a) || CJK_START.test(b)) return a + b;
  return `${a} ${b}`;
}
