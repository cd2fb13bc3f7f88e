import * as XLSX from '@e965/xlsx';
import { AlignmentType, Document, HeadingLevel, ImageRun, LevelFormat, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from 'docx';
import PptxGenJS from 'pptxgenjs';
import sharp from 'sharp';
import { detectFileType } from '../../src/detect.js';
import { parseDocument } from '../../src/parsers/index.js';
import type { Section } from '../../src/types.js';
import { collect, memorySource, OPTS } from './fixtures.js';

const picture = (w: number, h: number, color: string) => sharp({ create: { width: w, height: h, channels: 3, background: color } }).png().toBuffer();

const strip = (sections: Section[]) => sections.map(({ image, ...rest }) => ({ ...rest, ...(image ? { image: { mime: image.mime, width: image.width, height: image.height } } : {}) }));

describe('DOCX parser', () => {
  it('keeps heading levels, lists, tables and pictures in document order', async () => {
    const doc = new Document({
      numbering: {
        config: [{ reference: 'nums', levels: [{ level: 0, format: LevelFormat.DECIMAL, text: '%1.', alignment: AlignmentType.START }] }],
      },
      sections: [
        {
          children: [
            new Paragraph({ text: 'Annual Report', heading: HeadingLevel.HEADING_1 }),
            new Paragraph({ text: 'Scope', heading: HeadingLevel.HEADING_2 }),
            new Paragraph({ children: [new TextRun('Revenue rose in all regions.')] }),
            new Paragraph({ text: 'first point', bullet: { level: 0 } }),
            new Paragraph({ text: 'second step', numbering: { reference: 'nums', level: 0 } }),
            new Table({
              rows: [
                new TableRow({ children: [new TableCell({ children: [new Paragraph('Region')] }), new TableCell({ children: [new Paragraph('Sales')] })] }),
                new TableRow({ children: [new TableCell({ children: [new Paragraph('East')] }), new TableCell({ children: [new Paragraph('42')] })] }),
              ],
            }),
            new Paragraph({ children: [new ImageRun({ type: 'png', data: await picture(120, 80, '#2060c0'), transformation: { width: 120, height: 80 } })] }),
            new Paragraph('The end.'),
          ],
        },
      ],
    });
    const buf = await Packer.toBuffer(doc);
    const sections = strip(await collect(parseDocument(memorySource(buf, 'r.docx'), 'docx', OPTS)));
    expect(sections).toEqual([
      { kind: 'title', text: 'Annual Report', level: 1 },
      { kind: 'title', text: 'Scope', level: 2 },
      { kind: 'text', text: 'Revenue rose in all regions.' },
      { kind: 'text', text: 'first point', level: 1, meta: { list: 'bullet' } },
      { kind: 'text', text: 'second step', level: 1, meta: { list: 'ordered' } },
      { kind: 'table', text: '<table><tr><td>Region</td><td>Sales</td></tr><tr><td>East</td><td>42</td></tr></table>' },
      { kind: 'image', text: '', image: { mime: 'image/png', width: 120, height: 80 } },
      { kind: 'text', text: 'The end.' },
    ]);
  });
});

describe('spreadsheet parsers', () => {
  const workbook = () => {
    const wb = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(
      wb,
      XLSX.utils.aoa_to_sheet([
        ['Name', 'Age', 'Joined', 'Active'],
        ['Ann', 31, new Date(Date.UTC(2020, 0, 2)), true],
        ['Bob', null, null, false],
      ]),
      'People',
    );
    XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['城市', '人口'], ['上海', 2487]]), '城市');
    return wb;
  };
  const expected = [
    {
      kind: 'text',
      text: 'Name: Ann; Age: 31; Joined: 2020-01-02; Active: true',
      page: 1,
      meta: { sheet: 'People' },
      row: { header: ['Name', 'Age', 'Joined', 'Active'], cells: ['Ann', 31, '2020-01-02', true] },
    },
    {
      kind: 'text',
      text: 'Name: Bob; Active: false',
      page: 1,
      meta: { sheet: 'People' },
      row: { header: ['Name', 'Age', 'Joined', 'Active'], cells: ['Bob', null, null, false] },
    },
    { kind: 'text', text: '城市：上海; 人口：2487', page: 2, meta: { sheet: '城市' }, row: { header: ['城市', '人口'], cells: ['上海', 2487] } },
  ];

  it('reads every sheet of an XLSX as typed rows', async () => {
    const buf = XLSX.write(workbook(), { type: 'buffer', bookType: 'xlsx' }) as Buffer;
    expect(detectFileType(buf, 'export')).toMatchObject({ kind: 'xlsx', docType: 'doc' });
    expect(await collect(parseDocument(memorySource(buf, 'a.xlsx'), 'xlsx', OPTS))).toEqual(expected);
  });

  it('reads an Excel 97-2003 XLS the same way', async () => {
    const buf = XLSX.write(workbook(), { type: 'buffer', bookType: 'biff8' }) as Buffer;
    expect(detectFileType(buf, 'export.dat')).toEqual({ kind: 'xls', mime: 'application/vnd.ms-excel', docType: 'doc' });
    expect(await collect(parseDocument(memorySource(buf, 'a.xls'), 'xls', OPTS))).toEqual(expected);
  });

  it('holds one workbook in memory at a time; a spreadsheet waiting for its turn can be stopped', async () => {
    const xlsx = XLSX.write(workbook(), { type: 'buffer', bookType: 'xlsx' }) as Buffer;
    const xls = XLSX.write(workbook(), { type: 'buffer', bookType: 'biff8' }) as Buffer;
    const loaded: string[] = [];
    const source = (data: Buffer, name: string) => {
      const s = memorySource(data, name);
      return { ...s, buffer: (max: number) => (loaded.push(name), s.buffer(max)) };
    };
    const a = parseDocument(source(xlsx, 'a.xlsx'), 'xlsx', OPTS);
    const b = parseDocument(source(xls, 'b.xls'), 'xls', OPTS);
    expect((await a.next()).value).toEqual(expected[0]);
    const bFirst = b.next();
    await new Promise((r) => setTimeout(r, 30));
    expect(loaded).toEqual(['a.xlsx']); // b has not loaded its file while a's workbook is in memory

    const stop = new AbortController();
    const c = parseDocument(source(xlsx, 'c.xlsx'), 'xlsx', { ...OPTS, signal: stop.signal });
    const cFirst = c.next();
    stop.abort(new Error('parsing was stopped'));
    await expect(cFirst).rejects.toThrow('parsing was stopped');

    expect(await collect(a)).toEqual(expected.slice(1));
    expect((await bFirst).value).toEqual(expected[0]);
    expect(loaded).toEqual(['a.xlsx', 'b.xls']);
    await b.return(undefined); // a consumer that stops early frees the slot too
    expect(await collect(parseDocument(source(xlsx, 'd.xlsx'), 'xlsx', OPTS))).toEqual(expected);
  });

  it('gives CSV rows typed cells', async () => {
    const sections = await collect(parseDocument(memorySource('item,qty,price\nPen,3,1.25\nInk,,007\n', 'a.csv'), 'csv', OPTS));
    expect(sections).toEqual([
      { kind: 'text', text: 'item: Pen; qty: 3; price: 1.25', row: { header: ['item', 'qty', 'price'], cells: ['Pen', 3, 1.25] } },
      // "007" keeps its leading zero: it is a code, not a number.
      { kind: 'text', text: 'item: Ink; price: 007', row: { header: ['item', 'qty', 'price'], cells: ['Ink', null, '007'] } },
    ]);
  });
});

describe('PPTX parser', () => {
  it('yields one group of sections per slide: text, tables, pictures and notes', async () => {
    const p = new PptxGenJS();
    p.defineSlideMaster({ title: 'M', objects: [{ placeholder: { options: { name: 'title', type: 'title', x: 0.5, y: 0.2, w: 9, h: 1 }, text: '' } }] });
    const s1 = p.addSlide({ masterName: 'M' });
    s1.addText('Quarterly results', { placeholder: 'title' });
    s1.addText('Revenue grew 20%', { x: 1, y: 2, w: 8, h: 1 });
    s1.addNotes('Mention the new office');
    s1.addImage({ data: `image/png;base64,${(await picture(64, 48, '#ff0000')).toString('base64')}`, x: 1, y: 3, w: 1, h: 1 });
    const s2 = p.addSlide();
    s2.addTable([[{ text: 'Q' }, { text: 'Sales' }], [{ text: 'Q1' }, { text: '10' }]], { x: 1, y: 1 });
    const buf = (await p.write({ outputType: 'nodebuffer' })) as Buffer;
    const sections = strip(await collect(parseDocument(memorySource(buf, 'deck.pptx'), 'pptx', OPTS)));
    expect(sections).toEqual([
      { kind: 'title', text: 'Quarterly results', level: 1, page: 1, meta: { slide: '1' } },
      { kind: 'text', text: 'Revenue grew 20%', page: 1, meta: { slide: '1' } },
      { kind: 'image', text: '', page: 1, meta: { slide: '1' }, image: { mime: 'image/png', width: 64, height: 48 } },
      { kind: 'text', text: 'Mention the new office', page: 1, meta: { slide: '1', notes: '1' } },
      { kind: 'table', text: '<table><tr><td>Q</td><td>Sales</td></tr><tr><td>Q1</td><td>10</td></tr></table>', page: 2, meta: { slide: '2' } },
    ]);
  });
});
