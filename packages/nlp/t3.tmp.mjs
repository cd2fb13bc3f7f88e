import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { parseDocument, TesseractOcr } from './dist/index.js';
const src = (buf, name) => ({ fileName: name, size: buf.length, stream: async () => { const { Readable } = await import('node:stream'); return Readable.from([buf]); }, buffer: async () => buf });
const doc = await PDFDocument.create();
const font = await doc.embedFont(StandardFonts.Helvetica);
for (let i = 1; i <= 3; i++) {
  const page = doc.addPage([612, 792]);
  page.drawText('ACME Corp confidential report', { x: 72, y: 760, size: 9, font });
  page.drawText(`Page ${i} of 4`, { x: 280, y: 30, size: 9, font });
  page.drawText(`Body text of page ${i} talks about retrieval.`, { x: 72, y: 700, size: 12, font });
  if (i === 2) {
    const rows = [['Product', 'Units', 'Price'], ['Apple', '12', '1.50'], ['Banana', '7', '0.25']];
    rows.forEach((row, k) => row.forEach((cell, c) => page.drawText(cell, { x: 72 + c * 150, y: 600 - k * 16, size: 11, font })));
    const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#3080ff' } }).png().toBuffer();
    page.drawImage(await doc.embedPng(png), { x: 72, y: 300, width: 200, height: 100 });
  }
}
const scan = await sharp({ create: { width: 1275, height: 1650, channels: 3, background: '#ffffff' } })
  .composite([{ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="1275" height="1650"><text x="150" y="300" font-size="60" font-family="sans-serif">Scanned invoice total 4711 EUR</text></svg>`), top: 0, left: 0 }]).jpeg().toBuffer();
const p4 = doc.addPage([612, 792]);
p4.drawImage(await doc.embedJpg(scan), { x: 0, y: 0, width: 612, height: 792 });
const bytes = Buffer.from(await doc.save());
const ocr = new TesseractOcr({ concurrency: 1 });
const t = Date.now();
for await (const s of parseDocument(src(bytes, 'a.pdf'), 'pdf', { maxInMemoryBytes: 1e8, ocrEngine: ocr })) console.log(JSON.stringify({ ...s, image: s.image && { mime: s.image.mime, w: s.image.width, len: s.image.data.length } }));
console.log(Date.now() - t, 'ms');
for await (const s of parseDocument(src(bytes, 'a.pdf'), 'pdf', { maxInMemoryBytes: 1e8, fromPage: 3, toPage: 4 })) console.log('range', JSON.stringify({ ...s, image: s.image && { mime: s.image.mime, w: s.image.width, len: s.image.data.length } }));
await ocr.close();
