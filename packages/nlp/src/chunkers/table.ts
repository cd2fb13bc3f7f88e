import { countTokens } from '../tokens.js';
import type { ChunkDraft, Section } from '../types.js';
import { ParseError } from '../types.js';
import { positionsOf, requireKind } from './common.js';
import type { ChunkContext } from './types.js';

type Cell = string | number | boolean | null;
export type ColumnType = 'int' | 'float' | 'bool' | 'datetime' | 'text';

/** RAGFlow's typed-field suffixes: _tks text, _long int, _flt float, _dt datetime, _kwd keyword/bool. */
const SUFFIX: Record<ColumnType, string> = { text: 'tks', int: 'long', float: 'flt', datetime: 'dt', bool: 'kwd' };
/** Rows read before the column types are fixed (bounded memory on sheets of any length). */
const SAMPLE_ROWS = 1000;

const INT = /^[+-]?\d{1,15}$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLS = new Map<string, boolean>([
  ['true', true], ['false', false], ['yes', true], ['no', false], ['y', true], ['n', false], ['是', true], ['否', false], ['对', true], ['错', false],
]);
const DATE = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

function typeOfValue(v: Cell): ColumnType | null {
  if (v === null || v === '') return null;
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  const s = v.trim();
  if (!s) return null;
  if (INT.test(s)) return 'int';
  if (FLOAT.test(s)) return 'float';
  if (BOOLS.has(s.toLowerCase())) return 'bool';
  if (DATE.test(s)) return 'datetime';
  return 'text';
}

/** The column's type: the most common value type, ints widening to floats (RAGFlow's column_data_type). */
export function inferColumnType(values: readonly Cell[]): ColumnType {
  const counts = new Map<ColumnType, number>();
  for (const v of values) {
    const t = typeOfValue(v);
    if (t) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  if ((counts.get('float') ?? 0) > 0 && (counts.get('int') ?? 0) > 0) {
    counts.set('float', (counts.get('float') ?? 0) + (counts.get('int') ?? 0));
    counts.delete('int');
  }
  let best: ColumnType = 'text';
  let n = 0;
  for (const [t, c] of counts) if (c > n) [best, n] = [t, c];
  return best;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A cell converted to its column's type; null when it does not fit (the text is still shown in the content). */
export function typedValue(v: Cell, t: ColumnType): string | number | boolean | null {
  if (v === null || v === '') return null;
  const s = String(v).trim();
  switch (t) {
    case 'int':
    case 'float': {
      const n = typeof v === 'number' ? v : FLOAT.test(s) ? Number(s) : NaN;
      return Number.isFinite(n) ? n : null;
    }
    case 'bool':
      return typeof v === 'boolean' ? v : (BOOLS.get(s.toLowerCase()) ?? null);
    case 'datetime': {
      const m = DATE.exec(s);
      if (!m) return null;
      return `${m[1]}-${pad(Number(m[2]))}-${pad(Number(m[3]))} ${pad(Number(m[4] ?? 0))}:${m[5] ?? '00'}:${m[6] ?? '00'}`;
    }
    default:
      return s;
  }
}

/** Field name of a column: the header without bracketed notes, as a safe identifier, plus the type suffix. */
export function fieldName(header: string, t: ColumnType): string {
  const base = header
    .replace(/(\/.*|（[^（）]+?）|\([^()]+?\))/gu, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
  return `${base || 'column'}_${SUFFIX[t]}`;
}

interface Row {
  header: string[];
  cells: Cell[];
  positions: number[][];
  sheet: string;
}

/** Rows of a sheet, grouped so each group shares one header; text sections are read as TAB/comma-separated lines. */
async function* rowsOf(sections: AsyncIterable<Section>): AsyncGenerator<Row> {
  let textHeader: string[] | null = null;
  for await (const s of sections) {
    if (s.row) {
      yield { header: s.row.header, cells: s.row.cells, positions: positionsOf(s), sheet: s.meta?.sheet ?? '' };
      continue;
    }
    if (s.kind !== 'text') continue;
    for (const line of s.text.split(/\r?\n/)) {
      if (!line.trim()) continue;
      const cells = line.split(line.includes('\t') ? '\t' : ',').map((c) => c.trim());
      if (!textHeader) textHeader = cells;
      else yield { header: textHeader, cells, positions: positionsOf(s), sheet: '' };
    }
  }
}

/**
 * `table`: one chunk per spreadsheet row. Column types are inferred (from the first rows of each sheet) and
 * every row carries its typed values as fields named from the header plus RAGFlow's suffix; the content is
 * one "header: value" line per non-empty cell.
 */
export async function* chunkTable(sections: AsyncIterable<Section>, ctx: ChunkContext): AsyncGenerator<ChunkDraft> {
  requireKind('table', ctx.kind, ['xlsx', 'xls', 'csv', 'txt']);
  let rows = 0;
  let group: { key: string; sample: Row[]; types: ColumnType[] | null } | null = null;

  const emit = (r: Row, types: ColumnType[]): ChunkDraft | null => {
    const lines: string[] = [];
    const fields: Record<string, string | number | boolean | null> = {};
    r.header.forEach((h, k) => {
      const v = r.cells[k];
      if (v === null || v === undefined || String(v).trim() === '') return;
      const t = types[k] ?? 'text';
      // the content keeps the cell as written (leading zeros, units); the typed value goes to the field
      lines.push(`${h}: ${String(v).trim()}`);
      fields[fieldName(h, t)] = typedValue(v, t);
    });
    if (!lines.length) return null;
    rows++;
    const content = lines.join('\n');
    return { content, tokenCount: countTokens(content), positions: r.positions, docType: '', fields };
  };
  const fix = (g: NonNullable<typeof group>): ColumnType[] =>
    g.sample[0]!.header.map((_, k) => inferColumnType(g.sample.map((r) => r.cells[k] ?? null)));
  function* drain(g: NonNullable<typeof group>): Generator<ChunkDraft> {
    const types = (g.types ??= fix(g));
    for (const r of g.sample) {
      const d = emit(r, types);
      if (d) yield d;
    }
    g.sample = [];
  }

  for await (const r of rowsOf(sections)) {
    const key = `${r.sheet}\u0000${r.header.join('\u0001')}`;
    if (group && group.key !== key) yield* drain(group);
    if (!group || group.key !== key) group = { key, sample: [], types: null };
    if (group.types) {
      const d = emit(r, group.types);
      if (d) yield d;
      continue;
    }
    group.sample.push(r);
    if (group.sample.length >= SAMPLE_ROWS) yield* drain(group);
  }
  if (group) yield* drain(group);
  if (rows === 0) {
    throw new ParseError("No table rows found for chunk method 'table': it needs a spreadsheet (XLSX/XLS), CSV or TAB-separated text with a header row and at least one data row.");
  }
}
