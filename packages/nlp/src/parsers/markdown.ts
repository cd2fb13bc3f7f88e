import { Lexer, type Token } from 'marked';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { decodeBuffer } from '../encoding.js';
import { escapeHtml, readWhole } from './common.js';
import { htmlToSections } from './html.js';
import { parseText } from './text.js';

/** Markdown → headings as titles, GFM tables as HTML tables, everything else as its markdown source. */
export async function* parseMarkdown(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  // marked has no streaming lexer; a markdown file too big for memory is still worth indexing as plain text.
  if (source.size > opts.maxInMemoryBytes) {
    yield* parseText(source, opts);
    return;
  }
  const text = decodeBuffer(await readWhole(source, opts, 'Markdown'));
  const sections = markdownToSections(text);
  if (!sections.length) throw new ParseError('File is empty');
  opts.onProgress?.({ fraction: 1 });
  yield* sections;
}

export function markdownToSections(markdown: string): Section[] {
  const out: Section[] = [];
  for (const token of new Lexer({ gfm: true }).lex(markdown.replace(/\r\n?/g, '\n'))) tokenToSections(token, out);
  return out;
}

function tokenToSections(token: Token, out: Section[]): void {
  switch (token.type) {
    case 'heading':
      if (token.text.trim()) out.push({ kind: 'title', text: token.text.trim(), level: token.depth });
      return;
    case 'table':
      out.push({ kind: 'table', text: tableToHtml(token.header, token.rows) });
      return;
    case 'html':
      // Raw HTML blocks may hold tables (common in converted docs); other markup is reduced to its text.
      out.push(...htmlToSections(token.text));
      return;
    case 'paragraph':
    case 'text':
      if (token.text.trim()) out.push({ kind: 'text', text: token.text.trim() });
      return;
    case 'space':
    case 'hr':
    case 'def':
      return;
    default:
      // lists, blockquotes and code keep their markdown source so structure survives into the chunk
      if (token.raw.trim()) out.push({ kind: 'text', text: token.raw.replace(/\s+$/, '') });
  }
}

interface Cell {
  text: string;
}

function tableToHtml(header: Cell[], rows: Cell[][]): string {
  const tr = (cells: Cell[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c.text)}</${tag}>`).join('')}</tr>`;
  return `<table>${tr(header, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>`;
}
