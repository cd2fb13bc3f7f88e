import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { escapeHtml, readWhole } from './common.js';
import { embeddedImage } from './images.js';
import { isOle2, isZip, ooxmlInOle } from './ole.js';
import { all, kids, readRels, readXml, type XmlElement } from './ooxml.js';
import { OfficeZip } from './zip.js';

const REL_SLIDE = /\/slide$/;
const REL_NOTES = /\/notesSlide$/;
const TITLE_TYPES = new Set(['title', 'ctrTitle']);
/** Placeholders whose text is generated (slide number, date, footer), not content. */
const SKIP_TYPES = new Set(['sldNum', 'dt', 'ftr', 'hdr']);

/**
 * PPTX read straight from its OOXML parts, slide by slide in presentation order. Each slide gives a group of
 * sections sharing `page` and `meta.slide`: its title, its body text, tables (HTML), pictures (image sections with
 * OCR text) and speaker notes (`meta.notes = '1'`).
 */
export async function* parsePptx(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'PPTX');
  if (isOle2(buf)) throw ooxmlInOle(buf, 'PPTX');
  if (!isZip(buf)) throw new ParseError('Corrupt PPTX: not a zip archive');
  const zip = await OfficeZip.open(buf, 'PPTX');
  try {
    const pres = await readXml(zip, 'ppt/presentation.xml', 'PPTX');
    if (!pres) throw new ParseError('Corrupt PPTX: no presentation part (ppt/presentation.xml)');
    const rels = await readRels(zip, 'ppt/presentation.xml', 'PPTX');
    const slides = all(pres, 'p:sldId')
      .map((s) => rels.get(s.getAttribute('r:id') ?? ''))
      .filter((r): r is { target: string; type: string } => !!r && REL_SLIDE.test(r.type))
      .map((r) => r.target);
    let produced = 0;
    for (let i = 0; i < slides.length; i++) {
      opts.signal?.throwIfAborted();
      for await (const section of slideSections(zip, slides[i]!, i + 1, opts)) {
        produced++;
        yield section;
      }
      opts.onProgress?.({ fraction: (i + 1) / slides.length, message: `slide ${i + 1}/${slides.length}` });
    }
    if (!produced) throw new ParseError(slides.length ? 'PPTX has no text or pictures' : 'PPTX has no slides');
  } finally {
    zip.close();
  }
}

async function* slideSections(zip: OfficeZip, part: string, n: number, opts: ParseOptions): AsyncGenerator<Section> {
  const root = await readXml(zip, part, 'PPTX');
  if (!root) throw new ParseError(`Corrupt PPTX: slide ${n} (${part}) is missing`);
  const rels = await readRels(zip, part, 'PPTX');
  const meta = { slide: String(n) };
  const body: string[] = [];
  const later: Section[] = [];
  const tree = all(root, 'p:spTree')[0];
  const shapes: XmlElement[] = tree ? flatten(tree) : [];
  for (const shape of shapes) {
    if (shape.tagName === 'p:sp') {
      const ph = all(shape, 'p:ph')[0];
      const type = ph?.getAttribute('type') ?? '';
      if (SKIP_TYPES.has(type)) continue;
      const text = textBody(shape);
      if (!text) continue;
      if (TITLE_TYPES.has(type)) yield { kind: 'title', text: text.replace(/\n/g, ' '), level: 1, page: n, meta };
      else body.push(text);
    } else if (shape.tagName === 'p:graphicFrame') {
      const tbl = all(shape, 'a:tbl')[0];
      if (tbl) later.push({ kind: 'table', text: tableHtml(tbl), page: n, meta });
    } else if (shape.tagName === 'p:pic') {
      const id = all(shape, 'a:blip')[0]?.getAttribute('r:embed');
      const target = id ? rels.get(id)?.target : undefined;
      const data = target ? await zip.read(target) : undefined;
      const img = data ? await embeddedImage(data, opts) : null;
      if (img) later.push({ kind: 'image', text: img.text, image: img.image, page: n, meta });
    }
  }
  if (body.length) yield { kind: 'text', text: body.join('\n'), page: n, meta };
  yield* later;
  const notesPart = [...rels.values()].find((r) => REL_NOTES.test(r.type))?.target;
  if (notesPart) {
    const notes = await readXml(zip, notesPart, 'PPTX');
    const text = notes
      ? flatten(all(notes, 'p:spTree')[0] ?? notes)
          .filter((s) => s.tagName === 'p:sp' && ['body', ''].includes(all(s, 'p:ph')[0]?.getAttribute('type') ?? ''))
          .map(textBody)
          .filter(Boolean)
          .join('\n')
      : '';
    if (text) yield { kind: 'text', text, page: n, meta: { ...meta, notes: '1' } };
  }
}

/** Shapes in drawing order, group shapes opened. */
function flatten(tree: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of [...tree.children] as XmlElement[]) {
    if (c.tagName === 'p:grpSp') out.push(...flatten(c));
    else out.push(c);
  }
  return out;
}

function textBody(shape: XmlElement): string {
  const tx = all(shape, 'p:txBody')[0] ?? all(shape, 'a:txBody')[0];
  if (!tx) return '';
  return kids(tx, 'a:p')
    .map(paragraphText)
    .filter((l) => l.trim())
    .join('\n')
    .trim();
}

function paragraphText(p: XmlElement): string {
  let s = '';
  for (const c of [...p.children] as XmlElement[]) {
    if (c.tagName === 'a:r' || c.tagName === 'a:fld') s += all(c, 'a:t').map((t) => t.textContent ?? '').join('');
    else if (c.tagName === 'a:br') s += '\n';
  }
  return s;
}

function tableHtml(tbl: XmlElement): string {
  const rows = kids(tbl, 'a:tr').map((tr) => {
    const cells = kids(tr, 'a:tc')
      .filter((tc) => tc.getAttribute('hMerge') !== '1' && tc.getAttribute('vMerge') !== '1')
      .map((tc) => {
        const span = Number(tc.getAttribute('gridSpan') ?? '1');
        const rowSpan = Number(tc.getAttribute('rowSpan') ?? '1');
        const attrs = (span > 1 ? ` colspan="${span}"` : '') + (rowSpan > 1 ? ` rowspan="${rowSpan}"` : '');
        return `<td${attrs}>${escapeHtml(textBody(tc)).replace(/\n/g, '<br>')}</td>`;
      });
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table>${rows.join('')}</table>`;
}
