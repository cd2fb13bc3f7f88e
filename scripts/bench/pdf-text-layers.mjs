// PDF text layers compared on the bench's PDFs (50 pages of 40 lines of English, Helvetica): pdf.js
// getTextContent (what the ingest-worker uses) against PDFium (@hyzyla/pdfium, its WASM build) — its page text
// alone, text plus one box and font size per line (enough for the layout step), and text fetched per text
// rectangle. CPU per page in this process. @hyzyla/pdfium is not a dependency of the project:
//   npm install --no-save @hyzyla/pdfium@2.1.13 && node scripts/bench/pdf-text-layers.mjs
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pdf, rng } from './corpus.mjs';
const req = createRequire(new URL('../../packages/nlp/package.json', import.meta.url));
let PDFiumLibrary;
try {
  ({ PDFiumLibrary } = await import('@hyzyla/pdfium'));
} catch {
  console.error('needs @hyzyla/pdfium: npm install --no-save @hyzyla/pdfium@2.1.13');
  process.exit(2);
}
const pdfjs = await import(req.resolve('pdfjs-dist/legacy/build/pdf.mjs'));
globalThis.pdfjsWorker = await import(req.resolve('pdfjs-dist/legacy/build/pdf.worker.mjs'));
const pdfjsRoot = dirname(req.resolve('pdfjs-dist/package.json'));
const PAGES = 50;
const file = pdf(rng(3), PAGES);
console.log('pdf bytes', file.length, 'pages', PAGES);
async function viaPdfjs() {
  const doc = await pdfjs.getDocument({ data: new Uint8Array(file), useSystemFonts: false, isEvalSupported: false, cMapUrl: join(pdfjsRoot, 'cmaps') + '/', cMapPacked: true, standardFontDataUrl: join(pdfjsRoot, 'standard_fonts') + '/' }).promise;
  let chars = 0;
  for (let p = 1; p <= doc.numPages; p++) { const page = await doc.getPage(p); const tc = await page.getTextContent(); for (const it of tc.items) chars += it.str.length; page.cleanup(); }
  await doc.destroy();
  return chars;
}
const lib = await PDFiumLibrary.init();
const m = lib.module;
async function viaPdfiumLines() {
  const doc = await lib.loadDocument(new Uint8Array(file));
  let chars = 0, lines = 0;
  const box = m.wasmExports.malloc(4 * 8);
  for (const page of doc.pages()) {
    const tp = m._FPDFText_LoadPage(page.pageIdx);
    const n = m._FPDFText_CountChars(tp);
    const tb = m.wasmExports.malloc((n + 1) * 2);
    const len = m._FPDFText_GetText(tp, 0, n, tb);
    const text = new TextDecoder('utf-16le').decode(new Uint8Array(m.HEAPU8.buffer, tb, Math.max(0, len - 1) * 2));
    m.wasmExports.free(tb);
    // one box (and font size) per line: the line's first char
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      if (i < text.length && text[i] !== '\n') continue;
      const first = start;
      start = i + 1;
      if (first >= text.length || text[first] === '\r') continue;
      m._FPDFText_GetCharBox(tp, first, box, box + 8, box + 16, box + 24);
      const [l, r, b, t] = new Float64Array(m.HEAPU8.buffer, box, 4);
      const size = m._FPDFText_GetFontSize(tp, first);
      if (l > r || size < 0) throw new Error('bad box');
      lines++;
    }
    chars += text.length;
    m._FPDFText_ClosePage(tp);
  }
  m.wasmExports.free(box);
  doc.destroy();
  return { chars, lines };
}
async function viaPdfium(withRects) {
  const doc = await lib.loadDocument(new Uint8Array(file));
  let chars = 0, rects = 0;
  const buf = m.wasmExports.malloc(4 * 8);
  for (const page of doc.pages()) {
    if (!withRects) { chars += page.getText().length; continue; }
    const tp = m._FPDFText_LoadPage(page.pageIdx);
    const n = m._FPDFText_CountChars(tp);
    const nr = m._FPDFText_CountRects(tp, 0, n);
    for (let i = 0; i < nr; i++) {
      m._FPDFText_GetRect(tp, i, buf, buf + 8, buf + 16, buf + 24);
      const f = new Float64Array(m.HEAPU8.buffer, buf, 4);
      const [l, t, r, b] = f;
      const len = m._FPDFText_GetBoundedText(tp, l, t, r, b, 0, 0);
      const tb = m.wasmExports.malloc((len + 1) * 2);
      m._FPDFText_GetBoundedText(tp, l, t, r, b, tb, len);
      const s = new TextDecoder('utf-16le').decode(new Uint8Array(m.HEAPU8.buffer, tb, Math.max(0, len - 1) * 2));
      m.wasmExports.free(tb);
      chars += s.length; rects++;
    }
    m._FPDFText_ClosePage(tp);
  }
  m.wasmExports.free(buf);
  doc.destroy();
  return { chars, rects };
}
for (let round = 0; round < 2; round++) {
  for (const [name, f] of [['pdfjs', viaPdfjs], ['pdfium text', () => viaPdfium(false)], ['pdfium rects', () => viaPdfium(true)], ['pdfium text+line boxes', viaPdfiumLines]]) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    let out; for (let i = 0; i < 4; i++) out = await f();
    const c = process.cpuUsage(c0);
    console.log(name, JSON.stringify(out), 'pages/s', (4 * PAGES / ((performance.now() - t0) / 1000)).toFixed(0), 'cpu ms/page', ((c.user + c.system) / 1000 / (4 * PAGES)).toFixed(2));
  }
}
