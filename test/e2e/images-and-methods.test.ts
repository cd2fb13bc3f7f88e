/**
 * Issue 3: pictures as chunks and the image routes (what seed 000's image-export script does), chunk methods
 * end to end, PDF page-range tasks, and precise failures that leave other documents alone.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Document, ImageRun, Packer, Paragraph, HeadingLevel } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import PptxGenJS from 'pptxgenjs';
import sharp from 'sharp';
import { RagflowHttp, startStack, type Stack } from '@ragnest/testkit';

let stack: Stack;
let api: RagflowHttp;

beforeAll(async () => {
  stack = await startStack({ label: 'images' });
  api = new RagflowHttp(stack.baseUrl, stack.apiKey);
});
afterAll(async () => {
  await stack?.stop();
});

const picture = (width: number, height: number, background: string) => sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();

async function pdfWithPictures(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const specs: [number, number, string][] = [
    [160, 90, '#3080ff'],
    [100, 140, '#ff8030'],
  ];
  for (const [i, [w, h, color]] of specs.entries()) {
    const page = doc.addPage([612, 792]);
    page.drawText(`Section ${i + 1} describes the blue and orange figures of the image export test.`, { x: 72, y: 700, size: 12, font });
    page.drawImage(await doc.embedPng(await picture(w, h, color)), { x: 72, y: 400, width: w, height: h });
  }
  return Buffer.from(await doc.save());
}

async function docxWithPictures(): Promise<Buffer> {
  const doc = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'Field report', heading: HeadingLevel.HEADING_1 }),
          new Paragraph('The first photo shows the site.'),
          new Paragraph({ children: [new ImageRun({ type: 'png', data: await picture(120, 80, '#20c060'), transformation: { width: 120, height: 80 } })] }),
          new Paragraph('The second photo shows the team.'),
          new Paragraph({ children: [new ImageRun({ type: 'png', data: await picture(64, 48, '#c02060'), transformation: { width: 64, height: 48 } })] }),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}

/** A second tenant's API key, made the way a user does (register, login, new_token). */
async function otherTenantKey(): Promise<string> {
  const email = `img-${Date.now()}@example.com`;
  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.baseUrl}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await post('/v1/user/register', { email, nickname: 'other', password: 'blob' });
  const session = (await post('/v1/user/login', { email, password: 'blob' })).headers.get('authorization')!;
  const tok = await fetch(`${stack.baseUrl}/v1/system/new_token`, { method: 'POST', headers: { Authorization: session } });
  return ((await tok.json()) as { data: { token: string } }).data.token;
}

async function download(route: 'classic' | 'current', imageId: string, key = stack.apiKey) {
  const url = route === 'classic' ? `${stack.baseUrl}/v1/document/image/${imageId}` : `${stack.baseUrl}/api/v1/documents/images/${imageId}`;
  const res = await fetch(url, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
}

async function setMethod(datasetId: string, docId: string, chunk_method: string, parser_config?: Record<string, unknown>) {
  const r = await api.put(`/api/v1/datasets/${datasetId}/documents/${docId}`, { chunk_method, ...(parser_config ? { parser_config } : {}) });
  expect(r.json.code).toBe(0);
}

async function chunksOf(datasetId: string, docId: string): Promise<any[]> {
  const r = await api.get(`/api/v1/datasets/${datasetId}/documents/${docId}/chunks?page=1&page_size=500`);
  expect(r.json.code).toBe(0);
  return r.json.data.chunks;
}

describe('pictures as chunks and the image routes (seed 000)', () => {
  let datasetId = '';
  const docs: Record<string, string> = {};
  const imageIds: string[] = [];

  test('a PDF and a DOCX with pictures parse into image chunks', async () => {
    const ds = await api.post('/api/v1/datasets', { name: 'test' });
    datasetId = ds.json.data.id;
    const up = await api.upload(datasetId, [
      { name: 'figures.pdf', content: await pdfWithPictures() },
      { name: 'photos.docx', content: await docxWithPictures() },
    ]);
    expect(up.json.code).toBe(0);
    for (const d of up.json.data) docs[d.name] = d.id;
    expect((await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: Object.values(docs) })).json.code).toBe(0);
    const parsed = await api.waitParsed(datasetId, Object.values(docs), 180_000);
    for (const d of parsed) expect([d.name, d.run]).toEqual([d.name, 'DONE']);
  });

  test('listing finds the image chunks with image_id "<dataset_id>-<chunk_id>" and positions; both routes serve the bytes', async () => {
    // what the seed script does: find the dataset by name, list documents, list chunks, keep doc_type_kwd image
    const byName = await api.get('/api/v1/datasets?name=test&page=1&page_size=50');
    expect(byName.json.data.map((d: any) => d.id)).toEqual([datasetId]);
    const list = await api.get(`/api/v1/datasets/${datasetId}/documents?page=1&page_size=50`);
    const expected: Record<string, [number, number][]> = {
      'figures.pdf': [[160, 90], [100, 140]],
      'photos.docx': [[120, 80], [64, 48]],
    };
    for (const doc of list.json.data.docs) {
      const images = (await chunksOf(datasetId, doc.id)).filter((c) => c.doc_type_kwd === 'image');
      expect(images).toHaveLength(2);
      const sizes: [number, number][] = [];
      for (const c of images) {
        expect(c.image_id).toBe(`${datasetId}-${c.id}`);
        expect(Array.isArray(c.positions)).toBe(true);
        const classic = await download('classic', c.image_id);
        expect(classic.status).toBe(200);
        expect(classic.type).toBe('image/png');
        const meta = await sharp(classic.body).metadata();
        sizes.push([meta.width!, meta.height!]);
        const current = await download('current', c.image_id);
        expect(current.status).toBe(200);
        expect(current.type).toBe('image/png');
        expect(current.body.equals(classic.body)).toBe(true);
        imageIds.push(c.image_id);
      }
      expect(sizes).toEqual(expected[doc.name]);
      if (doc.name === 'figures.pdf') {
        // PDF pictures carry their page: page 1's picture first
        expect(images.map((c) => c.positions[0][0])).toEqual([1, 2]);
      }
    }
    expect(imageIds).toHaveLength(4);
  });

  test("another tenant's key, no key and bad ids are refused with RAGFlow envelopes, never 500", async () => {
    const other = await otherTenantKey();
    for (const route of ['classic', 'current'] as const) {
      const stolen = await download(route, imageIds[0]!, other);
      expect(stolen.status).toBe(200);
      expect(JSON.parse(stolen.body.toString())).toEqual({ code: 102, message: 'Image not found.' });
      for (const bad of ['nohyphen', `${datasetId}-0000000000000000`, `${datasetId}-../../etc`, 'x-y-z']) {
        const r = await download(route, encodeURIComponent(bad));
        expect([r.status, JSON.parse(r.body.toString())]).toEqual([200, { code: 102, message: 'Image not found.' }]);
      }
    }
    const anonymous = await download('classic', imageIds[0]!, '');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body.toString()).code).toBe(401);
  });

  test('retrieval exposes image_id and positions', async () => {
    const r = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], question: 'blue and orange figures of the image export test' });
    expect(r.json.code).toBe(0);
    expect(r.json.data.chunks.length).toBeGreaterThan(0);
    for (const c of r.json.data.chunks) {
      expect(c).toHaveProperty('image_id');
      expect(c).toHaveProperty('positions');
    }
  });

  test('deleting a chunk or a document removes its pictures', async () => {
    const docxId = docs['photos.docx']!;
    const images = (await chunksOf(datasetId, docxId)).filter((c) => c.doc_type_kwd === 'image');
    const del = await api.del(`/api/v1/datasets/${datasetId}/documents/${docxId}/chunks`, { chunk_ids: [images[0].id] });
    expect(del.json.code).toBe(0);
    expect(JSON.parse((await download('classic', images[0].image_id)).body.toString()).message).toBe('Image not found.');
    expect((await download('classic', images[1].image_id)).status).toBe(200);
    const objects = path.join(stack.env.DATA_DIR!, 'objects', datasetId, 'images');
    const stored = (docId: string) => (existsSync(path.join(objects, docId)) ? readdirSync(path.join(objects, docId), { recursive: true }).filter((f) => /[0-9a-f]{16}$/.test(String(f))).length : 0);
    expect(stored(docxId)).toBe(1);
    expect(stored(docs['figures.pdf']!)).toBe(2);
    expect((await api.del(`/api/v1/datasets/${datasetId}/documents`, { ids: [docxId] })).json.code).toBe(0);
    expect(stored(docxId)).toBe(0);
    expect(stored(docs['figures.pdf']!)).toBe(2);
  });
});

describe('chunk methods end to end', () => {
  let datasetId = '';

  test('qa, table, one and laws produce what RAGFlow does; LLM features and mismatched files fail precisely, others unaffected', async () => {
    const ds = await api.post('/api/v1/datasets', { name: 'methods' });
    datasetId = ds.json.data.id;
    const files = {
      'faq.csv': 'question,answer\nWhat is RagNest?,A RAG server.\nDoes it speak RAGFlow?,Yes.\n',
      'people.csv': 'name,age\nAnn,34\nBob,7\n',
      'whole.txt': 'First paragraph.\n\nSecond paragraph.\n\nThird paragraph.',
      'law.txt': '第一章 总则\n第一条 为了规范管理，制定本法。\n第二条 本法适用于全国。',
      'prose.txt': 'Just some prose without questions.',
      'keywords.txt': 'Some text that would need an LLM.',
      'graph.txt': 'Entities and relations.',
      'notapicture.txt': 'Plain text.',
      'good.txt': 'This document has nothing wrong with it.',
    };
    const broken = (await pdfWithPictures()).subarray(0, 400);
    const up = await api.upload(datasetId, [...Object.entries(files).map(([name, content]) => ({ name, content })), { name: 'broken.pdf', content: broken }, { name: 'empty.txt', content: '' }]);
    expect(up.json.code).toBe(0);
    const id: Record<string, string> = Object.fromEntries(up.json.data.map((d: any) => [d.name, d.id]));
    await setMethod(datasetId, id['faq.csv']!, 'qa');
    await setMethod(datasetId, id['people.csv']!, 'table');
    await setMethod(datasetId, id['whole.txt']!, 'one');
    await setMethod(datasetId, id['law.txt']!, 'laws');
    await setMethod(datasetId, id['prose.txt']!, 'qa');
    await setMethod(datasetId, id['keywords.txt']!, 'naive', { auto_keywords: 3 });
    await setMethod(datasetId, id['graph.txt']!, 'knowledge_graph');
    await setMethod(datasetId, id['notapicture.txt']!, 'picture');
    expect((await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: Object.values(id) })).json.code).toBe(0);
    const parsed = Object.fromEntries((await api.waitParsed(datasetId, Object.values(id), 120_000)).map((d) => [d.name, d]));

    expect((await chunksOf(datasetId, id['faq.csv']!)).map((c) => c.content)).toEqual([
      'Question: What is RagNest?\tAnswer: A RAG server.',
      'Question: Does it speak RAGFlow?\tAnswer: Yes.',
    ]);
    const people = await chunksOf(datasetId, id['people.csv']!);
    expect(people.map((c) => c.content)).toEqual(['name: Ann\nage: 34', 'name: Bob\nage: 7']);
    // the typed columns are stored with the row (RAGFlow's <column>_<type> fields)
    const one = await api.get(`/api/v1/datasets/${datasetId}/documents/${id['people.csv']}/chunks/${people[1].id}`);
    expect(one.json.data).toMatchObject({ id: people[1].id, name_tks: 'Bob', age_long: 7 });
    // the whole text as written, one chunk
    expect((await chunksOf(datasetId, id['whole.txt']!)).map((c) => c.content)).toEqual([files['whole.txt']]);
    expect((await chunksOf(datasetId, id['law.txt']!)).map((c) => c.content)).toEqual([
      '第一章 总则\n第一条 为了规范管理，制定本法。',
      '第一章 总则\n第二条 本法适用于全国。',
    ]);

    const fail = (name: string) => {
      expect([name, parsed[name].run, parsed[name].progress]).toEqual([name, 'FAIL', -1]);
      return parsed[name].progress_msg as string;
    };
    expect(fail('prose.txt')).toContain("[ERROR] No question/answer pairs found for chunk method 'qa'");
    expect(fail('keywords.txt')).toContain('[ERROR] auto_keywords = 3 (keyword generation) needs a chat model (LLM), and none is configured for this tenant');
    expect(fail('graph.txt')).toContain("[ERROR] chunk method 'knowledge_graph' (GraphRAG entity and relation extraction) needs a chat model (LLM)");
    expect(fail('notapicture.txt')).toContain("[ERROR] Chunk method 'picture' does not support TXT files; it accepts image");
    expect(fail('broken.pdf')).toMatch(/\[ERROR\] Corrupt PDF: /);
    expect(fail('empty.txt')).toContain('[ERROR] File is empty');
    expect(parsed['good.txt'].run).toBe('DONE');
    expect((await chunksOf(datasetId, id['good.txt']!)).map((c) => c.content)).toEqual(['This document has nothing wrong with it.']);
  });
});

describe('parent/child chunks and pictures', () => {
  test('children are searched, retrieval answers with the parent once; an uploaded picture is one image chunk', async () => {
    const ds = await api.post('/api/v1/datasets', { name: 'children', parser_config: { chunk_token_num: 512, children_delimiter: '.' } });
    const datasetId = ds.json.data.id;
    const parent = 'Zebras graze on the savanna. Penguins swim in cold water. Camels cross the desert.';
    const photo = await picture(90, 60, '#808080');
    const up = await api.upload(datasetId, [
      { name: 'animals.txt', content: parent },
      { name: 'photo.png', content: photo },
    ]);
    const id: Record<string, string> = Object.fromEntries(up.json.data.map((d: any) => [d.name, d.id]));
    await setMethod(datasetId, id['photo.png']!, 'picture');
    await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: Object.values(id) });
    const parsed = await api.waitParsed(datasetId, Object.values(id), 120_000);
    expect(parsed.map((d) => d.run)).toEqual(['DONE', 'DONE']);

    const chunks = await chunksOf(datasetId, id['animals.txt']!);
    expect(chunks.filter((c) => c.available).map((c) => c.content)).toEqual(['Zebras graze on the savanna', 'Penguins swim in cold water', 'Camels cross the desert']);
    expect(chunks.filter((c) => !c.available).map((c) => c.content)).toEqual([parent]);
    const r = await api.post('/api/v1/retrieval', { dataset_ids: [datasetId], document_ids: [id['animals.txt']], question: 'penguins swim cold water zebras' });
    expect(r.json.data.chunks.map((c: any) => c.content)).toEqual([parent]);
    expect(r.json.data.chunks[0].mom_id).toBe(chunks.find((c) => !c.available).id);

    const [pic] = await chunksOf(datasetId, id['photo.png']!);
    expect(pic.doc_type_kwd).toBe('image');
    const got = await download('current', pic.image_id);
    expect(got.type).toMatch(/^image\//);
    expect((await sharp(got.body).metadata()).width).toBe(90);
  });
});

describe('presentation and email', () => {
  test('a deck gives one chunk per slide with its picture; an e-mail gives headers+body and its attachment', async () => {
    const ds = await api.post('/api/v1/datasets', { name: 'slides' });
    const datasetId = ds.json.data.id;
    const deck = new PptxGenJS();
    const s1 = deck.addSlide();
    s1.addText('Quarterly results', { x: 1, y: 1, w: 8, h: 1 });
    s1.addNotes('Mention the new office');
    s1.addImage({ data: `image/png;base64,${(await picture(64, 48, '#ff0000')).toString('base64')}`, x: 1, y: 3, w: 1, h: 1 });
    deck.addSlide().addText('Next steps', { x: 1, y: 1, w: 8, h: 1 });
    const pptx = (await deck.write({ outputType: 'nodebuffer' })) as Buffer;
    const eml = [
      'From: ann@example.com',
      'To: bob@example.com',
      'Subject: Weekly report',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Hi Bob, the report is attached.',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Disposition: attachment; filename="notes.txt"',
      '',
      'Attachment text about the warehouse.',
      '--b1--',
      '',
    ].join('\r\n');
    const up = await api.upload(datasetId, [
      { name: 'deck.pptx', content: pptx },
      { name: 'mail.eml', content: eml },
    ]);
    const id: Record<string, string> = Object.fromEntries(up.json.data.map((d: any) => [d.name, d.id]));
    await setMethod(datasetId, id['deck.pptx']!, 'presentation');
    await setMethod(datasetId, id['mail.eml']!, 'email');
    await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: Object.values(id) });
    const parsed = await api.waitParsed(datasetId, Object.values(id), 120_000);
    expect(parsed.map((d) => [d.name, d.run])).toEqual([
      ['deck.pptx', 'DONE'],
      ['mail.eml', 'DONE'],
    ]);

    const slides = await chunksOf(datasetId, id['deck.pptx']!);
    expect(slides.map((c) => [c.content, c.doc_type_kwd, c.positions])).toEqual([
      ['Quarterly results\nNotes: Mention the new office', 'image', [[1, 0, 0, 0, 0]]],
      ['Next steps', 'text', [[2, 0, 0, 0, 0]]],
    ]);
    const img = await download('classic', slides[0].image_id);
    expect([img.status, img.type]).toEqual([200, 'image/png']);
    expect((await sharp(img.body).metadata()).width).toBe(64);

    const mail = (await chunksOf(datasetId, id['mail.eml']!)).map((c) => c.content);
    expect(mail).toHaveLength(2);
    expect(mail[0]).toMatch(/From: .*ann@example\.com[\s\S]*Subject: Weekly report[\s\S]*Hi Bob, the report is attached\./);
    expect(mail[1]).toBe('Attachment text about the warehouse.');
  });
});

describe('large PDFs: page-range tasks', () => {
  async function pagesPdf(n: number): Promise<Buffer> {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    for (let i = 1; i <= n; i++) {
      const page = doc.addPage([612, 792]);
      page.drawText('Contoso quarterly binder', { x: 72, y: 760, size: 9, font });
      page.drawText(`Unique body sentence number ${i} for the page range test.`, { x: 72, y: 700, size: 12, font });
    }
    return Buffer.from(await doc.save());
  }

  test('a PDF longer than task_page_size is parsed in page ranges and its chunks come back in page order', async () => {
    const ds = await api.post('/api/v1/datasets', { name: 'ranges', parser_config: { task_page_size: 4, chunk_token_num: 16 } });
    const datasetId = ds.json.data.id;
    const up = await api.upload(datasetId, [{ name: 'ten.pdf', content: await pagesPdf(10) }]);
    const docId = up.json.data[0].id;
    await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: [docId] });
    const [doc] = await api.waitParsed(datasetId, [docId], 120_000);
    expect(doc.run).toBe('DONE');
    expect(doc.progress_msg).toContain('10 pages: parsing in 3 tasks of up to 4 pages (task_page_size)');
    for (const range of ['Pages 1-4 done', 'Pages 5-8 done', 'Pages 9-10 done']) expect(doc.progress_msg).toContain(range);
    expect(doc.progress_msg).toContain('(3/3 tasks)');
    const chunks = await chunksOf(datasetId, docId);
    const numbers = chunks.flatMap((c) => [...String(c.content).matchAll(/number (\d+)/g)].map((m) => Number(m[1])));
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // the running header, learned once for the whole file, is dropped in every range
    expect(chunks.filter((c) => String(c.content).includes('Contoso'))).toEqual([]);
    const pages = chunks.map((c) => c.positions[0][0]);
    expect(pages).toEqual([...pages].sort((a, b) => a - b));
  });

  test('stop parsing cancels the running tasks: no chunks are left or added afterwards', async () => {
    const ds = await api.post('/api/v1/datasets', { name: 'stop', parser_config: { task_page_size: 5 } });
    const datasetId = ds.json.data.id;
    const up = await api.upload(datasetId, [{ name: 'long.pdf', content: await pagesPdf(300) }]);
    const docId = up.json.data[0].id;
    await api.post(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: [docId] });
    // wait until parsing has really started (the split is reported), then stop
    const deadline = Date.now() + 60_000;
    for (;;) {
      const d = (await api.get(`/api/v1/datasets/${datasetId}/documents?id=${docId}`)).json.data.docs[0];
      if (String(d.progress_msg).includes('tasks of up to 5 pages')) break;
      if (Date.now() > deadline) throw new Error(`parse did not start: ${d.progress_msg}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const stop = await api.del(`/api/v1/datasets/${datasetId}/chunks`, { document_ids: [docId] });
    expect(stop.json.code).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    const d = (await api.get(`/api/v1/datasets/${datasetId}/documents?id=${docId}`)).json.data.docs[0];
    expect([d.run, d.chunk_count]).toEqual(['CANCEL', 0]);
    expect(await chunksOf(datasetId, docId)).toEqual([]);
  });
});
