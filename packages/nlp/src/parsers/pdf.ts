import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/types/src/display/api.js';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';
import { ocrText } from './images.js';
import { type CanvasFactory, pageImages, type PageImage, renderPage } from './pdf-images.js';
import { type Block, inMargin, isGarbled, isPageNumber, marginKey, type RawItem, repeatingMargins, toBlocks, toLines } from './pdf-layout.js';

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

let pdfjsPromise: Promise<Pdfjs> | undefined;

/**
 * pdfjs' legacy build bundles core-js, which on Node 20 replaces some built-ins with JavaScript versions for
 * the whole process: Array.prototype.push (measured 9x slower), JSON.parse and JSON.stringify (2.4x), and
 * Function.prototype.toString (to make those look native). Every push and every JSON message of the process
 * paid for it. The replacements fix edge cases pdfjs never relies on, so the originals go back as soon as it
 * has loaded; what core-js adds (Promise.withResolvers, Uint8Array.fromBase64, …) stays, pdfjs needs it.
 */
async function keepingBuiltins<T>(load: () => Promise<T>): Promise<T> {
  const saved = [
    [Array.prototype, 'push', Object.getOwnPropertyDescriptor(Array.prototype, 'push')],
    [JSON, 'parse', Object.getOwnPropertyDescriptor(JSON, 'parse')],
    [JSON, 'stringify', Object.getOwnPropertyDescriptor(JSON, 'stringify')],
    [Function.prototype, 'toString', Object.getOwnPropertyDescriptor(Function.prototype, 'toString')],
  ] as const;
  try {
    return await load();
  } finally {
    for (const [target, key, descriptor] of saved) if (descriptor) Object.defineProperty(target, key, descriptor);
  }
}

// pdfjs is large, so it loads on the first PDF. Registering the worker module on globalThis makes pdfjs run its
// "fake worker" in this thread instead of resolving and spawning a worker file.
function loadPdfjs(): Promise<Pdfjs> {
  pdfjsPromise ??= keepingBuiltins(async () => {
    const workerSpecifier = 'pdfjs-dist/legacy/build/pdf.worker.mjs';
    const [pdfjs, worker] = await Promise.all([import('pdfjs-dist/legacy/build/pdf.mjs'), import(workerSpecifier)]);
    (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker ??= worker;
    return pdfjs;
  });
  return pdfjsPromise;
}

// CJK PDFs need the Adobe CMaps; pdfjs reads them from disk in Node (paths must end with a slash).
const pdfjsRoot = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const CMAP_DIR = join(pdfjsRoot, 'cmaps') + '/';
const FONT_DIR = join(pdfjsRoot, 'standard_fonts') + '/';

/** Pages sampled (spread over the whole document) to learn its running headers and footers. */
const MARGIN_SAMPLE_PAGES = 12;
/** A page with less text than this that is mostly one picture is a scan (maybe with a stamp or page number). */
const SCAN_TEXT_CHARS = 50;
/** Longest side of a page rendered for OCR, in pixels. */
const RENDER_MAX_SIDE = 2400;
/** pdfjs keeps fonts and images of visited pages; freeing them every so often bounds memory on long PDFs. */
const CLEANUP_EVERY = 25;

async function openPdf(buf: Buffer, pdfjs: Pdfjs) {
  return pdfjs.getDocument({
    // pdfjs may transfer (detach) the buffer it gets, and Node Buffers can share a pooled ArrayBuffer.
    data: new Uint8Array(buf),
    cMapUrl: CMAP_DIR,
    cMapPacked: true,
    standardFontDataUrl: FONT_DIR,
    useSystemFonts: false,
    disableFontFace: true,
    isEvalSupported: false,
    useWorkerFetch: false,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    // Pictures above this are not decoded at all (a 600-dpi letter scan is 34 MP); bounds memory per page.
    maxImageSize: 40_000_000,
    verbosity: 0,
  });
}

/** Number of pages, so a large PDF can be split into page-range tasks. Bad input → ParseError. */
export async function pdfPageCount(source: ParseSource, maxBytes: number): Promise<number> {
  const buf = await readWhole(source, { maxInMemoryBytes: maxBytes }, 'PDF');
  const pdfjs = await loadPdfjs();
  const task = await openPdf(buf, pdfjs);
  try {
    const doc = await task.promise.catch((e: unknown) => {
      throw pdfError(e);
    });
    return doc.numPages;
  } finally {
    await task.destroy().catch(() => undefined);
  }
}

/**
 * PDF, page by page within [fromPage, toPage): paragraphs and tables (HTML) from the text layer with RAGFlow
 * positions, running headers/footers and page numbers dropped, pictures as image sections placed where they
 * stand; pages without a usable text layer (scans, garbled fonts) are rendered and OCR'd.
 */
export async function* parsePdf(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'PDF');
  const pdfjs = await loadPdfjs();
  const task = await openPdf(buf, pdfjs);
  try {
    let doc: PDFDocumentProxy;
    try {
      doc = await task.promise;
    } catch (e) {
      throw pdfError(e);
    }
    const total = doc.numPages;
    const from = Math.min(Math.max(0, Math.floor(opts.fromPage ?? 0)), total);
    const to = Math.min(Math.max(from, Math.floor(opts.toPage ?? total)), total);
    // the sampled pages' text is kept for when their turn comes (12 of a 50-page file's pages are sampled)
    const sampled = new Map<number, RawItem[]>();
    const margins = await learnMargins(doc, total, (n, items) => n > from && n <= to && sampled.set(n, items));
    const seenImages = new Set<string>();
    let produced = 0;
    for (let n = from + 1; n <= to; n++) {
      opts.signal?.throwIfAborted();
      let page: PDFPageProxy;
      try {
        page = await doc.getPage(n);
      } catch (e) {
        throw pdfError(e);
      }
      try {
        const items = sampled.get(n);
        sampled.delete(n);
        for await (const s of pageSections(doc, page, n, pdfjs, margins, seenImages, opts, items)) {
          produced++;
          yield s;
        }
      } finally {
        page.cleanup();
      }
      if ((n - from) % CLEANUP_EVERY === 0) await doc.cleanup().catch(() => undefined);
      opts.onProgress?.({ fraction: (n - from) / (to - from), message: `page ${n}/${total}` });
    }
    if (!produced && from === 0 && to === total) throw new ParseError('PDF has no text or pictures');
  } finally {
    await task.destroy().catch(() => undefined);
  }
}

async function* pageSections(
  doc: PDFDocumentProxy,
  page: PDFPageProxy,
  n: number,
  pdfjs: Pdfjs,
  margins: Set<string>,
  seenImages: Set<string>,
  opts: ParseOptions,
  textItems?: RawItem[],
): AsyncGenerator<Section> {
  const [vx0 = 0, vy0 = 0, vx1 = 0, vy1 = 0] = page.view;
  const width = vx1 - vx0;
  const height = vy1 - vy0;
  let lines;
  let images: PageImage[];
  try {
    lines = toLines(textItems ?? (await pageTextItems(page)), vy1, vx0);
    images = await pageImages(page, pdfjs, await page.getOperatorList());
  } catch (e) {
    throw pdfError(e);
  }
  const text = lines.map((l) => l.text).join('');
  const scanned =
    !text.trim() || isGarbled(text) || (text.replace(/\s/g, '').length < SCAN_TEXT_CHARS && images.some((i) => i.coverage > 0.5));
  if (scanned) {
    // A plain scan is one picture filling the page: OCR its pixels directly instead of rendering the page.
    const only = images.length === 1 && images[0]!.coverage >= 0.85 && !isGarbled(text) ? images[0]! : undefined;
    yield* scannedPage(doc, page, n, width, height, only, opts);
    return;
  }
  const kept = lines.filter((l) => !(inMargin(l, height) && (margins.has(marginKey(l.text)) || (doc.numPages > 1 && isPageNumber(l.text)))));
  const blocks = toBlocks(kept);
  // Pictures go before the first block that starts below them, so the order follows the page.
  const pictures = images.filter((i) => !seenImages.has(i.hash)).sort((a, b) => a.top - b.top);
  let p = 0;
  const position = (b: { x0: number; x1: number; top: number; bottom: number }) => [[n, r(b.x0), r(b.x1), r(b.top), r(b.bottom)]];
  for (const b of blocks) {
    while (p < pictures.length && pictures[p]!.top <= b.top) yield* pictureSection(pictures[p++]!, n, seenImages, opts);
    yield blockSection(b, n, position);
  }
  while (p < pictures.length) yield* pictureSection(pictures[p++]!, n, seenImages, opts);
}

function blockSection(b: Block, n: number, position: (b: Block) => number[][]): Section {
  return { kind: b.kind, text: b.text, page: n, positions: position(b) };
}

async function* pictureSection(img: PageImage, n: number, seen: Set<string>, opts: ParseOptions): AsyncGenerator<Section> {
  // A logo repeated on every page is one picture, not one per page.
  seen.add(img.hash);
  opts.signal?.throwIfAborted();
  const text = await ocrText(img.png, opts, false);
  yield {
    kind: 'image',
    text,
    page: n,
    positions: [[n, r(img.x0), r(img.x1), r(img.top), r(img.bottom)]],
    image: { data: img.png, mime: 'image/png', width: img.width, height: img.height },
  };
}

/** A page without a usable text layer: rendered, then OCR'd paragraph by paragraph; the picture itself without OCR. */
async function* scannedPage(
  doc: PDFDocumentProxy,
  page: PDFPageProxy,
  n: number,
  width: number,
  height: number,
  scan: PageImage | undefined,
  opts: ParseOptions,
): AsyncGenerator<Section> {
  opts.signal?.throwIfAborted();
  // Pixels → points: x = ox + px / sx, top = oy + py / sy.
  let rendered: { png: Buffer; sx: number; sy: number; ox: number; oy: number };
  if (scan) {
    rendered = { png: scan.png, sx: scan.width / (scan.x1 - scan.x0), sy: scan.height / (scan.bottom - scan.top), ox: scan.x0, oy: scan.top };
  } else {
    try {
      const { png, scale } = await renderPage(page, (doc as unknown as { canvasFactory: CanvasFactory }).canvasFactory, RENDER_MAX_SIDE);
      rendered = { png, sx: scale, sy: scale, ox: 0, oy: 0 };
    } catch (e) {
      throw new ParseError(`Corrupt PDF: page ${n} cannot be rendered (${errorMessage(e)})`);
    }
  }
  const whole = [[n, 0, r(width), 0, r(height)]];
  if (opts.ocr !== false && opts.ocrEngine) {
    const result = await opts.ocrEngine.recognize(rendered.png, opts.signal).catch((e: unknown) => {
      opts.signal?.throwIfAborted();
      throw e;
    });
    const { sx, sy, ox, oy } = rendered;
    const paragraphs = result.paragraphs?.length ? result.paragraphs : result.text ? [{ text: result.text, x0: 0, y0: 0, x1: width * sx, y1: height * sy }] : [];
    for (const p of paragraphs) {
      const box = [n, r(ox + p.x0 / sx), r(ox + p.x1 / sx), r(oy + p.y0 / sy), r(oy + p.y1 / sy)];
      yield { kind: 'text', text: p.text, page: n, positions: [box], meta: { ocr: '1' } };
    }
    if (paragraphs.length) return;
  }
  // No OCR (or nothing recognised): the page is kept as a picture so it is still visible in results.
  yield { kind: 'image', text: '', page: n, positions: whole, image: { data: rendered.png, mime: 'image/png' }, meta: { scan: '1' } };
}

/** Running header/footer texts, from pages spread over the whole document (every page-range task agrees). */
async function pageTextItems(page: PDFPageProxy): Promise<RawItem[]> {
  const content = await page.getTextContent();
  return content.items.filter((i) => 'str' in i) as RawItem[];
}

/** `onText` receives each sampled page's text items. */
async function learnMargins(doc: PDFDocumentProxy, total: number, onText: (n: number, items: RawItem[]) => unknown): Promise<Set<string>> {
  if (total < 2) return new Set();
  const picks = new Set<number>();
  const k = Math.min(MARGIN_SAMPLE_PAGES, total);
  for (let i = 0; i < k; i++) picks.add(1 + Math.round((i * (total - 1)) / Math.max(1, k - 1)));
  const pages: { lines: ReturnType<typeof toLines>; height: number }[] = [];
  for (const n of picks) {
    try {
      const page = await doc.getPage(n);
      const [vx0 = 0, vy0 = 0, , vy1 = 0] = page.view;
      const items = await pageTextItems(page);
      onText(n, items);
      pages.push({ lines: toLines(items, vy1, vx0), height: vy1 - vy0 });
      page.cleanup();
    } catch (e) {
      throw pdfError(e);
    }
  }
  return repeatingMargins(pages);
}

function pdfError(e: unknown): Error {
  if (e instanceof ParseError) return e;
  const name = e instanceof Error ? e.name : '';
  if (name === 'AbortError') return e as Error;
  if (name === 'PasswordException') return new ParseError('PDF is password-protected');
  return new ParseError(`Corrupt PDF: ${errorMessage(e)}`);
}

function r(v: number): number {
  return Math.round(v * 100) / 100;
}
