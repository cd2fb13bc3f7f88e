import * as XLSX from '@e965/xlsx';
import { Document, Packer, Paragraph } from 'docx';
import PptxGenJS from 'pptxgenjs';
import { deflateRawSync, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { detectFileType } from '../../src/detect.js';
import { parseDocument } from '../../src/parsers/index.js';
import type { FileKind, ParseOptions } from '../../src/types.js';
import { ParseError } from '../../src/types.js';
import { collect, failure, makePdf, makeZip, memorySource, OPTS } from './fixtures.js';

/** Fails with a ParseError, quickly: returns its message. */
async function parseFailure(data: Buffer | string, kind: FileKind, name: string, opts: ParseOptions = OPTS): Promise<string> {
  const started = Date.now();
  const err = await failure(parseDocument(memorySource(data, name), kind, opts));
  expect(Date.now() - started).toBeLessThan(5000);
  expect(err).toBeInstanceOf(ParseError);
  return err.message;
}

const docx = async () => Packer.toBuffer(new Document({ sections: [{ children: [new Paragraph('Hello world')] }] }));
const xlsx = () => {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['a', 'b'], [1, 2]]), 'S');
  return wb;
};
const pptx = async () => {
  const p = new PptxGenJS();
  p.addSlide().addText('Hi', { x: 1, y: 1, w: 3, h: 1 });
  return (await p.write({ outputType: 'nodebuffer' })) as Buffer;
};
const png = () => sharp({ create: { width: 50, height: 50, channels: 3, background: '#000' } }).png().toBuffer();
const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let c = 0xffffffff;
  for (const b of body) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A small PNG file that declares a huge size: a few KB that would decode to gigabytes. */
function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64 * 1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Patch a field of every central-directory record of a zip made by makeZip. */
function patchCentral(zip: Buffer, patch: (rec: Buffer) => void): Buffer {
  const out = Buffer.from(zip);
  for (let i = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); i >= 0; i = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)) {
    patch(out.subarray(i, i + 46));
  }
  return out;
}

describe('bad input: every class fails with a precise ParseError in bounded time', () => {
  it('empty files', async () => {
    for (const kind of ['pdf', 'docx', 'xlsx', 'xls', 'pptx', 'eml', 'image', 'csv', 'txt'] as FileKind[]) {
      expect(await parseFailure('', kind, `empty.${kind}`)).toBe('File is empty');
    }
  });

  it('truncated files of every format', async () => {
    const pdf = makePdf([[{ x: 72, y: 720, text: 'some text on a page' }]]);
    expect(await parseFailure(half(pdf), 'pdf', 'a.pdf')).toMatch(/^Corrupt PDF: /);
    expect(await parseFailure(half(await docx()), 'docx', 'a.docx')).toBe('Corrupt DOCX: not a valid zip archive (truncated or not a zip)');
    expect(await parseFailure(half(XLSX.write(xlsx(), { type: 'buffer', bookType: 'xlsx' }) as Buffer), 'xlsx', 'a.xlsx')).toBe(
      'Corrupt XLSX: not a valid zip archive (truncated or not a zip)',
    );
    expect(await parseFailure(half(await pptx()), 'pptx', 'a.pptx')).toBe('Corrupt PPTX: not a valid zip archive (truncated or not a zip)');
    expect(await parseFailure(half(XLSX.write(xlsx(), { type: 'buffer', bookType: 'biff8' }) as Buffer), 'xls', 'a.xls')).toMatch(/^Corrupt XLS: /);
    expect(await parseFailure(half(await png()), 'image', 'a.png')).toMatch(/^Corrupt image: /);
    expect(await parseFailure(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]), 'image', 'a.jpg')).toMatch(/^Corrupt image: /);
  });

  it('files that are not what their parser expects', async () => {
    expect(await parseFailure('just some words', 'docx', 'a.docx')).toBe('Corrupt DOCX: not a valid zip archive');
    expect(await parseFailure('just some words', 'xlsx', 'a.xlsx')).toBe('Corrupt XLSX: not a zip archive');
    expect(await parseFailure('just some words', 'xls', 'a.xls')).toBe('Corrupt XLS: not an Excel 97-2003 compound file');
    expect(await parseFailure('just some words', 'pptx', 'a.pptx')).toBe('Corrupt PPTX: not a zip archive');
    expect(await parseFailure('just some words without any header', 'eml', 'a.eml')).toBe('Not an e-mail message: no From, To, Subject or Date header');
    expect(await parseFailure('just some words', 'image', 'a.png')).toMatch(/^Unsupported image format$/);
    expect(await parseFailure(makeZip({ 'a.txt': 'hi' }), 'xlsx', 'a.xlsx')).toBe('Corrupt XLSX: no workbook part (xl/workbook.xml)');
    expect(await parseFailure(makeZip({ 'a.txt': 'hi' }), 'pptx', 'a.pptx')).toBe('Corrupt PPTX: no presentation part (ppt/presentation.xml)');
  });

  it('zip bombs: huge declared sizes, too many entries, sizes that lie', async () => {
    const declaredHuge = patchCentral(makeZip({ '[Content_Types].xml': '<x/>', 'word/document.xml': '<x/>' }), (rec) => rec.writeUInt32LE(0xf0000000, 24));
    expect(await parseFailure(declaredHuge, 'docx', 'bomb.docx')).toBe('DOCX rejected: its contents inflate to more than 512 MB, a possible zip bomb');

    const many: Record<string, string> = {};
    for (let i = 0; i < 10_001; i++) many[`xl/f${i}.xml`] = '';
    expect(await parseFailure(makeZip(many), 'xlsx', 'many.xlsx')).toBe('XLSX rejected: the archive lists 10001 entries (limit 10000), a possible zip bomb');

    // 20 MB of zeros declared as 10 bytes: caught while inflating, before the library sees it.
    const zeros = Buffer.alloc(20 * 1024 * 1024);
    const lying = patchCentral(makeZip({ '[Content_Types].xml': '<x/>', 'word/document.xml': zeros }), (rec) => {
      if (rec.readUInt32LE(24) === zeros.length) rec.writeUInt32LE(10, 24);
    });
    expect(deflateRawSync(zeros).length).toBeLessThan(100 * 1024);
    expect(await parseFailure(lying, 'docx', 'liar.docx')).toMatch(/^Corrupt DOCX: word\/document\.xml: entry sizes do not match the archive directory/);
  });

  it('an XLSX whose sheets inflate beyond what is parsed in memory', async () => {
    // 65 MB of worksheet XML that deflates to ~65 KB: refused from the archive directory, before anything is inflated
    const rows = Buffer.alloc(65 * 1024 * 1024, '<row r="1"><c><v>1</v></c></row>');
    const big = makeZip({ '[Content_Types].xml': '<x/>', 'xl/workbook.xml': '<workbook/>', 'xl/worksheets/sheet1.xml': rows });
    expect(await parseFailure(big, 'xlsx', 'big.xlsx')).toBe(
      'XLSX is too large to parse: its sheets inflate to 65.0 MB of XML (limit 64 MB, workbooks are parsed in memory); ' +
        'split it, or save the sheets as CSV, which is parsed as a stream',
    );
  });

  it('encrypted archives and password-protected documents', async () => {
    const encrypted = patchCentral(makeZip({ '[Content_Types].xml': '<x/>', 'ppt/presentation.xml': '<x/>' }), (rec) => rec.writeUInt16LE(1, 8));
    expect(await parseFailure(encrypted, 'pptx', 'e.pptx')).toBe('PPTX is encrypted (password-protected archive)');

    // Office saves a password-protected .xlsx as a compound file holding EncryptionInfo and EncryptedPackage.
    const cfb = XLSX.CFB.utils.cfb_new();
    XLSX.CFB.utils.cfb_add(cfb, '/EncryptionInfo', Buffer.alloc(64, 1));
    XLSX.CFB.utils.cfb_add(cfb, '/EncryptedPackage', Buffer.alloc(4096, 7));
    const protectedXlsx = Buffer.from(XLSX.CFB.write(cfb, { type: 'buffer' }) as Buffer);
    expect(detectFileType(protectedXlsx, 'secret.xlsx')).toMatchObject({ kind: 'xlsx' });
    expect(await parseFailure(protectedXlsx, 'xlsx', 'secret.xlsx')).toBe('XLSX is password-protected (encrypted); remove the password and upload it again');
    expect(await parseFailure(protectedXlsx, 'docx', 'secret.docx')).toBe('DOCX is password-protected (encrypted); remove the password and upload it again');
  });

  it('images with absurd dimensions (decompression bombs)', async () => {
    expect(detectFileType(pngBomb(100_000, 100_000), 'x.dat')).toMatchObject({ kind: 'image', mime: 'image/png' });
    expect(await parseFailure(pngBomb(100_000, 100_000), 'image', 'bomb.png')).toBe(
      'Image rejected: 100000×100000 pixels exceeds the limit of 100 megapixels (possible decompression bomb)',
    );
    expect(await parseFailure(pngBomb(20_000, 20_000), 'image', 'bomb.png')).toBe(
      'Image rejected: 20000×20000 pixels exceeds the limit of 100 megapixels (possible decompression bomb)',
    );
  });

  it('a wrong extension does not matter: detection goes by content and the parse succeeds', async () => {
    const d = await docx();
    const x = XLSX.write(xlsx(), { type: 'buffer', bookType: 'xlsx' }) as Buffer;
    const p = await pptx();
    const cases: [Buffer, string, FileKind][] = [
      [d, 'report.pdf', 'docx'],
      [x, 'table.csv', 'xlsx'],
      [p, 'slides.docx', 'pptx'],
      [await png(), 'photo.txt', 'image'],
      [makePdf([[{ x: 72, y: 720, text: 'pdf text' }]]), 'doc.xlsx', 'pdf'],
    ];
    for (const [buf, name, kind] of cases) {
      const detected = detectFileType(buf, name);
      expect(detected?.kind).toBe(kind);
      const sections = await collect(parseDocument(memorySource(buf, name), detected!.kind, { ...OPTS, ocr: false }));
      expect(sections.length).toBeGreaterThan(0);
    }
  });
});
