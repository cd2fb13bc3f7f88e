import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { pdfLayout } from '../../src/parsers/pdf.js';
import { parseDocument } from '../../src/parsers/index.js';
import { collect, memorySource, OPTS, RecordingOcr } from './fixtures.js';

/** What the recording OCR engine answers for the scanned page. */
const SCANNED = { text: 'Scanned invoice', x0: 300, y0: 600, x1: 900, y1: 660 };

/** Four pages: a running header and page-number footer on each, a table and a picture on page 2, page 4 a scan. */
async function report(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= 3; i++) {
    const page = doc.addPage([612, 792]);
    page.drawText('ACME Corp confidential report', { x: 72, y: 760, size: 9, font });
    page.drawText(`Page ${i} of 4`, { x: 280, y: 30, size: 9, font });
    page.drawText(`Body text of page ${i} talks about retrieval.`, { x: 72, y: 700, size: 12, font });
    if (i === 2) {
      const rows = [
        ['Product', 'Units', 'Price'],
        ['Apple', '12', '1.50'],
        ['Banana', '7', '0.25'],
      ];
      rows.forEach((row, k) => row.forEach((cell, c) => page.drawText(cell, { x: 72 + c * 150, y: 600 - k * 16, size: 11, font })));
      const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#3080ff' } }).png().toBuffer();
      page.drawImage(await doc.embedPng(png), { x: 72, y: 300, width: 200, height: 100 });
    }
  }
  const scan = await sharp({ create: { width: 1275, height: 1650, channels: 3, background: '#ffffff' } })
    .composite([
      {
        input: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="1275" height="1650"><text x="150" y="300" font-size="60" font-family="sans-serif">Scanned invoice total 4711 EUR</text></svg>',
        ),
        top: 0,
        left: 0,
      },
    ])
    .jpeg()
    .toBuffer();
  const page4 = doc.addPage([612, 792]);
  page4.drawImage(await doc.embedJpg(scan), { x: 0, y: 0, width: 612, height: 792 });
  return Buffer.from(await doc.save());
}

describe('PDF parser features', () => {
  let pdf: Buffer;
  beforeAll(async () => {
    pdf = await report();
  });

  it('drops running headers and page numbers, keeps tables as HTML and pictures in place, OCRs the scanned page', async () => {
    const ocr = new RecordingOcr(SCANNED);
    const sections = await collect(parseDocument(memorySource(pdf, 'r.pdf'), 'pdf', { ...OPTS, ocrEngine: ocr }));
    expect(sections.map((s) => [s.kind, s.page, s.text])).toEqual([
      ['text', 1, 'Body text of page 1 talks about retrieval.'],
      ['text', 2, 'Body text of page 2 talks about retrieval.'],
      [
        'table',
        2,
        '<table><tr><td>Product</td><td>Units</td><td>Price</td></tr><tr><td>Apple</td><td>12</td><td>1.50</td></tr><tr><td>Banana</td><td>7</td><td>0.25</td></tr></table>',
      ],
      // the picture was OCR'd too (the stub answers the same for every image)
      ['image', 2, 'Scanned invoice'],
      ['text', 3, 'Body text of page 3 talks about retrieval.'],
      ['text', 4, 'Scanned invoice'],
    ]);
    const picture = sections[3]!;
    expect(picture.image).toMatchObject({ mime: 'image/png', width: 200, height: 100 });
    expect((await sharp(picture.image!.data).metadata()).format).toBe('png');
    expect(picture.positions).toEqual([[2, 72, 272, 392, 492]]);
    // The scan's own pixels are OCR'd (no rendering), and OCR boxes are mapped back to points.
    expect(ocr.sizes[1]).toEqual({ width: 1275, height: 1650 });
    const scale = 1650 / 792;
    const [page, x0, x1, top, bottom] = sections[5]!.positions![0]!;
    expect(page).toBe(4);
    expect(x0).toBeCloseTo(300 / scale, 0);
    expect(x1).toBeCloseTo(900 / scale, 0);
    expect(top).toBeCloseTo(600 / scale, 0);
    expect(bottom).toBeCloseTo(660 / scale, 0);
  });

  it('renders a page that has drawings but no text layer and OCRs the rendering', async () => {
    const doc = await PDFDocument.create();
    const page = doc.addPage([600, 800]);
    page.drawRectangle({ x: 100, y: 100, width: 300, height: 200 });
    const ocr = new RecordingOcr(SCANNED);
    const sections = await collect(parseDocument(memorySource(Buffer.from(await doc.save()), 'v.pdf'), 'pdf', { ...OPTS, ocrEngine: ocr }));
    // 300 dpi would be 2500 × 3333 px; the longest side is capped at 2400.
    expect(ocr.sizes).toEqual([{ width: 1800, height: 2400 }]);
    expect(sections).toEqual([{ kind: 'text', text: 'Scanned invoice', page: 1, positions: [[1, 100, 300, 200, 220]], meta: { ocr: '1' } }]);
  });

  it('parses only the requested page range', async () => {
    const sections = await collect(parseDocument(memorySource(pdf, 'r.pdf'), 'pdf', { ...OPTS, fromPage: 2, toPage: 3 }));
    expect(sections.map((s) => [s.kind, s.page])).toEqual([['text', 3]]);
    expect((await pdfLayout(memorySource(pdf, 'r.pdf'), OPTS.maxInMemoryBytes)).pages).toBe(4);
  });

  it("learns the whole file's running header once for its page ranges, which then drop it without sampling", async () => {
    const layout = await pdfLayout(memorySource(pdf, 'r.pdf'), OPTS.maxInMemoryBytes);
    expect(layout.margins).toEqual(['acmecorpconfidentialreport', 'page#of#']);
    expect(await pdfLayout(memorySource(pdf, 'r.pdf'), OPTS.maxInMemoryBytes, (pages) => pages > 4)).toEqual({ pages: 4, margins: null });
    const range = { ...OPTS, fromPage: 0, toPage: 1 };
    const given = await collect(parseDocument(memorySource(pdf, 'r.pdf'), 'pdf', { ...range, pdfMargins: layout.margins! }));
    expect(given).toEqual(await collect(parseDocument(memorySource(pdf, 'r.pdf'), 'pdf', range)));
    expect(given.map((s) => s.text)).toEqual(['Body text of page 1 talks about retrieval.']);
    // the margins given are the ones used: with none, the one page of the range keeps its header
    const none = await collect(parseDocument(memorySource(pdf, 'r.pdf'), 'pdf', { ...range, pdfMargins: [] }));
    expect(none.map((s) => s.text)).toEqual(['ACME Corp confidential report', 'Body text of page 1 talks about retrieval.']);
  });

  it('keeps a scanned page as a picture when OCR is off', async () => {
    const sections = await collect(parseDocument(memorySource(pdf, 'r.pdf'), 'pdf', { ...OPTS, fromPage: 3, toPage: 4, ocr: false, ocrEngine: new RecordingOcr(SCANNED) }));
    expect(sections).toHaveLength(1);
    expect(sections[0]).toMatchObject({ kind: 'image', text: '', page: 4, positions: [[4, 0, 612, 0, 792]], meta: { scan: '1' } });
    expect((await sharp(sections[0]!.image!.data).metadata()).format).toBe('png');
  });
});

describe('PDF layout heuristics', () => {
  it('tells page numbers, garbled text and repeating margins apart from content', async () => {
    const { isGarbled, isPageNumber, repeatingMargins, toBlocks, toLines } = await import('../../src/parsers/pdf-layout.js');
    for (const t of ['3', '- 12 -', 'Page 4 of 10', '第 3 页', '第3页 共10页', '7/20']) expect(isPageNumber(t)).toBe(true);
    for (const t of ['Chapter 3', '3 apples', 'Page three']) expect(isPageNumber(t)).toBe(false);
    expect(isGarbled('\ue001\ue002\ue003\ue004\ue005\ue006\ue007\ue008\ue009\ue00a abc')).toBe(true);
    expect(isGarbled('A perfectly normal sentence with 数字 and 中文.')).toBe(false);

    const line = (text: string, top: number) => ({ text, x0: 72, x1: 300, top, bottom: top + 10, h: 10, cells: [{ text, x0: 72, x1: 300 }] });
    const pages = [1, 2, 3].map((n) => ({ height: 792, lines: [line('Handbook v2', 20), line(`Body ${n}`, 300), line(`Section ${n} notes`, 760)] }));
    // The header repeats on every page; the footers differ only in their digits, so they repeat too; the body does not.
    expect([...repeatingMargins(pages)].sort()).toEqual(['handbookv#', 'section#notes']);

    // Two-column prose set line by line (long cells) is not a table.
    const item = (str: string, x: number, y: number) => ({ str, transform: [10, 0, 0, 10, x, y], width: str.length * 5, height: 10, hasEOL: false });
    const prose = toLines(
      [
        item('This is a long sentence in the left column of the page, well over sixty characters long.', 50, 700),
        item('And this is the right column, equally long and equally full of ordinary running text here.', 320, 700),
        item('The left column goes on with another long line of prose that is not tabular data at all.', 50, 688),
        item('The right column also continues with more prose that should never become table cells.', 320, 688),
      ],
      792,
      0,
    );
    expect(toBlocks(prose).map((b) => b.kind)).toEqual(['text']);
  });
});
