import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
globalThis.pdfjsWorker = await import('pdfjs-dist/legacy/build/pdf.worker.mjs');
const doc = await PDFDocument.create();
const page = doc.addPage([612, 792]);
const font = await doc.embedFont(StandardFonts.Helvetica);
page.drawText('Hello with image', { x: 72, y: 700, size: 12, font });
const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#3080ff' } }).png().toBuffer();
const jpg = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#ff0000' } }).jpeg().toBuffer();
page.drawImage(await doc.embedPng(png), { x: 72, y: 400, width: 200, height: 100 });
page.drawImage(await doc.embedJpg(jpg), { x: 300, y: 400, width: 120, height: 80 });
const bytes = await doc.save();
const d = await pdfjs.getDocument({ data: bytes, isOffscreenCanvasSupported: false, isImageDecoderSupported: false, verbosity: 0 }).promise;
const p = await d.getPage(1);
const ops = await p.getOperatorList();
const names = Object.fromEntries(Object.entries(pdfjs.OPS).map(([k, v]) => [v, k]));
for (let i = 0; i < ops.fnArray.length; i++) console.log(names[ops.fnArray[i]], JSON.stringify(ops.argsArray[i])?.slice(0, 100));
for (let i = 0; i < ops.fnArray.length; i++) if (ops.fnArray[i] === pdfjs.OPS.paintImageXObject) {
  const id = ops.argsArray[i][0];
  const img = await new Promise((r) => (id.startsWith('g_') ? p.commonObjs : p.objs).get(id, r));
  console.log(id, img.width, img.height, img.kind, img.data?.length, Object.keys(img));
}
// render
const vp = p.getViewport({ scale: 1 });
const cf = d.canvasFactory;
console.log('canvasFactory', !!cf);
const { canvas, context } = cf.create(vp.width, vp.height);
await p.render({ canvasContext: context, viewport: vp, canvas }).promise;
const buf = canvas.toBuffer('image/png');
console.log('rendered', buf.length);
