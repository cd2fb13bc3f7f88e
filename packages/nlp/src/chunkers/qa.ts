import { countTokens } from '../tokens.js';
import type { ChunkDraft, Section } from '../types.js';
import { ParseError } from '../types.js';
import { addPositions, positionsOf, requireKind } from './common.js';
import type { ChunkContext } from './types.js';

const Q_LINE = /^(?:Q|Question|问题|问|提问)\s*[:：.．、]\s*(.*)$/iu;
const A_LINE = /^(?:A|Answer|答案|回答|答)\s*[:：.．、]\s*(.*)$/iu;
/** Header cells that only label the columns (a header row that is itself a pair is kept as a pair). */
const LABELS = /^(?:q|a|question|questions|answer|answers|问题|问|提问|答案|回答|答|content|内容)$/iu;

type Cell = string | number | boolean | null;

function cellText(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  return String(v).trim();
}

/** RAGFlow: the first two non-empty cells of a row are the question and the answer. */
function pairOf(cells: readonly Cell[]): [string, string] | null {
  const [q, a] = cells.map(cellText).filter(Boolean);
  return q && a ? [q, a] : null;
}

interface Pending {
  q: string[];
  a: string[];
  mode: 'q' | 'a';
  positions: number[][];
}

/**
 * `qa`: one chunk per question/answer pair, content "Question: q\tAnswer: a" (问题：/回答： for Chinese datasets),
 * and only the question is analysed for full-text search, as in RAGFlow.
 * Pairs come from spreadsheet/CSV rows (first two non-empty cells), tab-separated lines, "Question:/Answer:"
 * (问题：/回答：) blocks, or headings followed by their text (Markdown, DOCX, PDF).
 */
export async function* chunkQa(sections: AsyncIterable<Section>, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  requireKind('qa', ctx.kind, ['xlsx', 'xls', 'csv', 'txt', 'md', 'docx', 'pdf', 'html', 'json', 'code']);
  const english = ctx.options.language.toLowerCase() !== 'chinese';
  const qPrefix = english ? 'Question: ' : '问题：';
  const aPrefix = english ? '\tAnswer: ' : '\t回答：';
  let pairs = 0;
  let lastHeader: string | null = null;
  let pending: Pending | null = null;

  const make = (q: string, a: string, positions: number[][]): ChunkDraft => {
    pairs++;
    const content = `${qPrefix}${q}${aPrefix}${a}`;
    return { content, tokenCount: countTokens(content), positions, docType: '', tokenText: q };
  };
  const close = (): ChunkDraft | null => {
    const p = pending;
    pending = null;
    if (!p) return null;
    const q = p.q.join('\n').trim();
    const a = p.a.join('\n').trim();
    return q && a ? make(q, a, p.positions) : null;
  };
  const open = (q: string, mode: 'q' | 'a', positions: number[][]): void => {
    pending = { q: q ? [q] : [], a: [], mode, positions: [...positions] };
  };

  for await (const s of sections) {
    if (s.row) {
      const key = `${s.meta?.sheet ?? ''}\u0000${s.row.header.join('\u0001')}`;
      if (key !== lastHeader) {
        lastHeader = key;
        // A first row that is not just column labels is a pair like every other row (RAGFlow has no header row here).
        const head = pairOf(s.row.header);
        if (head && !LABELS.test(head[0]) && !LABELS.test(head[1])) yield make(head[0], head[1], positionsOf(s));
      }
      const pair = pairOf(s.row.cells);
      if (pair) yield make(pair[0], pair[1], positionsOf(s));
      continue;
    }
    if (s.kind === 'image') continue;
    const pos = positionsOf(s);
    if (s.kind === 'title') {
      const done = close();
      if (done) yield done;
      open(s.text.trim(), 'a', pos);
      continue;
    }
    if (s.kind === 'table') {
      const cur = pending as Pending | null;
      if (cur?.mode === 'a') {
        cur.a.push(s.text);
        addPositions(cur.positions, pos);
      }
      continue;
    }
    for (const raw of s.text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line) continue;
      const qm = Q_LINE.exec(line);
      const am = A_LINE.exec(line);
      const cur = pending as Pending | null;
      if (qm) {
        const done = close();
        if (done) yield done;
        open(qm[1]!.trim(), 'q', pos);
      } else if (am && cur) {
        cur.mode = 'a';
        if (am[1]!.trim()) cur.a.push(am[1]!.trim());
        addPositions(cur.positions, pos);
      } else if (line.includes('\t') && (!cur || cur.mode === 'a')) {
        const done = close();
        if (done) yield done;
        const [q, ...rest] = line.split('\t');
        const a = rest.join('\t').trim();
        if (q!.trim() && a) yield make(q!.trim(), a, pos);
      } else if (cur) {
        // continuation of the current question or answer
        (cur.mode === 'q' ? cur.q : cur.a).push(line);
        addPositions(cur.positions, pos);
      }
    }
  }
  const done = close();
  if (done) yield done;
  if (pairs === 0) {
    throw new ParseError(
      "No question/answer pairs found for chunk method 'qa': use a spreadsheet or CSV with question and answer columns, " +
        'tab-separated "question<TAB>answer" lines, "Question:/Answer:" (问题：/回答：) blocks, or headings followed by their answers.',
    );
  }
}
