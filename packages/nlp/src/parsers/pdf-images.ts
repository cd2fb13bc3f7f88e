import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { FPDF_ANNOT, FPDF_PAGEOBJ, FPDFBitmap, type Pdfium } from './pdfium.js';

type Matrix = [number, number, number, number, number, number];

/** The page's visible box in PDF user space (points, y up). */
export interface PageView {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Pixels copied out of PDFium: 1 (gray), 3 (RGB) or 4 (RGBA) channels, rows packed. */
export interface RawPixels {
  raw: Buffer;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** Where a picture sits (PDF points, from the page top), the share of the page it covers (0..1), and its pixels' hash. */
interface Placement {
  x0: number;
  x1: number;
  top: number;
  bottom: number;
  coverage: number;
  hash: string;
}

/** A picture painted on a page, its pixels (not yet PNG) and where it sits. */
export interface RawPageImage extends RawPixels, Placement {}

/** A picture as stored: PNG, its size in pixels, and where it sits. */
export interface PageImage extends Placement {
  png: Buffer;
  width: number;
  height: number;
}

/** Smallest painted size (points) worth extracting: smaller ones are bullets, rules and logos. */
const MIN_PAINTED_PT = 36;
/** Pictures larger than this are scaled down before storing (a chunk image is for viewing, not print). */
const MAX_STORED_SIDE = 2000;
/** Pictures above this many pixels are not decoded at all (a 600-dpi letter scan is 34 MP); bounds memory per page. */
const MAX_IMAGE_PIXELS = 40_000_000;
/** Form XObjects nest; deeper than this is a malicious or broken file. */
const MAX_FORM_DEPTH = 12;
/** FPDF_IMAGEOBJ_METADATA: width, height (u32), dpi x/y (f32), bits_per_pixel (u32), colorspace, marked_content_id (i32). */
const META_BYTES = 28;

/** n applied first, then m (PDF row-vector convention). */
function mul(m: Matrix, n: Matrix): Matrix {
  const [a, b, c, d, e, f] = m;
  const [a2, b2, c2, d2, e2, f2] = n;
  return [a * a2 + c * b2, b * a2 + d * b2, a * c2 + c * d2, b * c2 + d * d2, a * e2 + c * f2 + e, b * e2 + d * f2 + f];
}

/**
 * Pictures on an open page: its image objects, including those inside form XObjects (whose children's boxes are
 * in the form's space, so the forms' matrices are applied on the way down). Image masks (stencils), tiny
 * pictures and undecodable ones are skipped. Pixels are copied out, so the page may be closed afterwards.
 */
export function pageImages(p: Pdfium, page: number, view: PageView): RawPageImage[] {
  const { w } = p;
  const pageW = view.x1 - view.x0;
  const pageH = view.y1 - view.y0;
  const out: RawPageImage[] = [];
  const visit = (count: number, objectAt: (i: number) => number, toPage: Matrix | null, depth: number): void => {
    for (let i = 0; i < count; i++) {
      const obj = objectAt(i);
      if (!obj) continue;
      const type = w.FPDFPageObj_GetType(obj);
      if (type === FPDF_PAGEOBJ.FORM && depth < MAX_FORM_DEPTH) {
        const s = p.scratch;
        if (!w.FPDFPageObj_GetMatrix(obj, s)) continue;
        const m: Matrix = [p.f32(s), p.f32(s + 4), p.f32(s + 8), p.f32(s + 12), p.f32(s + 16), p.f32(s + 20)];
        visit(w.FPDFFormObj_CountObjects(obj), (k) => w.FPDFFormObj_GetObject(obj, k), toPage ? mul(toPage, m) : m, depth + 1);
      } else if (type === FPDF_PAGEOBJ.IMAGE) {
        const img = imageAt(p, page, obj, toPage, view, pageW, pageH);
        if (img) out.push(img);
      }
    }
  };
  visit(w.FPDFPage_CountObjects(page), (i) => w.FPDFPage_GetObject(page, i), null, 0);
  return out;
}

function imageAt(p: Pdfium, page: number, obj: number, toPage: Matrix | null, view: PageView, pageW: number, pageH: number): RawPageImage | null {
  const { w } = p;
  const s = p.scratch;
  if (!w.FPDFPageObj_GetBounds(obj, s, s + 4, s + 8, s + 12)) return null;
  let xs = [p.f32(s), p.f32(s + 8)];
  let ys = [p.f32(s + 4), p.f32(s + 12)];
  if (toPage) {
    const [a, b, c, d, e, f] = toPage;
    const corners = [
      [xs[0]!, ys[0]!],
      [xs[1]!, ys[0]!],
      [xs[0]!, ys[1]!],
      [xs[1]!, ys[1]!],
    ];
    xs = corners.map(([x, y]) => a * x! + c * y! + e);
    ys = corners.map(([x, y]) => b * x! + d * y! + f);
  }
  const x0 = Math.min(...xs) - view.x0;
  const x1 = Math.max(...xs) - view.x0;
  const top = view.y1 - Math.max(...ys);
  const bottom = view.y1 - Math.min(...ys);
  if (x1 - x0 < MIN_PAINTED_PT || bottom - top < MIN_PAINTED_PT) return null;
  if (!w.FPDFImageObj_GetImagePixelSize(obj, s, s + 4)) return null;
  const pixels = p.i32(s) * p.i32(s + 4);
  if (pixels <= 0 || pixels > MAX_IMAGE_PIXELS) return null;
  // An image mask is a 1-bit stencil painted in the current colour (no colour space of its own): not a picture.
  const meta = w.malloc(META_BYTES);
  try {
    if (meta && w.FPDFImageObj_GetImageMetadata(obj, page, meta) && p.i32(meta + 16) === 1 && p.i32(meta + 20) === 0) return null;
  } finally {
    w.free(meta);
  }
  // One undecodable picture costs only itself, never the page.
  const bitmap = w.FPDFImageObj_GetBitmap(obj);
  if (!bitmap) return null;
  let px: RawPixels | null;
  try {
    px = bitmapPixels(p, bitmap);
  } finally {
    w.FPDFBitmap_Destroy(bitmap);
  }
  if (!px) return null;
  const coverage = Math.min(1, ((Math.min(x1, pageW) - Math.max(x0, 0)) * (Math.min(bottom, pageH) - Math.max(top, 0))) / (pageW * pageH));
  const hash = createHash('sha1').update(px.raw).digest('hex');
  return { ...px, x0, x1, top, bottom, coverage: Math.max(0, coverage), hash };
}

/** A PDFium bitmap (gray, BGR, BGRx or BGRA, rows padded to a stride) → packed gray, RGB or RGBA. */
function bitmapPixels(p: Pdfium, bitmap: number): RawPixels | null {
  const { w } = p;
  const width = w.FPDFBitmap_GetWidth(bitmap);
  const height = w.FPDFBitmap_GetHeight(bitmap);
  const stride = w.FPDFBitmap_GetStride(bitmap);
  const format = w.FPDFBitmap_GetFormat(bitmap);
  const buffer = w.FPDFBitmap_GetBuffer(bitmap);
  if (width <= 0 || height <= 0 || !buffer) return null;
  const inChannels = format === FPDFBitmap.Gray ? 1 : format === FPDFBitmap.BGR ? 3 : format === FPDFBitmap.BGRx || format === FPDFBitmap.BGRA ? 4 : 0;
  if (!inChannels || stride < width * inChannels) return null;
  const channels: 1 | 3 | 4 = format === FPDFBitmap.BGRA ? 4 : inChannels === 1 ? 1 : 3;
  const src = p.bytes(buffer, stride * height);
  const raw = Buffer.allocUnsafe(width * height * channels);
  if (channels === 1) {
    for (let y = 0; y < height; y++) raw.set(src.subarray(y * stride, y * stride + width), y * width);
    return { raw, width, height, channels };
  }
  let o = 0;
  for (let y = 0; y < height; y++) {
    let i = y * stride;
    for (let x = 0; x < width; x++, i += inChannels) {
      raw[o++] = src[i + 2]!;
      raw[o++] = src[i + 1]!;
      raw[o++] = src[i]!;
      if (channels === 4) raw[o++] = src[i + 3]!;
    }
  }
  return { raw, width, height, channels };
}

/** Pixels → PNG, scaled down above MAX_STORED_SIDE. Null if sharp cannot encode them. */
export async function toPng(img: RawPageImage): Promise<PageImage | null> {
  const { raw, width, height, channels, ...where } = img;
  try {
    let s = sharp(raw, { raw: { width, height, channels } });
    if (Math.max(width, height) > MAX_STORED_SIDE) s = s.resize({ width: MAX_STORED_SIDE, height: MAX_STORED_SIDE, fit: 'inside' });
    const png = await s.png().toBuffer({ resolveWithObject: true });
    return { ...where, png: png.data, width: png.info.width, height: png.info.height };
  } catch {
    return null;
  }
}

/**
 * The open page drawn as pixels (for OCR of scans and garbled fonts) on white, with the pixels-per-point scale
 * used. The page's /Rotate applies, as in a viewer.
 */
export function renderPage(p: Pdfium, page: number, maxSide: number): RawPixels & { scale: number } {
  const { w } = p;
  const pw = w.FPDF_GetPageWidthF(page);
  const ph = w.FPDF_GetPageHeightF(page);
  if (!(pw > 0 && ph > 0)) throw new Error('page has no size');
  // 300 dpi suits OCR; very large pages are capped so a poster does not allocate gigabytes.
  const scale = Math.min(300 / 72, maxSide / Math.max(pw, ph));
  const width = Math.max(1, Math.ceil(pw * scale));
  const height = Math.max(1, Math.ceil(ph * scale));
  const bitmap = w.FPDFBitmap_Create(width, height, 0);
  if (!bitmap) throw new Error('out of memory for the page bitmap');
  try {
    w.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xffffffff);
    w.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, FPDF_ANNOT);
    const px = bitmapPixels(p, bitmap);
    if (!px) throw new Error('unexpected bitmap format');
    return { ...px, scale };
  } finally {
    w.FPDFBitmap_Destroy(bitmap);
  }
}

/** Rendered pixels → PNG. */
export async function renderedPng(px: RawPixels): Promise<Buffer> {
  return sharp(px.raw, { raw: { width: px.width, height: px.height, channels: px.channels } }).png().toBuffer();
}
