import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import Tesseract from 'tesseract.js';
import type { OcrEngine, OcrResult } from '../types.js';
import { ParseError } from '../types.js';
import { waitInQueue } from '../wait-queue.js';

/** Languages whose data ships with RagNest, vendored in ocr-data/ (see its README for source and licence). */
export type OcrLanguage = 'eng' | 'chi_sim';

export interface TesseractOcrOptions {
  /** Most images recognised at once; each slot is a wasm worker thread holding ~100 MB. */
  concurrency: number;
  languages?: OcrLanguage[];
  /** A recognition taking longer is abandoned (its worker is terminated) and fails the image. */
  timeoutMs?: number;
}

/**
 * `<lang>.traineddata.gz` for every language: tessdata_fast LSTM models (integer, smaller networks). On dense
 * scanned pages they take ~2.1 CPU-s a page where the tessdata_best_int English model took ~3.1, with the same
 * text on our test pages, clean and degraded. src/ocr/ and dist/ocr/ both sit two levels below the package root.
 */
const LANGUAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ocr-data');

/** Largest image handed to Tesseract (a letter page at 300 dpi); bigger ones are scaled down (memory and time grow with pixels). */
const MAX_OCR_PIXELS = 9_000_000;
/** Small images (screenshots of a line or two) are scaled up: Tesseract wants text ≥ ~20 px high. */
const MIN_OCR_SIDE = 1000;

interface Slot {
  worker: Tesseract.Worker;
  busy: boolean;
}

/**
 * Offline OCR with tesseract.js: a bounded pool of wasm workers created on demand. Language data is read from
 * local files and handed to the workers, so nothing is ever fetched (no CDN, no cache directory written).
 */
export class TesseractOcr implements OcrEngine {
  private readonly concurrency: number;
  private readonly languages: OcrLanguage[];
  private readonly timeoutMs: number;
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private creating = 0;
  private closed = false;

  constructor(opts: TesseractOcrOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new Error(`OCR concurrency must be a positive integer, got ${opts.concurrency}`);
    }
    this.concurrency = opts.concurrency;
    this.languages = opts.languages?.length ? [...opts.languages] : ['eng', 'chi_sim'];
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  async recognize(image: Buffer, signal?: AbortSignal): Promise<OcrResult> {
    signal?.throwIfAborted();
    const { png, scale } = await prepare(image);
    signal?.throwIfAborted();
    const slot = await this.acquire(signal);
    if (signal?.aborted) {
      this.release(slot);
      signal.throwIfAborted();
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const interrupted = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ParseError(`OCR took longer than ${this.timeoutMs / 1000} s`)), this.timeoutMs);
        onAbort = () => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      const result = await Promise.race([slot.worker.recognize(png, {}, { text: true, blocks: true }), interrupted]);
      this.release(slot);
      const text = tidy(result.data.text);
      const paragraphs = (result.data.blocks ?? [])
        .flatMap((b) => b.paragraphs)
        .map((p) => ({
          text: tidy(p.text),
          x0: p.bbox.x0 / scale,
          y0: p.bbox.y0 / scale,
          x1: p.bbox.x1 / scale,
          y1: p.bbox.y1 / scale,
        }))
        .filter((p) => p.text);
      return { text, confidence: text ? result.data.confidence : 0, paragraphs };
    } catch (e) {
      // A recognition cannot be interrupted inside wasm, so the worker is thrown away and replaced on demand.
      this.discard(slot);
      throw e;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }

  private async acquire(signal?: AbortSignal): Promise<Slot> {
    if (this.closed) throw new Error('OCR engine is closed');
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return free;
    }
    if (this.slots.length + this.creating < this.concurrency) {
      this.creating++;
      try {
        const worker = await this.createWorker();
        const slot = { worker, busy: true };
        this.slots.push(slot);
        return slot;
      } finally {
        this.creating--;
      }
    }
    return waitInQueue(this.waiting, signal);
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  private discard(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate().catch(() => undefined);
    // Someone waiting for a slot gets a fresh worker instead.
    const next = this.waiting.shift();
    if (next && !this.closed) {
      this.creating++;
      this.createWorker()
        .then((worker) => {
          const fresh = { worker, busy: true };
          this.slots.push(fresh);
          next(fresh);
        })
        .catch(() => this.waiting.unshift(next))
        .finally(() => this.creating--);
    }
  }

  private async createWorker(): Promise<Tesseract.Worker> {
    const worker = await Tesseract.createWorker(this.languages.join('+'), Tesseract.OEM.LSTM_ONLY, {
      langPath: LANGUAGE_DIR,
      // Read from langPath every time: no cache directory is written, nothing is ever fetched.
      cacheMethod: 'none',
      gzip: true,
      legacyCore: false,
      legacyLang: false,
    });
    // Screenshots and rendered pages carry no (or a bogus) resolution; without this Tesseract warns on each image.
    await worker.setParameters({ user_defined_dpi: '300' });
    return worker;
  }
}

/** Any image sharp reads → a grayscale PNG of a size Tesseract handles well, and the factor it was scaled by. */
async function prepare(image: Buffer): Promise<{ png: Buffer; scale: number }> {
  let img = sharp(image, { limitInputPixels: 100_000_000, failOn: 'error' });
  const meta = await img.metadata().catch((e: unknown) => {
    throw new ParseError(`Unreadable image: ${e instanceof Error ? e.message : String(e)}`);
  });
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (!w || !h) throw new ParseError('Unreadable image: no dimensions');
  img = img.rotate().flatten({ background: '#ffffff' }).grayscale();
  let scale = 1;
  if (w * h > MAX_OCR_PIXELS) {
    scale = Math.sqrt(MAX_OCR_PIXELS / (w * h));
    img = img.resize(Math.floor(w * scale), Math.floor(h * scale));
  } else if (Math.max(w, h) < MIN_OCR_SIDE) {
    scale = Math.min(4, MIN_OCR_SIDE / Math.max(w, h));
    img = img.resize(Math.round(w * scale), Math.round(h * scale), { kernel: 'lanczos3' });
  }
  return { png: await img.png().toBuffer(), scale };
}

const CJK = '\\p{Script=Han}\\u3000-\\u303f\\uff00-\\uffef';
const CJK_GAP = new RegExp(`(?<=[${CJK}]) +(?=[${CJK}])`, 'gu');
// "测试 : 人工" → "测试:人工": ASCII punctuation read between CJK characters gets no spaces either.
const CJK_PUNCT_GAP = new RegExp(`(?<=[${CJK}]) *([:;,.!?]) *(?=[${CJK}])`, 'gu');

/** Tesseract separates CJK characters with spaces and leaves blank lines; readers expect neither. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(CJK_GAP, '').replace(CJK_PUNCT_GAP, '$1').replace(/[ \t]+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
}
