import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { detectFileType } from '../../src/detect.js';
import { TesseractOcr } from '../../src/ocr/tesseract.js';
import { parseDocument } from '../../src/parsers/index.js';
import { collect, memorySource, OPTS } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const CJK_FONT = join(here, '..', 'fixtures', 'wqy-microhei-subset.ttf');

/** Black text on white, rendered by sharp (Pango); Chinese uses the vendored font subset. */
async function textImage(text: string, font = 'DejaVu Sans 40', fontfile?: string): Promise<Buffer> {
  return sharp({ text: { text: `<span foreground="black">${text}</span>`, font, fontfile, rgba: true, dpi: 72 } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 30, bottom: 30, left: 30, right: 30, background: '#ffffff' })
    .png()
    .toBuffer();
}

describe('offline OCR and image files', () => {
  const ocr = new TesseractOcr({ concurrency: 2 });
  afterAll(() => ocr.close());

  it('reads English and Simplified Chinese text from uploaded pictures', async () => {
    const en = await textImage('Invoice number 4711 paid');
    const zh = await textImage('中文识别测试：人工智能知识库', 'WenQuanYi Micro Hei 48', CJK_FONT);
    const [a, b] = await Promise.all([
      collect(parseDocument(memorySource(en, 'en.png'), 'image', { ...OPTS, ocrEngine: ocr })),
      collect(parseDocument(memorySource(zh, 'zh.png'), 'image', { ...OPTS, ocrEngine: ocr })),
    ]);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ kind: 'image', text: 'Invoice number 4711 paid', page: 1, image: { mime: 'image/png', data: en } });
    // No spaces between Chinese characters (Tesseract puts one between every two).
    expect(b[0]!.text).toMatch(/^中文识别测试[:：]人工智能知识库$/);
  });

  it('reads a page of English and Chinese lines in reading order, with boxes in the pixels of that page', async () => {
    const en = ['Quarterly storage report', 'Revenue grew 12 percent'];
    const zh = ['人工智能知识库', '中文识别测试'];
    // Smaller than Tesseract likes (longest side < 1000 px), so it is scaled up for OCR and the boxes scaled back.
    const page = await sharp({ create: { width: 700, height: 600, channels: 3, background: '#ffffff' } })
      .composite([
        { input: await textImage(en.join('\n')), left: 20, top: 30 },
        { input: await textImage(zh.join('\n'), 'WenQuanYi Micro Hei 48', CJK_FONT), left: 20, top: 360 },
      ])
      .png()
      .toBuffer();
    const r = await ocr.recognize(page);
    expect(r.text.split('\n')).toEqual([...en, ...zh]);
    // (How Tesseract groups these lines into paragraphs is its own business; every line is in one, in order.)
    const paragraphs = r.paragraphs!;
    expect(paragraphs.flatMap((p) => p.text.split('\n'))).toEqual([...en, ...zh]);
    // The text spans x 50–~600, y 60–~500 of the page (scaled by 1000/700 for OCR, that would be 70–860 and 85–710).
    expect(paragraphs[0]!.y0).toBeGreaterThan(50);
    expect(paragraphs[0]!.y0).toBeLessThan(80);
    expect(paragraphs.at(-1)!.y1).toBeGreaterThan(450);
    expect(paragraphs.at(-1)!.y1).toBeLessThan(530);
    for (const p of paragraphs) {
      expect(p.x0).toBeGreaterThan(45);
      expect(p.x0).toBeLessThan(65);
      expect(p.x1).toBeLessThan(640);
    }
  });

  it('converts BMP and TIFF to PNG and keeps JPEG as it is', async () => {
    const base = sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } });
    const tiff = await base.clone().tiff().toBuffer();
    const jpeg = await base.clone().jpeg().toBuffer();
    // sharp cannot write BMP; a 2×2 24-bit BMP is written by hand.
    const bmp = Buffer.alloc(54 + 16);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(2, 18);
    bmp.writeInt32LE(2, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    bmp.writeUInt32LE(16, 34);
    bmp.fill(0xff, 54);
    expect(detectFileType(bmp, 'x.bin')).toMatchObject({ kind: 'image', mime: 'image/bmp', docType: 'visual' });
    expect(detectFileType(tiff, 'x')).toMatchObject({ kind: 'image', mime: 'image/tiff' });
    const opts = { ...OPTS, ocr: false };
    const [t] = await collect(parseDocument(memorySource(tiff, 'a.tiff'), 'image', opts));
    const [j] = await collect(parseDocument(memorySource(jpeg, 'a.jpg'), 'image', opts));
    const [b] = await collect(parseDocument(memorySource(bmp, 'a.bmp'), 'image', opts));
    expect(t!.image).toMatchObject({ mime: 'image/png', width: 40, height: 30 });
    expect((await sharp(t!.image!.data).metadata()).format).toBe('png');
    expect(j!.image).toMatchObject({ mime: 'image/jpeg', data: jpeg });
    expect(b!.image).toMatchObject({ mime: 'image/png', width: 2, height: 2 });
    const webp = await base.clone().webp().toBuffer();
    expect(detectFileType(webp, 'x.png')).toMatchObject({ kind: 'image', mime: 'image/webp' });
    const [w] = await collect(parseDocument(memorySource(webp, 'x.png'), 'image', opts));
    expect(w!.image).toMatchObject({ mime: 'image/webp', data: webp, width: 40, height: 30 });
  });

  it('loads no language data over the network', () => {
    // A child process whose every thread (tesseract runs in a worker thread) has fetch and sockets disabled.
    const dir = mkdtempSync(join(tmpdir(), 'ragnest-ocr-test-'));
    const block = join(dir, 'block.cjs');
    writeFileSync(
      block,
      `const net = require('node:net');
       const deny = () => { throw new Error('network access attempted'); };
       net.Socket.prototype.connect = deny;
       globalThis.fetch = async () => deny();`,
    );
    const dist = join(here, '..', '..', 'dist', 'index.js');
    const script = `
      import sharp from 'sharp';
      const { TesseractOcr } = await import(${JSON.stringify(dist)});
      const png = await sharp({ text: { text: '<span foreground="black">offline OCR works</span>', font: 'DejaVu Sans 40', rgba: true } })
        .flatten({ background: '#ffffff' }).extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' }).png().toBuffer();
      const ocr = new TesseractOcr({ concurrency: 1, languages: ['eng', 'chi_sim'] });
      const r = await ocr.recognize(png);
      await ocr.close();
      console.log(JSON.stringify(r.text));`;
    const run = spawnSync(process.execPath, ['--require', block, '--input-type=module', '-e', script], {
      cwd: join(here, '..', '..'),
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(run.stderr).not.toMatch(/network access attempted/);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toBe('offline OCR works');
  });

  it('bounds the worker pool and fails an aborted recognition promptly', async () => {
    expect(() => new TesseractOcr({ concurrency: 0 })).toThrow(/positive integer/);
    const png = await textImage('abort me please');
    // Aborted before it starts…
    const early = new AbortController();
    const first = ocr.recognize(png, early.signal);
    early.abort(new Error('stopped by user'));
    await expect(first).rejects.toThrow('stopped by user');
    // …and while Tesseract is working on a large page: the worker is dropped, the caller is not kept waiting.
    const page = await sharp(await textImage(Array(12).fill('many words on a long line of text').join('\n')))
      .resize({ width: 3500 })
      .png()
      .toBuffer();
    // Timed from the abort, not from the start: on a loaded machine the 400 ms timer itself fires late (CI
    // measured 2.9 s from the start once), while the rejection follows the abort at once.
    const late = new AbortController();
    let abortedAt = 0;
    const second = ocr.recognize(page, late.signal);
    setTimeout(() => {
      abortedAt = Date.now();
      late.abort(new Error('stopped later'));
    }, 400);
    await expect(second).rejects.toThrow('stopped later');
    expect(abortedAt).toBeGreaterThan(0);
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    // The engine still works afterwards (the interrupted worker was replaced).
    expect((await ocr.recognize(png)).text).toBe('abort me please');
  });
});

describe('EML parser', () => {
  const boundary = 'XYZ';
  const csv = Buffer.from('city,people\nParis,2100000\n').toString('base64');
  const inner = ['From: bob@example.com', 'To: ann@example.com', 'Subject: Inner', '', 'Forwarded body.'].join('\r\n');
  const eml = [
    'From: "Ann Lee" <ann@example.com>',
    'To: bob@example.com, carl@example.com',
    'Subject: =?UTF-8?B?5pyI5oql?= figures',
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: multipart/alternative; boundary="ALT"',
    '',
    '--ALT',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello Bob,',
    '',
    'the figures are attached.',
    '--ALT',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Hello Bob,</p><p>the figures are attached.</p>',
    '--ALT--',
    `--${boundary}`,
    'Content-Type: text/csv; name="cities.csv"',
    'Content-Disposition: attachment; filename="cities.csv"',
    'Content-Transfer-Encoding: base64',
    '',
    csv,
    `--${boundary}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment; filename="fwd.eml"',
    '',
    inner,
    `--${boundary}--`,
    '',
  ].join('\r\n');

  it('falls back to the HTML part and keeps inline pictures', async () => {
    const pic = (await sharp({ create: { width: 60, height: 40, channels: 3, background: '#00aa00' } }).png().toBuffer()).toString('base64');
    const html = [
      'From: news@example.com',
      'Subject: Newsletter',
      'Date: Tue, 03 Mar 2026 08:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/related; boundary="R"',
      '',
      '--R',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<h1>Spring news</h1><p>Our garden opened.</p><img src="cid:pic1">',
      '--R',
      'Content-Type: image/png',
      'Content-ID: <pic1>',
      'Content-Disposition: inline',
      'Content-Transfer-Encoding: base64',
      '',
      pic,
      '--R--',
      '',
    ].join('\r\n');
    const sections = await collect(parseDocument(memorySource(html, 'n.eml'), 'eml', { ...OPTS, ocr: false }));
    expect(sections.map(({ kind, text, meta, image }) => ({ kind, text, meta, mime: image?.mime }))).toEqual([
      { kind: 'text', text: 'From: news@example.com\nSubject: Newsletter\nDate: 2026-03-03T08:00:00.000Z', meta: { part: 'header' }, mime: undefined },
      { kind: 'title', text: 'Spring news', meta: { part: 'body' }, mime: undefined },
      { kind: 'text', text: 'Our garden opened.', meta: { part: 'body' }, mime: undefined },
      { kind: 'image', text: '', meta: { part: 'attachment', filename: 'attachment-1' }, mime: 'image/png' },
    ]);
  });

  it('is detected by its headers whatever its name', () => {
    expect(detectFileType(Buffer.from(eml), 'message.txt')).toMatchObject({ kind: 'eml', mime: 'message/rfc822' });
  });

  it('yields headers, the text body and every attachment parsed by its type', async () => {
    const sections = await collect(parseDocument(memorySource(eml, 'm.eml'), 'eml', OPTS));
    expect(sections.map(({ kind, text, meta }) => ({ kind, text, meta }))).toEqual([
      {
        kind: 'text',
        text: 'From: Ann Lee <ann@example.com>\nTo: bob@example.com, carl@example.com\nSubject: 月报 figures\nDate: 2026-03-02T10:00:00.000Z',
        meta: { part: 'header' },
      },
      { kind: 'text', text: 'Hello Bob,', meta: { part: 'body' } },
      { kind: 'text', text: 'the figures are attached.', meta: { part: 'body' } },
      { kind: 'text', text: 'city: Paris; people: 2100000', meta: { part: 'attachment', filename: 'cities.csv' } },
      { kind: 'text', text: 'From: bob@example.com\nTo: ann@example.com\nSubject: Inner', meta: { part: 'attachment', filename: 'fwd.eml' } },
      { kind: 'text', text: 'Forwarded body.', meta: { part: 'attachment', filename: 'fwd.eml' } },
    ]);
  });
});
