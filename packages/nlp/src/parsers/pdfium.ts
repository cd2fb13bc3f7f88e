import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/**
 * PDFium (Google's PDF engine, BSD/Apache-2.0) compiled to WebAssembly, as shipped by @hyzyla/pdfium (MIT). Only
 * its Emscripten loader is used: the parser calls PDFium's C API on the raw WebAssembly exports (no per-call
 * argument checks), so a text page costs a fraction of what pdf.js takes. Every handle and buffer a caller
 * gets from here lives in WebAssembly memory and must be released in a finally block.
 */
export interface PdfiumExports {
  memory: { readonly buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  FPDF_InitLibraryWithConfig(config: number): void;
  FPDF_LoadMemDocument(data: number, size: number, password: number): number;
  FPDF_GetLastError(): number;
  FPDF_CloseDocument(doc: number): void;
  FPDF_GetPageCount(doc: number): number;
  FPDF_LoadPage(doc: number, index: number): number;
  FPDF_ClosePage(page: number): void;
  FPDF_GetPageWidthF(page: number): number;
  FPDF_GetPageHeightF(page: number): number;
  FPDF_GetPageBoundingBox(page: number, rect: number): number;
  FPDF_RenderPageBitmap(bitmap: number, page: number, x: number, y: number, w: number, h: number, rotate: number, flags: number): void;
  FPDFText_LoadPage(page: number): number;
  FPDFText_ClosePage(textPage: number): void;
  FPDFText_CountChars(textPage: number): number;
  FPDFText_GetText(textPage: number, start: number, count: number, buf: number): number;
  FPDFText_GetUnicode(textPage: number, index: number): number;
  FPDFText_GetLooseCharBox(textPage: number, index: number, rect: number): number;
  FPDFText_GetCharOrigin(textPage: number, index: number, x: number, y: number): number;
  FPDFText_GetFontSize(textPage: number, index: number): number;
  FPDFText_GetMatrix(textPage: number, index: number, matrix: number): number;
  FPDFText_HasUnicodeMapError(textPage: number, index: number): number;
  FPDFPage_CountObjects(page: number): number;
  FPDFPage_GetObject(page: number, index: number): number;
  FPDFPageObj_GetType(obj: number): number;
  FPDFPageObj_GetBounds(obj: number, left: number, bottom: number, right: number, top: number): number;
  FPDFPageObj_GetMatrix(obj: number, matrix: number): number;
  FPDFFormObj_CountObjects(obj: number): number;
  FPDFFormObj_GetObject(obj: number, index: number): number;
  FPDFImageObj_GetImagePixelSize(obj: number, width: number, height: number): number;
  FPDFImageObj_GetImageMetadata(obj: number, page: number, metadata: number): number;
  FPDFImageObj_GetBitmap(obj: number): number;
  FPDFBitmap_Create(width: number, height: number, alpha: number): number;
  FPDFBitmap_FillRect(bitmap: number, left: number, top: number, width: number, height: number, color: number): number;
  FPDFBitmap_GetBuffer(bitmap: number): number;
  FPDFBitmap_GetWidth(bitmap: number): number;
  FPDFBitmap_GetHeight(bitmap: number): number;
  FPDFBitmap_GetStride(bitmap: number): number;
  FPDFBitmap_GetFormat(bitmap: number): number;
  FPDFBitmap_Destroy(bitmap: number): void;
}

/** FPDF_GetLastError codes. */
export const FPDF_ERR = { UNKNOWN: 1, FILE: 2, FORMAT: 3, PASSWORD: 4, SECURITY: 5, PAGE: 6 } as const;
/** FPDFPageObj_GetType values. */
export const FPDF_PAGEOBJ = { TEXT: 1, PATH: 2, IMAGE: 3, SHADING: 4, FORM: 5 } as const;
/** FPDFBitmap_GetFormat values. */
export const FPDFBitmap = { Gray: 1, BGR: 2, BGRx: 3, BGRA: 4 } as const;
/** FPDF_RenderPageBitmap flag: draw annotation appearances (as pdf.js did). */
export const FPDF_ANNOT = 0x01;

/** The library, its scratch memory for out-parameters, and typed reads of WebAssembly memory. */
export class Pdfium {
  /** 64 bytes for out-parameters (boxes, matrices, origins); used synchronously, so one per process is enough. */
  readonly scratch: number;
  private view: DataView;

  constructor(readonly w: PdfiumExports) {
    this.scratch = w.malloc(64);
    this.view = new DataView(w.memory.buffer);
  }

  // Growing the memory detaches its buffer: a read through the old view throws, and the view is renewed.
  private read<T>(get: (v: DataView) => T): T {
    try {
      return get(this.view);
    } catch {
      this.view = new DataView(this.w.memory.buffer);
      return get(this.view);
    }
  }

  f32(ptr: number): number {
    return this.read((v) => v.getFloat32(ptr, true));
  }

  f64(ptr: number): number {
    return this.read((v) => v.getFloat64(ptr, true));
  }

  i32(ptr: number): number {
    return this.read((v) => v.getInt32(ptr, true));
  }

  /** Bytes in WebAssembly memory (a view: copy them before the next PDFium call). */
  bytes(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.w.memory.buffer, ptr, length);
  }

  /** Copies bytes into a fresh WebAssembly allocation; the caller frees it. */
  copyIn(data: Uint8Array): number {
    const ptr = this.w.malloc(Math.max(1, data.length));
    if (!ptr) throw new Error('out of memory');
    this.bytes(ptr, data.length).set(data);
    return ptr;
  }
}

let pdfiumPromise: Promise<Pdfium> | undefined;

/** A WebAssembly trap (WebAssembly.RuntimeError: out-of-bounds access, unreachable…). */
export function isWasmTrap(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'RuntimeError';
}

/**
 * Forgets the library after a WebAssembly trap (a hostile or broken file can make PDFium read out of bounds):
 * its memory may be inconsistent, so the next PDF gets a fresh instance. Documents still open on the old one
 * finish (or fail) on it and are then collected with it.
 */
export function discardPdfium(p: Pdfium): void {
  void pdfiumPromise?.then((current) => {
    if (current === p) pdfiumPromise = undefined;
  });
}

/** The library, initialised once per process on the first PDF (the WebAssembly module is 4 MB). */
export function loadPdfium(): Promise<Pdfium> {
  pdfiumPromise ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasm = await readFile(require.resolve('@hyzyla/pdfium/pdfium.wasm'));
    const { PDFiumModule } = await import('@hyzyla/pdfium');
    const wasmBinary = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength);
    // locateFile keeps the loader from resolving the file itself: the binary is given.
    const module = (await PDFiumModule({ wasmBinary, locateFile: () => '' })) as unknown as { wasmExports: PdfiumExports };
    const w = module.wasmExports;
    w.FPDF_InitLibraryWithConfig(0);
    return new Pdfium(w);
  })();
  pdfiumPromise.catch(() => {
    pdfiumPromise = undefined;
  });
  return pdfiumPromise;
}
