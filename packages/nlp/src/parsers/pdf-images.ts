import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { PDFPageProxy } from 'pdfjs-dist/types/src/display/api.js';

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type Matrix = [number, number, number, number, number, number];

/** A picture painted on a page, its pixels as PNG and where it sits (PDF points, from the page top). */
export interface PageImage {
  png: Buffer;
  width: number;
  height: number;
  x0: number;
  x1: number;
  top: number;
  bottom: number;
  /** share of the page area it covers (0..1) */
  coverage: number;
  hash: string;
}

interface DecodedImage {
  width: number;
  height: number;
  kind?: number;
  data?: Uint8Array | Uint8ClampedArray;
}

/** Smallest painted size (points) worth extracting: smaller ones are bullets, rules and logos. */
const MIN_PAINTED_PT = 36;
/** Pictures larger than this are scaled down before storing (a chunk image is for viewing, not print). */
const MAX_STORED_SIDE = 2000;

function mul(m: Matrix, n: number[]): Matrix {
  const [a, b, c, d, e, f] = m;
  const [a2 = 1, b2 = 0, c2 = 0, d2 = 1, e2 = 0, f2 = 0] = n;
  return [a * a2 + c * b2, b * a2 + d * b2, a * c2 + c * d2, b * c2 + d * d2, a * e2 + c * f2 + e, b * e2 + d * f2 + f];
}

/**
 * Pictures on a page from its operator list, following the transformation matrix to know where each is
 * painted. Image masks (stencils) and tiny pictures are skipped.
 */
export async function pageImages(page: PDFPageProxy, pdfjs: Pdfjs, ops: Awaited<ReturnType<PDFPageProxy['getOperatorList']>>): Promise<PageImage[]> {
  const { OPS } = pdfjs;
  const [vx0 = 0, vy0 = 0, vx1 = 0, vy1 = 0] = page.view;
  const pageW = vx1 - vx0;
  const pageH = vy1 - vy0;
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  const stack: Matrix[] = [];
  const out: PageImage[] = [];
  for (let i = 0; i < ops.fnArray.length; i++) {
    const fn = ops.fnArray[i];
    const args = ops.argsArray[i] as unknown[];
    if (fn === OPS.save) stack.push(ctm);
    else if (fn === OPS.restore) ctm = stack.pop() ?? ctm;
    else if (fn === OPS.transform) ctm = mul(ctm, args as number[]);
    else if (fn === OPS.paintFormXObjectBegin) {
      stack.push(ctm);
      const m = args[0] as number[] | null;
      if (m) ctm = mul(ctm, Array.from(m));
    } else if (fn === OPS.paintFormXObjectEnd) ctm = stack.pop() ?? ctm;
    else if (fn === OPS.paintImageXObject || fn === OPS.paintInlineImageXObject) {
      const xs = [ctm[4], ctm[4] + ctm[0], ctm[4] + ctm[2], ctm[4] + ctm[0] + ctm[2]];
      const ys = [ctm[5], ctm[5] + ctm[1], ctm[5] + ctm[3], ctm[5] + ctm[1] + ctm[3]];
      const x0 = Math.min(...xs) - vx0;
      const x1 = Math.max(...xs) - vx0;
      const top = vy1 - Math.max(...ys);
      const bottom = vy1 - Math.min(...ys);
      if (x1 - x0 < MIN_PAINTED_PT || bottom - top < MIN_PAINTED_PT) continue;
      const img = fn === OPS.paintInlineImageXObject ? (args[0] as DecodedImage) : await objectOf(page, args[0] as string);
      // One undecodable picture costs only itself, never the page.
      const png = img ? await toPng(img).catch(() => null) : null;
      if (!png) continue;
      const coverage = Math.min(1, ((Math.min(x1, pageW) - Math.max(x0, 0)) * (Math.min(bottom, pageH) - Math.max(top, 0))) / (pageW * pageH));
      out.push({ ...png, x0, x1, top, bottom, coverage: Math.max(0, coverage) });
    }
  }
  return out;
}

async function objectOf(page: PDFPageProxy, id: string): Promise<DecodedImage | null> {
  const store = id.startsWith('g_') ? page.commonObjs : page.objs;
  return new Promise((resolve) => {
    // A broken image never resolves in some pdfjs versions; do not hang the page on it.
    const timer = setTimeout(() => resolve(null), 5000);
    try {
      store.get(id, (obj: unknown) => {
        clearTimeout(timer);
        resolve((obj as DecodedImage | null) ?? null);
      });
    } catch {
      clearTimeout(timer);
      resolve(null);
    }
  });
}

/** pdfjs decoded pixels (1-bit gray, RGB or RGBA) → PNG. */
async function toPng(img: DecodedImage): Promise<{ png: Buffer; width: number; height: number; hash: string } | null> {
  const { width, height, kind, data } = img;
  if (!data || !width || !height) return null;
  let raw: Buffer;
  let channels: 1 | 3 | 4;
  if (kind === 1) {
    // Packed rows, most significant bit first, a set bit is white.
    const stride = Math.ceil(width / 8);
    raw = Buffer.alloc(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        raw[y * width + x] = (data[y * stride + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 255 : 0;
      }
    }
    channels = 1;
  } else if (kind === 2 || kind === 3) {
    raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    channels = kind === 2 ? 3 : 4;
  } else {
    return null;
  }
  if (raw.length < width * height * channels) return null;
  const hash = createHash('sha1').update(raw).digest('hex');
  let s = sharp(raw, { raw: { width, height, channels } });
  if (Math.max(width, height) > MAX_STORED_SIDE) s = s.resize({ width: MAX_STORED_SIDE, height: MAX_STORED_SIDE, fit: 'inside' });
  const png = await s.png().toBuffer({ resolveWithObject: true });
  return { png: png.data, width: png.info.width, height: png.info.height, hash };
}

/** The page drawn as pixels (for OCR of scans and garbled fonts), with the pixels-per-point scale used. */
export async function renderPage(page: PDFPageProxy, factory: CanvasFactory, maxSide: number): Promise<{ png: Buffer; scale: number }> {
  const base = page.getViewport({ scale: 1 });
  // 300 dpi suits OCR; very large pages are capped so a poster does not allocate gigabytes.
  const scale = Math.min(300 / 72, maxSide / Math.max(base.width, base.height));
  const viewport = page.getViewport({ scale });
  const { canvas, context } = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
  try {
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    await page.render({ canvasContext: context as never, viewport, canvas: canvas as never }).promise;
    return { png: canvas.toBuffer('image/png'), scale };
  } finally {
    factory.destroy({ canvas, context });
  }
}

export interface CanvasFactory {
  create(w: number, h: number): { canvas: NodeCanvas; context: { fillStyle: string; fillRect(x: number, y: number, w: number, h: number): void } };
  destroy(c: { canvas: NodeCanvas; context: unknown }): void;
}
interface NodeCanvas {
  width: number;
  height: number;
  toBuffer(mime: 'image/png'): Buffer;
}
