// Generated files for the per-format benchmark sections: office documents (built with the libraries the parser
// tests use: docx, pptxgenjs, SheetJS), scanned pages (text rendered to pixels by sharp/librsvg, as PNG and as an
// image-only PDF made with pdf-lib), and the large-file cases, written to disk as a stream so the benchmark never
// holds them in memory.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import * as XLSX from '@e965/xlsx';
import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow } from 'docx';
import PptxGenJS from 'pptxgenjs';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { englishSentence, paragraph } from './corpus.mjs';

const pick = (r, arr) => arr[Math.floor(r() * arr.length)];
const CATEGORIES = ['hardware', 'software', 'services', 'logistics', 'research', 'marketing', 'facilities', 'training'];
const REGIONS = ['North', 'South', 'East', 'West', 'Central'];

/** Estimated XML bytes per file byte for each generator (measured), so files come out near the size asked for. */
const RAW_PER_BYTE = { docx: 7.7, xlsx: 1.7, pptx: 1.55 };

// ---------------------------------------------------------------- office

/** A DOCX of roughly `bytes`: Heading 1/2 sections of paragraphs, with a small table every fifth section. */
export async function docxFile(r, bytes) {
  const children = [];
  let raw = 0;
  for (let s = 1; raw < bytes * RAW_PER_BYTE.docx; s++) {
    const h = englishSentence(r).slice(0, 60);
    children.push(new Paragraph({ text: `${s}. ${h}`, heading: s % 4 === 1 ? HeadingLevel.HEADING_1 : HeadingLevel.HEADING_2 }));
    for (let k = 0; k < 3; k++) {
      const p = paragraph(r, 'en');
      raw += p.length + 400; // each run's XML markup
      children.push(new Paragraph(p));
    }
    if (s % 5 === 0) {
      const rows = [['Region', 'Category', 'Amount']];
      for (let k = 0; k < 4; k++) rows.push([pick(r, REGIONS), pick(r, CATEGORIES), String(Math.floor(r() * 100000))]);
      children.push(new Table({ rows: rows.map((row) => new TableRow({ children: row.map((c) => new TableCell({ children: [new Paragraph(c)] })) })) }));
      raw += 3000;
    }
  }
  return Packer.toBuffer(new Document({ sections: [{ children }] }));
}

/** An XLSX of roughly `bytes`: two sheets of typed rows (id, date, region, category, amount, note). */
export function xlsxFile(r, bytes) {
  const wb = XLSX.utils.book_new();
  for (const name of ['Orders', 'Returns']) {
    const rows = [['id', 'date', 'region', 'category', 'amount', 'note']];
    let raw = 0;
    for (let i = 1; raw < (bytes * RAW_PER_BYTE.xlsx) / 2; i++) {
      const note = englishSentence(r);
      rows.push([i, `2026-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`, pick(r, REGIONS), pick(r, CATEGORIES), Math.round(r() * 1e6) / 100, note]);
      raw += note.length + 150;
    }
    XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), name);
  }
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx', compression: true });
}

/** A PPTX of roughly `bytes`: slides with a title, five bullets and speaker notes. */
export async function pptxFile(r, bytes) {
  const pptx = new PptxGenJS();
  let raw = 0;
  for (let s = 1; raw < bytes * RAW_PER_BYTE.pptx; s++) {
    const slide = pptx.addSlide();
    slide.addText(`Slide ${s}: ${englishSentence(r).slice(0, 50)}`, { x: 0.5, y: 0.3, w: 9, h: 0.8, fontSize: 28 });
    const bullets = Array.from({ length: 5 }, () => englishSentence(r));
    slide.addText(bullets.map((t) => ({ text: t, options: { bullet: true, breakLine: true } })), { x: 0.5, y: 1.3, w: 9, h: 4, fontSize: 16 });
    const notes = paragraph(r, 'en');
    slide.addNotes(notes);
    raw += bullets.join('').length + notes.length + 12000; // slide, notes and rels XML per slide
  }
  return pptx.write({ outputType: 'nodebuffer' });
}

// ---------------------------------------------------------------- scanned pages

const escapeXml = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** A letter page at 200 dpi (1700×2200 px), 11 pt DejaVu Sans text in 36 lines, slightly grey paper: a clean scan. */
export async function scannedPagePng(r) {
  const W = 1700;
  const H = 2200;
  const lines = [];
  while (lines.length < 36) {
    const s = englishSentence(r);
    lines.push(s.length > 70 ? s.slice(0, s.lastIndexOf(' ', 70)) : s);
  }
  const text = lines.map((l, i) => `<text x="170" y="${230 + i * 50}">${escapeXml(l)}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#f4f3ef"/><g font-family="DejaVu Sans" font-size="31" fill="#1a1a1a">${text}</g></svg>`;
  return sharp(Buffer.from(svg)).grayscale().png({ compressionLevel: 6 }).toBuffer();
}

/** An image-only PDF (no text layer), one scanned page per PDF page. */
export async function scannedPdf(pngs) {
  const doc = await PDFDocument.create();
  for (const png of pngs) {
    const img = await doc.embedPng(png);
    const page = doc.addPage([612, 792]);
    page.drawImage(img, { x: 0, y: 0, width: 612, height: 792 });
  }
  return Buffer.from(await doc.save());
}

// ---------------------------------------------------------------- large files, streamed to disk

async function writeAll(file, parts) {
  const out = createWriteStream(file);
  let bytes = 0;
  for await (const p of parts) {
    bytes += Buffer.byteLength(p, 'latin1');
    if (!out.write(p, 'latin1')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

/**
 * A text PDF of `pages` pages (Helvetica, 40 lines a page, a running header and a page number), written object by
 * object: the object numbers are fixed up front (1 catalog, 2 page tree, 3 font, then content/page pairs).
 */
export async function writeTextPdf(r, file, pages) {
  const offsets = [];
  let pos = 0;
  async function* parts() {
    const obj = (n, body) => {
      const s = `${n} 0 obj\n${body}\nendobj\n`;
      offsets[n] = pos;
      pos += Buffer.byteLength(s, 'latin1');
      return s;
    };
    const head = '%PDF-1.4\n';
    pos += head.length;
    yield head;
    yield obj(1, '<< /Type /Catalog /Pages 2 0 R >>');
    const kids = Array.from({ length: pages }, (_, i) => `${5 + 2 * i} 0 R`).join(' ');
    yield obj(2, `<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`);
    yield obj(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
    for (let p = 0; p < pages; p++) {
      const lines = [];
      for (let i = 0; i < 40; i++) lines.push(englishSentence(r).slice(0, 95).replace(/[()\\]/g, ''));
      const content = [
        'BT /F1 8 Tf 50 770 Td (RagNest benchmark - large document) Tj ET',
        'BT', '/F1 10 Tf', '12 TL', '50 740 Td', ...lines.map((l) => `(${l}) Tj T*`), 'ET',
        `BT /F1 8 Tf 300 30 Td (${p + 1}) Tj ET`,
      ].join('\n');
      yield obj(4 + 2 * p, `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`);
      yield obj(5 + 2 * p, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${4 + 2 * p} 0 R >>`);
    }
    const n = 4 + 2 * pages;
    const xref = pos;
    let tail = `xref\n0 ${n}\n0000000000 65535 f \n`;
    for (let i = 1; i < n; i++) tail += `${String(offsets[i]).padStart(10, '0')} 00000 n \n`;
    tail += `trailer\n<< /Size ${n} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    yield tail;
  }
  return writeAll(file, parts());
}

/** A CSV of about `bytes` bytes: a header and rows of id, date, region, category, amount and a sentence. */
export async function writeCsv(r, file, bytes) {
  async function* parts() {
    let size = 0;
    let id = 0;
    const header = 'id,date,region,category,amount,description\n';
    size += header.length;
    yield header;
    while (size < bytes) {
      const rows = [];
      for (let k = 0; k < 2000; k++) {
        id++;
        rows.push(`${id},2026-${String(1 + (id % 12)).padStart(2, '0')}-${String(1 + (id % 28)).padStart(2, '0')},${pick(r, REGIONS)},${pick(r, CATEGORIES)},${(r() * 1e4).toFixed(2)},"${englishSentence(r)} ${englishSentence(r)}"`);
      }
      const block = rows.join('\n') + '\n';
      size += block.length;
      yield block;
    }
  }
  return writeAll(file, parts());
}
