import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';
import { ocrText } from './images.js';
import { type PageImage, pageImages, type PageView, type RawPageImage, type RawPixels, renderedPng, renderPage, toPng } from './pdf-images.js';
import { type Block, inMargin, isGarbled, isPageNumber, type Line, marginKey, type RawItem, repeatingMargins, toBlocks, toLines } from './pdf-layout.js';
import { discardPdfium, FPDF_ERR, isWasmTrap, loadPdfium, type Pdfium } from './pdfium.js';

/** Pages sampled (spread over the whole document) to learn its running headers and footers. */
const MARGIN_SAMPLE_PAGES = 12;
/** A page with less text than this that is mostly one picture is a scan (maybe with a stamp or page number). */
const SCAN_TEXT_CHARS = 50;
/** Longest side of a page rendered for OCR, in pixels. */
const RENDER_MAX_SIDE = 2400;

/** An open PDFium document and the WebAssembly copy of its bytes (PDFium reads from it until it is closed). */
interface PdfDoc {
  p: Pdfium;
  doc: number;
  data: number;
  pages: number;
}

async function openPdf(buf: Buffer): Promise<PdfDoc> {
  const p = await loadPdfium();
  const data = p.copyIn(buf);
  const doc = p.w.FPDF_LoadMemDocument(data, buf.length, 0);
  if (!doc) {
    const code = p.w.FPDF_GetLastError();
    p.w.free(data);
    throw loadError(code);
  }
  return { p, doc, data, pages: Math.max(0, p.w.FPDF_GetPageCount(doc)) };
}

function closePdf(d: PdfDoc): void {
  try {
    d.p.w.FPDF_CloseDocument(d.doc);
    d.p.w.free(d.data);
  } catch (e) {
    // a trapped instance may trap again here; it is discarded, and the parse error already thrown is the one to keep
    if (isWasmTrap(e)) discardPdfium(d.p);
    else throw e;
  }
}

function loadError(code: number): ParseError {
  if (code === FPDF_ERR.PASSWORD) return new ParseError('PDF is password-protected');
  if (code === FPDF_ERR.SECURITY) return new ParseError('Corrupt PDF: unsupported encryption');
  if (code === FPDF_ERR.FORMAT) return new ParseError('Corrupt PDF: not a PDF file or damaged beyond repair');
  return new ParseError(`Corrupt PDF: cannot be opened (PDFium error ${code})`);
}

/** Runs `use` on page n (1-based), opened and always closed again. */
function withPage<T>(d: PdfDoc, n: number, use: (page: number, view: PageView) => T): T {
  const { w } = d.p;
  const page = w.FPDF_LoadPage(d.doc, n - 1);
  if (!page) throw new ParseError(`Corrupt PDF: page ${n} cannot be read`);
  try {
    const s = d.p.scratch;
    // The visible box (crop box within the media box) in user space, unrotated: FS_RECTF left, top, right, bottom.
    let view: PageView;
    if (w.FPDF_GetPageBoundingBox(page, s)) view = { x0: d.p.f32(s), y1: d.p.f32(s + 4), x1: d.p.f32(s + 8), y0: d.p.f32(s + 12) };
    else view = { x0: 0, y0: 0, x1: w.FPDF_GetPageWidthF(page), y1: w.FPDF_GetPageHeightF(page) };
    return use(page, view);
  } finally {
    w.FPDF_ClosePage(page);
  }
}

/** What a PDF's page-range tasks share: its page count and its running header/footer lines. */
export interface PdfLayout {
  pages: number;
  /** pass to parsePdf as `pdfMargins`; null when `learnMarginsIf` declined (a file parsed whole learns them itself) */
  margins: string[] | null;
}

/**
 * Page count of a PDF and, when `learnMarginsIf(pages)` says so (the file will be split into page-range tasks), its
 * running headers/footers, read once: each range task then parses only its own pages instead of sampling pages
 * across the file again. One open of the file. Bad input → ParseError.
 */
export async function pdfLayout(source: ParseSource, maxBytes: number, learnMarginsIf: (pages: number) => boolean = () => true): Promise<PdfLayout> {
  const buf = await readWhole(source, { maxInMemoryBytes: maxBytes }, 'PDF');
  const d = await openPdf(buf);
  try {
    return { pages: d.pages, margins: learnMarginsIf(d.pages) ? [...learnMargins(d, d.pages, () => undefined)] : null };
  } catch (e) {
    throw pdfError(e, d);
  } finally {
    closePdf(d);
  }
}

/**
 * PDF, page by page within [fromPage, toPage): paragraphs and tables (HTML) from the text layer with RAGFlow
 * positions, running headers/footers and page numbers dropped, pictures as image sections placed where they
 * stand; pages without a usable text layer (scans, garbled fonts) are rendered and OCR'd.
 */
export async function* parsePdf(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'PDF');
  const d = await openPdf(buf);
  try {
    const total = d.pages;
    const from = Math.min(Math.max(0, Math.floor(opts.fromPage ?? 0)), total);
    const to = Math.min(Math.max(from, Math.floor(opts.toPage ?? total)), total);
    // the sampled pages' text is kept for when their turn comes (12 of a 50-page file's pages are sampled)
    const sampled = new Map<number, RawItem[]>();
    let margins: Set<string>;
    try {
      margins = opts.pdfMargins ? new Set(opts.pdfMargins) : learnMargins(d, total, (n, items) => n > from && n <= to && sampled.set(n, items));
    } catch (e) {
      throw pdfError(e, d);
    }
    const seenImages = new Set<string>();
    let produced = 0;
    for (let n = from + 1; n <= to; n++) {
      opts.signal?.throwIfAborted();
      const items = sampled.get(n);
      sampled.delete(n);
      for await (const s of pageSections(d, n, margins, seenImages, opts, items)) {
        produced++;
        yield s;
      }
      opts.onProgress?.({ fraction: (n - from) / (to - from), message: `page ${n}/${total}` });
    }
    if (!produced && from === 0 && to === total) throw new ParseError('PDF has no text or pictures');
  } finally {
    closePdf(d);
  }
}

/** What a page holds, read while it is open (pixels copied out), so the page is closed before any await. */
interface PageContent {
  width: number;
  height: number;
  lines: Line[];
  /** pictures worth keeping; for a scan, at most the one picture that is the scan */
  images: RawPageImage[];
  scanned: boolean;
  /** the scan's own picture, OCR'd instead of a rendering */
  scan?: RawPageImage;
  /** the page rendered, when it is a scan that is not one picture */
  rendered?: RawPixels & { scale: number };
  renderError?: string;
}

function readPage(d: PdfDoc, n: number, textItems?: RawItem[]): PageContent {
  return withPage(d, n, (page, view) => {
    const width = view.x1 - view.x0;
    const height = view.y1 - view.y0;
    const lines = toLines(textItems ?? pageTextItems(d.p, page), view.y1, view.x0);
    const images = pageImages(d.p, page, view);
    const text = lines.map((l) => l.text).join('');
    const scanned =
      !text.trim() || isGarbled(text) || (text.replace(/\s/g, '').length < SCAN_TEXT_CHARS && images.some((i) => i.coverage > 0.5));
    if (!scanned) return { width, height, lines, images, scanned };
    // A plain scan is one picture filling the page: OCR its pixels directly instead of rendering the page.
    const scan = images.length === 1 && images[0]!.coverage >= 0.85 && !isGarbled(text) ? images[0]! : undefined;
    if (scan) return { width, height, lines, images: [], scanned, scan };
    try {
      return { width, height, lines, images: [], scanned, rendered: renderPage(d.p, page, RENDER_MAX_SIDE) };
    } catch (e) {
      return { width, height, lines, images: [], scanned, renderError: errorMessage(e) };
    }
  });
}

async function* pageSections(
  d: PdfDoc,
  n: number,
  margins: Set<string>,
  seenImages: Set<string>,
  opts: ParseOptions,
  textItems?: RawItem[],
): AsyncGenerator<Section> {
  let c: PageContent;
  try {
    c = readPage(d, n, textItems);
  } catch (e) {
    throw pdfError(e, d);
  }
  if (c.scanned) {
    yield* scannedPage(n, c, opts);
    return;
  }
  const { height, lines } = c;
  const kept = lines.filter((l) => !(inMargin(l, height) && (margins.has(marginKey(l.text)) || (d.pages > 1 && isPageNumber(l.text)))));
  const blocks = toBlocks(kept);
  // Pictures go before the first block that starts below them, so the order follows the page. A picture seen on
  // an earlier page is not encoded again.
  const pictures: PageImage[] = [];
  for (const img of c.images.filter((i) => !seenImages.has(i.hash)).sort((a, b) => a.top - b.top)) {
    const png = await toPng(img);
    if (png) pictures.push(png);
  }
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
async function* scannedPage(n: number, c: PageContent, opts: ParseOptions): AsyncGenerator<Section> {
  opts.signal?.throwIfAborted();
  const { width, height, scan } = c;
  // Pixels → points: x = ox + px / sx, top = oy + py / sy.
  let rendered: { png: Buffer; sx: number; sy: number; ox: number; oy: number };
  const png = scan ? await toPng(scan) : null;
  if (scan && png) {
    rendered = { png: png.png, sx: png.width / (scan.x1 - scan.x0), sy: png.height / (scan.bottom - scan.top), ox: scan.x0, oy: scan.top };
  } else {
    try {
      if (!c.rendered) throw new Error(c.renderError ?? 'the picture cannot be encoded');
      rendered = { png: await renderedPng(c.rendered), sx: c.rendered.scale, sy: c.rendered.scale, ox: 0, oy: 0 };
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

/** Whitespace between words (control characters are not: they mark a garbled font). */
function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 0xa0 || code === 0x3000 || (code >= 0x2000 && code <= 0x200b);
}

/**
 * The page's text as the items toLines reads, one per word: PDFium orders the characters, inserts spaces where
 * runs are apart and CR LF where a line ends; each word gets the origin, size and advance of its characters.
 */
function pageTextItems(p: Pdfium, page: number): RawItem[] {
  const { w } = p;
  const tp = w.FPDFText_LoadPage(page);
  if (!tp) throw new ParseError('Corrupt PDF: the text layer cannot be read');
  try {
    const n = w.FPDFText_CountChars(tp);
    if (n <= 0) return [];
    const buf = w.malloc((n + 1) * 2);
    if (!buf) throw new Error('out of memory');
    let text: string;
    try {
      const len = w.FPDFText_GetText(tp, 0, n, buf);
      text = utf16.decode(p.bytes(buf, Math.max(0, len - 1) * 2));
    } finally {
      w.free(buf);
    }
    // One UTF-16 unit per character, except characters beyond the BMP (two): then index by character instead.
    const chars = text.length === n ? null : Array.from({ length: n }, (_, i) => codePoint(w.FPDFText_GetUnicode(tp, i)));
    const code = chars ? (i: number) => chars[i]!.codePointAt(0)! : (i: number) => text.charCodeAt(i);
    const s = p.scratch;
    const items: RawItem[] = [];
    let i = 0;
    while (i < n) {
      if (isSpace(code(i))) {
        let eol = false;
        for (; i < n && isSpace(code(i)); i++) eol ||= code(i) === 10 || code(i) === 13;
        items.push({ str: eol ? '' : ' ', transform: [], width: 0, height: 0, hasEOL: eol });
        continue;
      }
      const first = i;
      while (i < n && !isSpace(code(i))) i++;
      const last = i - 1;
      const str = chars ? chars.slice(first, i).join('') : text.slice(first, i);
      w.FPDFText_GetCharOrigin(tp, first, s, s + 8);
      const x = p.f64(s);
      const y = p.f64(s + 8);
      // The font size is the one set by Tf; the text matrix and CTM may scale it (Tf 1 with a 12-point Tm).
      const size = w.FPDFText_GetFontSize(tp, first);
      const scale = w.FPDFText_GetMatrix(tp, first, s) ? Math.hypot(p.f32(s + 8), p.f32(s + 12)) : 1;
      const h = size * scale || size || 1;
      // The loose box of the last character spans its advance: left, top, right, bottom.
      const right = w.FPDFText_GetLooseCharBox(tp, last, s) ? p.f32(s + 8) : x;
      items.push({ str, transform: [h, 0, 0, h, x, y], width: Math.max(0, right - x), height: h, hasEOL: false });
    }
    return items;
  } finally {
    w.FPDFText_ClosePage(tp);
  }
}

const utf16 = new TextDecoder('utf-16le');

/** A character from PDFium's (32-bit) code; nothing mapped or out of range is U+FFFD. */
function codePoint(code: number): string {
  return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
}

/** Running header/footer texts, from pages spread over the whole document (every page-range task agrees). */
function learnMargins(d: PdfDoc, total: number, onText: (n: number, items: RawItem[]) => unknown): Set<string> {
  if (total < 2) return new Set();
  const picks = new Set<number>();
  const k = Math.min(MARGIN_SAMPLE_PAGES, total);
  for (let i = 0; i < k; i++) picks.add(1 + Math.round((i * (total - 1)) / Math.max(1, k - 1)));
  const pages: { lines: Line[]; height: number }[] = [];
  for (const n of picks) {
    withPage(d, n, (page, view) => {
      const items = pageTextItems(d.p, page);
      onText(n, items);
      pages.push({ lines: toLines(items, view.y1, view.x0), height: view.y1 - view.y0 });
    });
  }
  return repeatingMargins(pages);
}

/**
 * PDFium does not throw; what does (a WebAssembly trap on a hostile file, a failed allocation) is a bad PDF. After
 * a trap the instance is not trusted again (discardPdfium).
 */
function pdfError(e: unknown, d?: PdfDoc): Error {
  if (e instanceof ParseError) return e;
  if (d && isWasmTrap(e)) discardPdfium(d.p);
  return new ParseError(`Corrupt PDF: ${errorMessage(e)}`);
}

function r(v: number): number {
  return Math.round(v * 100) / 100;
}
