import { Readability } from '@mozilla/readability';
import iconv from 'iconv-lite';
import { parseHTML } from 'linkedom';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { decodeBuffer, detectEncoding, isUtf8 } from '../encoding.js';
import { collapseWhitespace, escapeHtml, readWhole } from './common.js';

// The package compiles without the DOM lib, so the few DOM members used here are declared locally.
interface DomNode {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
  parentNode: DomNode | null;
  getAttribute?(name: string): string | null;
}
interface DomDocument {
  body: DomNode | null;
  title?: string;
}

const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'HEAD', 'IFRAME', 'OBJECT', 'BUTTON', 'SELECT', 'TEXTAREA']);
const BLOCK = new Set([
  'ADDRESS', 'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'BR', 'CAPTION', 'CENTER', 'DD', 'DETAILS', 'DIV', 'DL', 'DT',
  'FIELDSET', 'FIGCAPTION', 'FIGURE', 'FOOTER', 'FORM', 'HEADER', 'HR', 'LI', 'MAIN', 'NAV', 'OL', 'P',
  'SECTION', 'SUMMARY', 'UL',
]);

function documentOf(html: string): DomDocument {
  return parseHTML(html).document as unknown as DomDocument;
}

/** Sections of an HTML fragment in reading order: headings → titles, tables → HTML tables, blocks → text. */
export function htmlToSections(html: string): Section[] {
  const doc = documentOf(/<body[\s>]/i.test(html) ? html : `<!doctype html><html><body>${html}</body></html>`);
  return doc.body ? nodeToSections(doc.body) : [];
}

/** `src` of an <img> that stands for a picture handed over separately (DOCX pictures); see docx.ts. */
export const IMAGE_REF_PREFIX = 'ragnest-image:';

function nodeToSections(root: DomNode): Section[] {
  const out: Section[] = [];
  let inline: string[] = [];
  const lists: ('bullet' | 'ordered')[] = [];
  const items: { list: 'bullet' | 'ordered'; level: number }[] = [];
  const flush = () => {
    const text = collapseWhitespace(inline.join(''));
    inline = [];
    if (!text) return;
    const item = items[items.length - 1];
    if (item) out.push({ kind: 'text', text, level: item.level, meta: { list: item.list } });
    else out.push({ kind: 'text', text });
  };
  const walk = (node: DomNode): void => {
    if (node.nodeType === 3) {
      inline.push(node.textContent ?? '');
      return;
    }
    if (node.nodeType !== 1) return;
    const tag = node.nodeName.toUpperCase();
    if (SKIP.has(tag)) return;
    if (/^H[1-6]$/.test(tag)) {
      flush();
      const text = collapseWhitespace(node.textContent ?? '');
      if (text) out.push({ kind: 'title', text, level: Number(tag[1]) });
      return;
    }
    if (tag === 'TABLE') {
      flush();
      const table = tableToHtml(node);
      if (table) out.push({ kind: 'table', text: table });
      return;
    }
    if (tag === 'PRE') {
      flush();
      const text = (node.textContent ?? '').replace(/^\n+|\s+$/g, '');
      if (text) out.push({ kind: 'text', text });
      return;
    }
    if (tag === 'IMG') {
      const src = node.getAttribute?.('src') ?? '';
      if (src.startsWith(IMAGE_REF_PREFIX)) {
        flush();
        out.push({ kind: 'image', text: collapseWhitespace(node.getAttribute?.('alt') ?? ''), meta: { imageRef: src.slice(IMAGE_REF_PREFIX.length) } });
      }
      return;
    }
    if (tag === 'UL' || tag === 'OL') {
      flush();
      lists.push(tag === 'OL' ? 'ordered' : 'bullet');
      for (const child of Array.from(node.childNodes)) walk(child);
      flush();
      lists.pop();
      return;
    }
    if (tag === 'LI') {
      flush();
      items.push({ list: lists[lists.length - 1] ?? 'bullet', level: Math.max(1, lists.length) });
      for (const child of Array.from(node.childNodes)) walk(child);
      flush();
      items.pop();
      return;
    }
    const block = BLOCK.has(tag);
    if (block) flush();
    for (const child of Array.from(node.childNodes)) walk(child);
    if (block) flush();
  };
  walk(root);
  flush();
  return out;
}

/** A clean HTML table (text cells, spans kept) — site markup and attributes are noise for retrieval. */
function tableToHtml(table: DomNode): string | null {
  const rows: string[] = [];
  let caption = '';
  const visit = (node: DomNode): void => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType !== 1) continue;
      const tag = child.nodeName.toUpperCase();
      if (tag === 'CAPTION') caption = collapseWhitespace(child.textContent ?? '');
      else if (tag === 'TR') rows.push(rowToHtml(child));
      else if (tag === 'THEAD' || tag === 'TBODY' || tag === 'TFOOT') visit(child);
    }
  };
  visit(table);
  const body = rows.filter((r) => r !== '<tr></tr>');
  if (!body.length && !caption) return null;
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}${body.join('')}</table>`;
}

function rowToHtml(tr: DomNode): string {
  const cells: string[] = [];
  for (const cell of Array.from(tr.childNodes)) {
    const tag = cell.nodeName.toUpperCase();
    if (cell.nodeType !== 1 || (tag !== 'TD' && tag !== 'TH')) continue;
    const t = tag.toLowerCase();
    let attrs = '';
    for (const a of ['colspan', 'rowspan']) {
      const v = cell.getAttribute?.(a);
      if (v && /^\d+$/.test(v) && v !== '1') attrs += ` ${a}="${v}"`;
    }
    cells.push(`<${t}${attrs}>${escapeHtml(collapseWhitespace(cell.textContent ?? ''))}</${t}>`);
  }
  return `<tr>${cells.join('')}</tr>`;
}

/** Pages declare their charset in a meta tag; trust it when the bytes are not plain UTF-8. */
function htmlEncoding(buf: Buffer): string {
  const head = buf.subarray(0, 64 * 1024);
  if (isUtf8(head)) return detectEncoding(head);
  const meta = /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head.toString('latin1'));
  if (meta?.[1] && iconv.encodingExists(meta[1])) return meta[1].toLowerCase();
  return detectEncoding(head);
}

export async function* parseHtml(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'HTML');
  const html = decodeBuffer(buf, htmlEncoding(buf));
  const sections = readableSections(html);
  if (!sections.some((s) => s.text.trim())) throw new ParseError('HTML has no readable text');
  opts.onProgress?.({ fraction: 1 });
  yield* sections;
}

function readableSections(html: string): Section[] {
  let article: ReturnType<Readability['parse']> = null;
  try {
    // Readability mutates the document, so it gets its own copy.
    article = new Readability(documentOf(html) as never, { charThreshold: 100 }).parse();
  } catch {
    article = null;
  }
  const content = article?.content;
  if (content && article?.textContent?.trim()) {
    const sections = htmlToSections(content);
    const title = collapseWhitespace(article.title ?? '');
    // Readability removes the heading that repeats the page title; put it back as the document title.
    if (title && !sections.some((s) => s.kind === 'title' && s.text === title)) {
      sections.unshift({ kind: 'title', text: title, level: 1 });
    }
    return sections;
  }
  return htmlToSections(html);
}
