// The PDF engine (PDFium, WebAssembly) on what real PDFs do that the other PDF tests do not: Chinese text (an
// embedded subset font with a ToUnicode CMap, and a non-embedded Adobe CJK font read through PDFium's built-in
// CMaps), font sizes set by the text matrix, pictures inside nested form XObjects, a font without a usable
// text mapping, and memory that does not grow with the page count.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseDocument } from '../../src/parsers/index.js';
import { discardPdfium, isWasmTrap, loadPdfium } from '../../src/parsers/pdfium.js';
import { collect, makePdf, memorySource, OPTS, RecordingOcr, serializePdf } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const CJK_FONT = readFileSync(join(here, '..', 'fixtures', 'wqy-microhei-subset.ttf'));

/**
 * A PDF from raw objects (latin1 strings; binary streams as latin1 too). Object 1 is the catalog, 2 the page
 * tree; `pages` are [resources, content] and get ids after the extra objects, which start at 3.
 */
function rawPdf(pages: [string, string][], extra: string[] = []): Buffer {
  const objects: string[] = ['', '<< /Type /Catalog /Pages 2 0 R >>', ''];
  for (const o of extra) objects.push(o);
  const kids: number[] = [];
  for (const [resources, content] of pages) {
    const contentId = objects.push(`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`) - 1;
    kids.push(objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources ${resources} /Contents ${contentId} 0 R >>`) - 1);
  }
  objects[2] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  return serializePdf(objects, '1.7');
}

/** Unicode → glyph id from a TrueType font's format-4 cmap (the Windows Unicode BMP subtable). */
function glyphIds(font: Buffer): Map<number, number> {
  const tables = font.readUInt16BE(4);
  let cmap = 0;
  for (let i = 0; i < tables; i++) if (font.toString('latin1', 12 + 16 * i, 16 + 16 * i) === 'cmap') cmap = font.readUInt32BE(20 + 16 * i);
  let sub = 0;
  for (let i = 0; i < font.readUInt16BE(cmap + 2); i++) {
    const rec = cmap + 4 + 8 * i;
    if (font.readUInt16BE(rec) === 3 && font.readUInt16BE(rec + 2) === 1) sub = cmap + font.readUInt32BE(rec + 4);
  }
  const segs = font.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const rangeOffsets = deltas + 2 * segs;
  const map = new Map<number, number>();
  for (let s = 0; s < segs; s++) {
    const end = font.readUInt16BE(ends + 2 * s);
    const start = font.readUInt16BE(starts + 2 * s);
    const delta = font.readInt16BE(deltas + 2 * s);
    const ro = font.readUInt16BE(rangeOffsets + 2 * s);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      const g = ro ? font.readUInt16BE(rangeOffsets + 2 * s + ro + 2 * (c - start)) : c;
      if (g) map.set(c, ro ? (g + delta) & 0xffff : (c + delta) & 0xffff);
    }
  }
  return map;
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** Chinese lines set in the embedded WQY Micro Hei subset: Type0 / Identity-H, codes are glyph ids, ToUnicode maps them back. */
function embeddedCjkPdf(lines: { x: number; y: number; text: string }[], claims: Record<string, string> = {}): Buffer {
  const gids = glyphIds(CJK_FONT);
  const used = new Map<number, number>();
  const encode = (s: string) =>
    [...s]
      .map((ch) => {
        const g = gids.get(ch.codePointAt(0)!);
        if (!g) throw new Error(`the font subset has no ${ch}`);
        used.set(g, ch.codePointAt(0)!);
        return hex4(g);
      })
      .join('');
  const content = lines.map((l) => `BT /F1 16 Tf ${l.x} ${l.y} Td <${encode(l.text)}> Tj ET`).join('\n');
  // `claims`: what the ToUnicode CMap says a drawn character is (UTF-16BE, so beyond the BMP is a surrogate pair)
  const utf16be = (u: number) => {
    const s = claims[String.fromCodePoint(u)] ?? String.fromCodePoint(u);
    return Array.from({ length: s.length }, (_, i) => hex4(s.charCodeAt(i))).join('');
  };
  const bf = [...used].map(([g, u]) => `<${hex4(g)}> <${utf16be(u)}>`).join('\n');
  const cmap = `/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <0000> <FFFF> endcodespacerange ${used.size} beginbfchar\n${bf}\nendbfchar endcmap CMapName currentdict /CMap defineresource pop end end`;
  const fontFile = CJK_FONT.toString('latin1');
  return rawPdf(
    [['<< /Font << /F1 3 0 R >> >>', content]],
    [
      '<< /Type /Font /Subtype /Type0 /BaseFont /AAAAAA+WenQuanYiMicroHei /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 5 0 R >>',
      '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /AAAAAA+WenQuanYiMicroHei /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 6 0 R /DW 1000 /CIDToGIDMap /Identity >>',
      `<< /Length ${cmap.length} >>\nstream\n${cmap}\nendstream`,
      '<< /Type /FontDescriptor /FontName /AAAAAA+WenQuanYiMicroHei /Flags 4 /FontBBox [-100 -200 1000 900] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 7 0 R >>',
      `<< /Length ${fontFile.length} /Length1 ${fontFile.length} >>\nstream\n${fontFile}\nendstream`,
    ],
  );
}

describe('PDF engine', () => {
  it('reads Chinese set in an embedded subset font (Identity-H with a ToUnicode CMap), lines joined without spaces', async () => {
    const pdf = embeddedCjkPdf([
      { x: 72, y: 720, text: '人工智能知识库' },
      { x: 72, y: 700, text: '中文识别测试' },
      { x: 72, y: 600, text: '知识库测试' },
    ]);
    const sections = await collect(parseDocument(memorySource(pdf, 'zh.pdf'), 'pdf', OPTS));
    expect(sections.map((s) => [s.kind, s.text])).toEqual([
      ['text', '人工智能知识库中文识别测试'],
      ['text', '知识库测试'],
    ]);
    const [page, x0, x1, top, bottom] = sections[0]!.positions![0]!;
    expect([page, x0, top, bottom]).toEqual([1, 72, 792 - 720 - 16, 792 - 700]);
    // seven characters of 1000/1000 em at 16 pt
    expect(x1).toBeCloseTo(72 + 7 * 16, 0);
  });

  it('keeps characters beyond the BMP (CJK Extension B) whole and in place', async () => {
    const pdf = embeddedCjkPdf([{ x: 72, y: 720, text: '人工智能知识库' }], { 工: '\u{20000}' });
    const sections = await collect(parseDocument(memorySource(pdf, 'extb.pdf'), 'pdf', OPTS));
    expect(sections.map((s) => s.text)).toEqual(['人\u{20000}智能知识库']);
    expect(sections[0]!.positions![0]![2]).toBeCloseTo(72 + 7 * 16, 0);
  });

  it('reads Chinese in a non-embedded Adobe-GB1 font (STSong-Light, UniGB-UCS2-H) through the built-in CMaps', async () => {
    const ucs2 = (s: string) => [...s].map((c) => hex4(c.charCodeAt(0))).join('');
    const pdf = rawPdf(
      [['<< /Font << /F1 3 0 R >> >>', `BT /F1 14 Tf 72 720 Td <${ucs2('检索增强生成，结合搜索与大语言模型。')}> Tj ET\nBT /F1 14 Tf 72 702 Td <${ucs2('第二行继续说明。')}> Tj ET`]],
      [
        '<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>',
        '<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R /DW 1000 >>',
        '<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>',
      ],
    );
    const sections = await collect(parseDocument(memorySource(pdf, 'song.pdf'), 'pdf', OPTS));
    expect(sections.map((s) => s.text)).toEqual(['检索增强生成，结合搜索与大语言模型。第二行继续说明。']);
  });

  it('takes the font size from the text matrix when Tf is 1', async () => {
    const pdf = makePdf(['BT /F1 1 Tf 12 0 0 12 72 720 Tm (Sized by the text matrix) Tj 0 -1.2 Td (and the next line) Tj ET']);
    const sections = await collect(parseDocument(memorySource(pdf, 'tm.pdf'), 'pdf', OPTS));
    expect(sections.map((s) => s.text)).toEqual(['Sized by the text matrix and the next line']);
    const [, x0, , top, bottom] = sections[0]!.positions![0]!;
    expect(x0).toBeCloseTo(72, 1);
    expect(top).toBeCloseTo(792 - 720 - 12, 1);
    expect(bottom).toBeCloseTo(792 - (720 - 14.4), 1);
  });

  it('finds a picture inside nested form XObjects and places it where the forms put it', async () => {
    // page: cm translate(100, 200) → Fm1 (/Matrix translate(10, 20)) → Fm2 (/Matrix scale 2) → 60 × 40 pt image
    const rgb = Buffer.alloc(30 * 20 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([200, 40, 10], i);
    const inner = 'q 60 0 0 40 0 0 cm /Im1 Do Q';
    const outer = 'q /Fm2 Do Q';
    const pdf = rawPdf(
      [['<< /Font << /F1 6 0 R >> /XObject << /Fm1 5 0 R >> >>', 'BT /F1 12 Tf 72 720 Td (A figure follows.) Tj ET\nq 1 0 0 1 100 200 cm /Fm1 Do Q']],
      [
        `<< /Type /XObject /Subtype /Image /Width 30 /Height 20 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${rgb.length} >>\nstream\n${rgb.toString('latin1')}\nendstream`,
        `<< /Type /XObject /Subtype /Form /BBox [0 0 500 500] /Matrix [2 0 0 2 0 0] /Resources << /XObject << /Im1 3 0 R >> >> /Length ${inner.length} >>\nstream\n${inner}\nendstream`,
        `<< /Type /XObject /Subtype /Form /BBox [0 0 500 500] /Matrix [1 0 0 1 10 20] /Resources << /XObject << /Fm2 4 0 R >> >> /Length ${outer.length} >>\nstream\n${outer}\nendstream`,
        '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
      ],
    );
    const sections = await collect(parseDocument(memorySource(pdf, 'form.pdf'), 'pdf', OPTS));
    expect(sections.map((s) => s.kind)).toEqual(['text', 'image']);
    const picture = sections[1]!;
    // 2 × (60 × 40) at (100 + 10, 200 + 20): x 110–230, y 220–300 → top 792 − 300, bottom 792 − 220
    expect(picture.positions).toEqual([[1, 110, 230, 492, 572]]);
    expect(picture.image).toMatchObject({ mime: 'image/png', width: 30, height: 20 });
    const { data, info } = await sharp(picture.image!.data).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, data[0], data[1], data[2]]).toEqual([30, 20, 200, 40, 10]);
  });

  it('OCRs a page whose font maps to no text (control characters) instead of indexing garbage', async () => {
    const garbage = Array.from({ length: 40 }, (_, i) => `\\${(1 + (i % 20)).toString(8).padStart(3, '0')}`).join('');
    const pdf = makePdf([`BT /F1 12 Tf 72 720 Td (${garbage}) Tj ET`]);
    const ocr = new RecordingOcr({ text: 'recognised', x0: 0, y0: 0, x1: 100, y1: 30 });
    const sections = await collect(parseDocument(memorySource(pdf, 'garbled.pdf'), 'pdf', { ...OPTS, ocrEngine: ocr }));
    expect(ocr.sizes).toEqual([{ width: 1855, height: 2400 }]);
    expect(sections.map((s) => [s.kind, s.text, s.meta])).toEqual([['text', 'recognised', { ocr: '1' }]]);
  });

  it('parses hundreds of pages without growing the engine memory per page', async () => {
    const page = (i: number) => Array.from({ length: 30 }, (_, k) => ({ x: 72, y: 740 - k * 14, text: `Page ${i} line ${k} of a long report about retrieval.` }));
    const memory = async (pages: number) => {
      const pdf = makePdf(Array.from({ length: pages }, (_, i) => page(i)));
      const sections = await collect(parseDocument(memorySource(pdf, 'long.pdf'), 'pdf', OPTS));
      expect(new Set(sections.map((s) => s.page)).size).toBe(pages);
      return (await loadPdfium()).w.memory.buffer.byteLength;
    };
    await memory(20);
    const after20 = await memory(20);
    const after400 = await memory(400);
    // the 400-page file itself is ~1 MB larger; anything per page would be far more
    expect(after400 - after20).toBeLessThan(4 * 1024 * 1024);
  }, 60_000);
});

test('after a WebAssembly trap the engine is replaced, and the next PDF still parses', async () => {
  const before = await loadPdfium();
  // what a trap looks like (WebAssembly.RuntimeError); other errors are not traps
  const trap = await WebAssembly.instantiate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 5, 1, 3, 0, 0, 11]))
    .then((m) => {
      (m.instance.exports.f as () => void)();
      return null;
    })
    .catch((e: unknown) => e);
  expect(isWasmTrap(trap)).toBe(true);
  expect(isWasmTrap(new Error('x'))).toBe(false);
  discardPdfium(before);
  await new Promise((r) => setImmediate(r));
  const after = await loadPdfium();
  expect(after).not.toBe(before);
  const sections = await collect(parseDocument(memorySource(makePdf([[{ x: 72, y: 720, text: 'Still parses after a reset.' }]]), 'a.pdf'), 'pdf', OPTS));
  expect(sections.map((x) => x.text)).toEqual(['Still parses after a reset.']);
});
