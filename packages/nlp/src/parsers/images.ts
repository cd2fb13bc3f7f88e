import { decode as decodeBmp } from 'bmp-ts';
import sharp from 'sharp';
import type { ParseOptions, ParseSource, Section, SectionImage } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';

/** Decompression-bomb cap: a 100-megapixel image already decodes to 400 MB of RGBA. */
export const MAX_IMAGE_PIXELS = 100_000_000;
export const MAX_IMAGE_SIDE = 30_000;
/** Embedded pictures smaller than this (spacers, bullets, icons) carry nothing worth a chunk. */
const MIN_EMBEDDED_SIDE = 24;

const KEEP: Record<string, SectionImage['mime']> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** An uploaded picture: one image section with the picture (PNG if browsers cannot show the original) and OCR text. */
export async function* parseImage(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'Image');
  const image = await toSectionImage(buf, 'Image');
  if (!image) throw new ParseError('Unsupported image format');
  const text = await ocrText(image.data, opts, true);
  opts.onProgress?.({ fraction: 1 });
  yield { kind: 'image', text, image, page: 1 };
}

/**
 * Bytes of an image → what a section carries. Dimensions are read from the header before anything is decoded,
 * so a decompression bomb is refused cheaply. null = a format browsers and sharp cannot handle (EMF/WMF…).
 */
export async function toSectionImage(buf: Buffer, what: string): Promise<SectionImage | null> {
  if (buf.length >= 26 && buf.toString('latin1', 0, 2) === 'BM') return bmpImage(buf, what);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    const msg = errorMessage(e);
    if (/unsupported image format/i.test(msg)) return null;
    throw new ParseError(`Corrupt ${what.toLowerCase() === 'image' ? 'image' : what}: ${msg}`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  checkDimensions(w, h, what);
  const format = meta.format ?? '';
  try {
    const keep = KEEP[format];
    if (keep) {
      // Decoding proves the data is not truncated; a broken picture must not be stored as a chunk.
      await sharp(buf, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error', animated: false }).stats();
      return { data: buf, mime: keep, width: w, height: h };
    }
    // BMP, TIFF, SVG, HEIF, … → PNG, which every browser shows.
    const data = await sharp(buf, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' }).rotate().png().toBuffer();
    return { data, mime: 'image/png', width: w, height: h };
  } catch (e) {
    throw new ParseError(`Corrupt ${what}: ${errorMessage(e)}`);
  }
}

function checkDimensions(w: number, h: number, what: string): void {
  if (!w || !h) throw new ParseError(`Corrupt ${what}: image has no dimensions`);
  if (w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE || w * h > MAX_IMAGE_PIXELS) {
    throw new ParseError(
      `${what} rejected: ${w}×${h} pixels exceeds the limit of ${MAX_IMAGE_PIXELS / 1_000_000} megapixels (possible decompression bomb)`,
    );
  }
}

/** libvips has no BMP loader: dimensions from the header first, then bmp-ts decodes, sharp writes PNG. */
async function bmpImage(buf: Buffer, what: string): Promise<SectionImage> {
  const w = Math.abs(buf.readInt32LE(18));
  const h = Math.abs(buf.readInt32LE(22));
  checkDimensions(w, h, what);
  try {
    const bmp = decodeBmp(buf, { toRGBA: true });
    const data = await sharp(bmp.data, { raw: { width: bmp.width, height: Math.abs(bmp.height), channels: 4 } })
      .removeAlpha()
      .png()
      .toBuffer();
    return { data, mime: 'image/png', width: w, height: h };
  } catch (e) {
    throw new ParseError(`Corrupt ${what}: ${errorMessage(e)}`);
  }
}

/** An image found inside a document: small decorations and undecodable formats are skipped, never fatal. */
export async function embeddedImage(buf: Buffer, opts: ParseOptions): Promise<{ image: SectionImage; text: string } | null> {
  let image: SectionImage | null;
  try {
    image = await toSectionImage(buf, 'embedded image');
  } catch (e) {
    if (e instanceof ParseError) return null;
    throw e;
  }
  if (!image || (image.width ?? 0) < MIN_EMBEDDED_SIDE || (image.height ?? 0) < MIN_EMBEDDED_SIDE) return null;
  return { image, text: await ocrText(image.data, opts, false) };
}

/** OCR text of a picture ('' when OCR is off or no engine was given). */
export async function ocrText(data: Buffer, opts: ParseOptions, required: boolean): Promise<string> {
  if (opts.ocr === false || !opts.ocrEngine) return '';
  try {
    return (await opts.ocrEngine.recognize(data, opts.signal)).text;
  } catch (e) {
    opts.signal?.throwIfAborted();
    // A picture inside a document that OCR cannot read still becomes an image chunk.
    if (!required && e instanceof ParseError) return '';
    throw e;
  }
}
