// Test fixtures built in code: an in-memory ParseSource, a minimal PDF writer and a minimal zip (DOCX) writer.
import { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import type { OcrEngine, OcrResult, ParseOptions, ParseSource, Section } from '../../src/types.js';

/** A ParseSource over bytes, streamed in small chunks so multi-byte characters straddle chunk boundaries. */
export function memorySource(data: Buffer | string, fileName = 'file.txt', chunkSize = 7): ParseSource {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return {
    fileName,
    size: buf.length,
    async stream() {
      const parts: Buffer[] = [];
      for (let i = 0; i < buf.length; i += chunkSize) parts.push(buf.subarray(i, i + chunkSize));
      return Readable.from(parts);
    },
    async buffer(maxBytes: number) {
      if (buf.length > maxBytes) throw new Error('too large');
      return buf;
    },
  };
}

export const OPTS: ParseOptions = { maxInMemoryBytes: 50 * 1024 * 1024 };

export async function collect(it: AsyncIterable<Section>): Promise<Section[]> {
  const out: Section[] = [];
  for await (const s of it) out.push(s);
  return out;
}

/** The error an async iterable fails with (fails the test if it does not). */
export async function failure(it: AsyncIterable<unknown>): Promise<Error> {
  try {
    for await (const _ of it) void _;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the parser to fail');
}

// ---------- PDF ----------

export interface PdfText {
  x: number;
  /** baseline, PDF user space (from the bottom) */
  y: number;
  text: string;
  size?: number;
}

/** A valid PDF (Helvetica, correct xref) with one content stream per page. */
export function makePdf(pages: PdfText[][] | string[], extraTrailer = '', extraObjects: string[] = []): Buffer {
  const objects: string[] = [];
  const pageRefs: number[] = [];
  // 1 catalog, 2 pages, 3 font, then page/content pairs, then extras
  const fontId = 3;
  let next = 4;
  const pageObjs: string[] = [];
  for (const page of pages) {
    const pageId = next++;
    const contentId = next++;
    pageRefs.push(pageId);
    const content =
      typeof page === 'string'
        ? page
        : page
            .map((t) => `BT /F1 ${t.size ?? 12} Tf ${t.x} ${t.y} Td (${t.text.replace(/[()\\]/g, '\\$&')}) Tj ET`)
            .join('\n');
    pageObjs[pageId] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${fontId} 0 R >> >> /Contents ${contentId} 0 R >>`;
    pageObjs[contentId] = `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`;
  }
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pageRefs.map((r) => `${r} 0 R`).join(' ')}] /Count ${pageRefs.length} >>`;
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  for (let id = 4; id < next; id++) objects[id] = pageObjs[id]!;
  for (const extra of extraObjects) objects[next++] = extra;

  return serializePdf(objects, '1.4', extraTrailer);
}

/** PDF objects (index = object id; 0 unused, 1 the catalog) as a file with a correct xref table. */
export function serializePdf(objects: string[], version = '1.4', extraTrailer = ''): Buffer {
  let out = `%PDF-${version}\n%\xe2\xe3\xcf\xd3\n`;
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = Buffer.byteLength(out, 'latin1');
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R ${extraTrailer}>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

// ---------- ZIP / DOCX ----------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (deflate) with the given entries, in order. */
export function makeZip(entries: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const packed = deflateRawSync(data);
    const nameBuf = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    locals.push(local, nameBuf, packed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

const para = (text: string, style?: string) =>
  `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${text}</w:t></w:r></w:p>`;

/** A DOCX with a Heading 1, a paragraph, a 2×2 table and a closing paragraph. */
export function makeDocx(): Buffer {
  const table =
    '<w:tbl>' +
    [
      ['Region', 'Revenue'],
      ['North', '1200'],
    ]
      .map((row) => `<w:tr>${row.map((c) => `<w:tc>${para(c)}</w:tc>`).join('')}</w:tr>`)
      .join('') +
    '</w:tbl>';
  return makeZip({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
      '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>' +
      '</Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>' +
      '</Relationships>',
    'word/document.xml':
      `<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>` +
      para('Quarterly Report', 'Heading1') +
      para('Sales grew in every region this quarter.') +
      table +
      para('Outlook remains positive.') +
      '</w:body></w:document>',
    'word/_rels/document.xml.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' +
      '</Relationships>',
    'word/styles.xml':
      `<?xml version="1.0" encoding="UTF-8"?><w:styles ${W}>` +
      '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>' +
      '</w:styles>',
  });
}

/** An OCR engine that records the size of each image it is asked to read and answers with one fixed paragraph (the OCR itself is tested in ocr.test.ts). */
export class RecordingOcr implements OcrEngine {
  readonly sizes: { width: number; height: number }[] = [];
  constructor(private readonly paragraph: { text: string; x0: number; y0: number; x1: number; y1: number }) {}
  async recognize(image: Buffer): Promise<OcrResult> {
    const meta = await sharp(image).metadata();
    this.sizes.push({ width: meta.width!, height: meta.height! });
    return { text: this.paragraph.text, confidence: 90, paragraphs: [{ ...this.paragraph }] };
  }
  async close(): Promise<void> {}
}
