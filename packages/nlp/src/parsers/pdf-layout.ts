import { escapeHtml } from './common.js';

/** A run of text on one visual line; a line splits into cells where a gap is wider than a few spaces. */
export interface Cell {
  text: string;
  x0: number;
  x1: number;
}

export interface Line {
  text: string;
  x0: number;
  x1: number;
  top: number;
  bottom: number;
  /** font size */
  h: number;
  cells: Cell[];
}

export interface RawItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}

/** A block of the page in reading order: a paragraph of prose or a table (HTML). */
export interface Block {
  kind: 'text' | 'table';
  text: string;
  x0: number;
  x1: number;
  top: number;
  bottom: number;
}

/** Wider than this many font sizes, a horizontal gap separates table cells rather than words. */
const CELL_GAP = 1.5;

/** Text items → visual lines. Top/bottom are measured from the top of the page, in PDF points. */
export function toLines(items: RawItem[], pageTop: number, pageLeft: number): Line[] {
  const lines: Line[] = [];
  let cur: (Line & { baseline: number }) | null = null;
  let breakNext = false;
  for (const it of items) {
    const [, , c = 0, d = 0, x = 0, y = 0] = it.transform;
    const h = it.height || Math.hypot(c, d) || 1;
    if (!it.str.trim()) {
      // Whitespace items carry no geometry worth keeping, but they still separate words and end lines.
      const last = cur?.cells[cur.cells.length - 1];
      if (last && it.str && !last.text.endsWith(' ')) last.text += ' ';
      breakNext ||= it.hasEOL;
      continue;
    }
    const x0 = x - pageLeft;
    const x1 = x0 + it.width;
    const sameLine = cur && !breakNext && Math.abs(y - cur.baseline) < 0.5 * Math.max(h, cur.h) && x0 > cur.x0 - h;
    if (cur && sameLine) {
      const gap = x0 - cur.x1;
      const cell = cur.cells[cur.cells.length - 1]!;
      if (gap > CELL_GAP * Math.max(h, cur.h)) {
        cur.cells.push({ text: it.str, x0, x1 });
      } else {
        const space = gap > 0.2 * h && !cell.text.endsWith(' ') && !it.str.startsWith(' ');
        cell.text += (space ? ' ' : '') + it.str;
        cell.x1 = Math.max(cell.x1, x1);
      }
      cur.x1 = Math.max(cur.x1, x1);
      cur.top = Math.min(cur.top, pageTop - (y + h));
      cur.bottom = Math.max(cur.bottom, pageTop - y);
      cur.h = Math.max(cur.h, h);
    } else {
      if (cur) lines.push(cur);
      cur = { text: '', x0, x1, top: pageTop - (y + h), bottom: pageTop - y, h, baseline: y, cells: [{ text: it.str, x0, x1 }] };
    }
    breakNext = it.hasEOL;
  }
  if (cur) lines.push(cur);
  return lines
    .map(({ x0, x1, top, bottom, h, cells }) => {
      const clean = cells.map((c) => ({ ...c, text: c.text.replace(/\s+/g, ' ').trim() })).filter((c) => c.text);
      return { text: clean.map((c) => c.text).join(' '), x0, x1, top, bottom, h, cells: clean };
    })
    .filter((l) => l.text);
}

/** Lines → blocks: tables where several lines share a column structure, paragraphs elsewhere. */
export function toBlocks(lines: Line[]): Block[] {
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const table = tableAt(lines, i);
    if (table) {
      out.push(table.block);
      i = table.end;
      continue;
    }
    // Prose up to the next table start.
    let j = i + 1;
    while (j < lines.length && !tableAt(lines, j)) j++;
    out.push(...toParagraphs(lines.slice(i, j)));
    i = j;
  }
  return out;
}

/**
 * A table starting at line i: consecutive, closely spaced lines of two or more cells whose cells fall into
 * shared column bands (overlapping x ranges across rows). Short cells only, so two-column prose set line by
 * line is not mistaken for a table.
 */
function tableAt(lines: Line[], i: number): { block: Block; end: number } | null {
  const first = lines[i];
  if (!first || first.cells.length < 2) return null;
  let end = i + 1;
  while (end < lines.length) {
    const prev = lines[end - 1]!;
    const line = lines[end]!;
    if (line.cells.length < 2 || line.top - prev.bottom > 2.5 * Math.max(line.h, prev.h)) break;
    end++;
  }
  const rows = lines.slice(i, end);
  if (rows.length < 2) return null;
  const cells = rows.flatMap((r) => r.cells);
  const avgLen = cells.reduce((n, c) => n + c.text.length, 0) / cells.length;
  if (avgLen > 60) return null;
  const bands = columnBands(cells);
  if (bands.length < 2) return null;
  // Most rows must use at least two of the bands; one wide cell spanning everything means it is not a grid.
  const gridRows = rows.filter((r) => new Set(r.cells.map((c) => bandOf(bands, c))).size >= 2).length;
  if (gridRows < Math.max(2, Math.ceil(rows.length * 0.75))) return null;
  const html = rows
    .map((r) => {
      const slots: string[][] = bands.map(() => []);
      for (const c of r.cells) slots[bandOf(bands, c)]!.push(c.text);
      return `<tr>${slots.map((s) => `<td>${escapeHtml(s.join(' '))}</td>`).join('')}</tr>`;
    })
    .join('');
  return {
    end,
    block: {
      kind: 'table',
      text: `<table>${html}</table>`,
      x0: Math.min(...rows.map((r) => r.x0)),
      x1: Math.max(...rows.map((r) => r.x1)),
      top: Math.min(...rows.map((r) => r.top)),
      bottom: Math.max(...rows.map((r) => r.bottom)),
    },
  };
}

/** Merge the x ranges of all cells into disjoint bands, left to right: each band is a column. */
function columnBands(cells: Cell[]): [number, number][] {
  const sorted = [...cells].sort((a, b) => a.x0 - b.x0);
  const bands: [number, number][] = [];
  for (const c of sorted) {
    const last = bands[bands.length - 1];
    if (last && c.x0 <= last[1]) last[1] = Math.max(last[1], c.x1);
    else bands.push([c.x0, c.x1]);
  }
  return bands;
}

function bandOf(bands: [number, number][], c: Cell): number {
  const k = bands.findIndex(([a, b]) => c.x0 >= a - 0.5 && c.x0 <= b);
  return k < 0 ? bands.length - 1 : k;
}

/** Lines → paragraphs: a new paragraph at a vertical gap, a font-size change, or a jump back up (next column). */
function toParagraphs(lines: Line[]): Block[] {
  const out: Block[] = [];
  let cur: Block | null = null;
  let h = 0;
  for (const line of lines) {
    if (cur) {
      const gap = line.top - cur.bottom;
      const sizeChange = Math.abs(line.h - h) > 0.2 * Math.min(line.h, h);
      if (gap <= 0.6 * line.h && gap > -0.5 * line.h && !sizeChange) {
        cur.text = joinLines(cur.text, line.text);
        cur.x0 = Math.min(cur.x0, line.x0);
        cur.x1 = Math.max(cur.x1, line.x1);
        cur.bottom = Math.max(cur.bottom, line.bottom);
        continue;
      }
      out.push(cur);
    }
    cur = { kind: 'text', text: line.text, x0: line.x0, x1: line.x1, top: line.top, bottom: line.bottom };
    h = line.h;
  }
  if (cur) out.push(cur);
  return out;
}

const CJK_END = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]$/u;
const CJK_START = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]/u;

export function joinLines(a: string, b: string): string {
  // "exam-" + "ple" was one word broken by the layout.
  if (/\p{L}-$/u.test(a) && /^\p{Ll}/u.test(b)) return a.slice(0, -1) + b;
  if (CJK_END.test(a) || CJK_START.test(b)) return a + b;
  return `${a} ${b}`;
}

/** How a margin line is compared across pages: digits vary (page numbers), the rest must repeat. */
export function marginKey(text: string): string {
  return text.replace(/\d+/g, '#').replace(/\s+/g, '').toLowerCase();
}

/** A line that is only a page number: "3", "- 3 -", "Page 3 of 10", "第 3 页", "3/10". */
export function isPageNumber(text: string): boolean {
  return /^(?:[-–—\s]*\d+[-–—\s]*|page\s*\d+(?:\s*(?:of|\/)\s*\d+)?|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*\/\s*\d+)$/i.test(text.trim());
}

/**
 * Running headers and footers: lines in the top or bottom margin zone whose text (digits aside) appears on
 * most of the sampled pages. Returns their keys.
 */
export function repeatingMargins(pages: { lines: Line[]; height: number }[]): Set<string> {
  const counts = new Map<string, number>();
  for (const { lines, height } of pages) {
    const seen = new Set<string>();
    for (const l of lines) {
      if (!inMargin(l, height)) continue;
      seen.add(marginKey(l.text));
    }
    for (const k of seen) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const need = Math.max(2, Math.ceil(pages.length * 0.6));
  return new Set([...counts].filter(([, n]) => pages.length >= 2 && n >= need).map(([k]) => k));
}

/** Top and bottom 10% of the page (at least 54 pt, three quarters of an inch). */
export function inMargin(l: Line, height: number): boolean {
  const zone = Math.max(54, height * 0.1);
  return l.bottom <= zone || l.top >= height - zone;
}

/** Text whose characters are mostly unmappable glyphs (private use, replacement, controls): a garbled font. */
export function isGarbled(text: string): boolean {
  const compact = text.replace(/\s+/g, '');
  // characters, not UTF-16 units (a character beyond the BMP is two); counted without an array of them
  const chars = compact.length - (compact.match(/[\udc00-\udfff]/g)?.length ?? 0);
  if (chars < 10) return false;
  const bad = compact.match(/[\p{Co}\ufffd\p{Cc}]/gu)?.length ?? 0;
  return bad / chars > 0.3;
}
