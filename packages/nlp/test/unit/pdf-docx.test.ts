import { parseDocument } from '../../src/parsers/index.js';
import { ParseError } from '../../src/types.js';
import { collect, failure, makeDocx, makePdf, makeZip, memorySource, OPTS } from './fixtures.js';

const twoPages = () =>
  makePdf([
    [
      { x: 72, y: 720, text: 'Retrieval augmented generation combines search' },
      { x: 72, y: 706, text: 'with large language models.' },
      { x: 72, y: 650, text: 'A second paragraph on page one.' },
    ],
    [{ x: 100, y: 500, text: 'Page two says hello.' }],
  ]);

// captured before the first PDF loads the PDF engine (it loads lazily)
const natives = { push: Array.prototype.push, parse: JSON.parse, stringify: JSON.stringify, toString: Function.prototype.toString };

describe('PDF parser', () => {
  it("leaves the process's built-ins alone (pdf.js' bundled core-js used to swap push and JSON for slow copies)", async () => {
    await collect(parseDocument(memorySource(twoPages(), 'a.pdf'), 'pdf', OPTS));
    expect(Array.prototype.push).toBe(natives.push);
    expect(JSON.parse).toBe(natives.parse);
    expect(JSON.stringify).toBe(natives.stringify);
    expect(Function.prototype.toString).toBe(natives.toString);
  });

  it('yields paragraphs per page with RAGFlow positions measured from the page top', async () => {
    const fractions: number[] = [];
    const sections = await collect(
      parseDocument(memorySource(twoPages(), 'a.pdf'), 'pdf', { ...OPTS, onProgress: (p) => fractions.push(p.fraction) }),
    );
    expect(sections.map((s) => s.text)).toEqual([
      'Retrieval augmented generation combines search with large language models.',
      'A second paragraph on page one.',
      'Page two says hello.',
    ]);
    const [page, x0, x1, top, bottom] = sections[0]!.positions![0]!;
    expect(page).toBe(1);
    expect(x0).toBeCloseTo(72, 0);
    expect(x1).toBeGreaterThan(300);
    expect(top).toBeCloseTo(792 - 720 - 12, 0);
    expect(bottom).toBeCloseTo(792 - 706, 0);
    expect(sections[2]!.positions![0]![0]).toBe(2);
    expect(sections[2]!.positions![0]![3]).toBeCloseTo(792 - 500 - 12, 0);
    expect(fractions).toEqual([0.5, 1]);
  });

  it('stops between pages when aborted', async () => {
    const ctrl = new AbortController();
    const it = parseDocument(memorySource(twoPages(), 'a.pdf'), 'pdf', { ...OPTS, signal: ctrl.signal })[Symbol.asyncIterator]();
    await it.next();
    ctrl.abort();
    await expect(collect({ [Symbol.asyncIterator]: () => it })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keeps a page without a text layer as a picture when there is no OCR engine', async () => {
    const sections = await collect(parseDocument(memorySource(makePdf(['0 0 100 100 re f']), 'scan.pdf'), 'pdf', OPTS));
    expect(sections).toHaveLength(1);
    expect(sections[0]).toMatchObject({ kind: 'image', text: '', page: 1, positions: [[1, 0, 612, 0, 792]], meta: { scan: '1' } });
  });

  it('reports a PDF with no pages', async () => {
    const err = await failure(parseDocument(memorySource(makePdf([]), 'empty.pdf'), 'pdf', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toBe('PDF has no text or pictures');
  });

  it('reports a password-protected PDF', async () => {
    const hex32 = 'ab'.repeat(32);
    const pdf = makePdf(
      [[{ x: 72, y: 720, text: 'secret' }]],
      `/Encrypt 6 0 R /ID [<${'01'.repeat(16)}> <${'01'.repeat(16)}>] `,
      [`<< /Filter /Standard /V 1 /R 2 /Length 40 /O <${hex32}> /U <${hex32}> /P -4 >>`],
    );
    const err = await failure(parseDocument(memorySource(pdf, 'locked.pdf'), 'pdf', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toBe('PDF is password-protected');
  });

  it('reports a corrupt PDF', async () => {
    const err = await failure(parseDocument(memorySource('%PDF-1.7\nthis is not really a pdf', 'bad.pdf'), 'pdf', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/^Corrupt PDF: /);
  });

  it('refuses a PDF above the in-memory limit', async () => {
    const err = await failure(parseDocument(memorySource(twoPages(), 'a.pdf'), 'pdf', { maxInMemoryBytes: 100 }));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/too large/);
  });
});

describe('DOCX parser', () => {
  it('yields the heading as a title, paragraphs as text and the table as HTML', async () => {
    const sections = await collect(parseDocument(memorySource(makeDocx(), 'r.docx'), 'docx', OPTS));
    expect(sections).toEqual([
      { kind: 'title', text: 'Quarterly Report', level: 1 },
      { kind: 'text', text: 'Sales grew in every region this quarter.' },
      { kind: 'table', text: '<table><tr><td>Region</td><td>Revenue</td></tr><tr><td>North</td><td>1200</td></tr></table>' },
      { kind: 'text', text: 'Outlook remains positive.' },
    ]);
  });

  it('reports a zip that is not a Word document', async () => {
    const err = await failure(parseDocument(memorySource(makeZip({ 'a.txt': 'hi' }), 'x.docx'), 'docx', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/^Corrupt DOCX: /);
  });

  it('reports bytes that are not a zip at all', async () => {
    const err = await failure(parseDocument(memorySource('definitely not a zip file', 'x.docx'), 'docx', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/^Corrupt DOCX: /);
  });
});
