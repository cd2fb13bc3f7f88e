import { CsvError, parse, type Parser } from 'csv-parse';
import { Readable } from 'node:stream';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { decodeTextStream } from '../encoding.js';
import { byteProgress } from './common.js';

const HAN = /\p{Script=Han}/u;

/**
 * CSV/TSV streamed through csv-parse: the first row is the header and every later row becomes one
 * `header: value; header: value` sentence (RAGFlow's table-as-text form) so each row is retrievable on its own.
 */
export async function* parseCsv(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const progress = byteProgress(source.size, opts);
  const chunks = decodeTextStream(await source.stream(), { onBytes: progress, signal: opts.signal });
  const first = await chunks.next();
  if (first.done || !first.value.trim()) {
    await chunks.return(undefined);
    throw new ParseError('File is empty');
  }
  const delimiter = sniffDelimiter(first.value);
  const parser: Parser = parse({
    delimiter,
    relax_column_count: true,
    skip_empty_lines: true,
    bom: true,
    trim: true,
    // An unterminated quote would otherwise buffer the rest of the file as one field.
    max_record_size: 8 * 1024 * 1024,
  });
  async function* all(): AsyncGenerator<string> {
    yield first.value as string;
    yield* chunks;
  }
  const input = Readable.from(all(), { objectMode: false });
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);

  let header: string[] | null = null;
  let colon = ': ';
  let rows = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record.map((h, k) => h || `column_${k + 1}`);
        colon = header.some((h) => HAN.test(h)) ? '：' : ': ';
        continue;
      }
      const fields: string[] = [];
      record.forEach((v, k) => {
        if (v !== '') fields.push(`${header![k] ?? `column_${k + 1}`}${colon}${v}`);
      });
      if (fields.length) {
        rows++;
        const names = record.length > header.length ? [...header, ...record.slice(header.length).map((_, k) => `column_${header!.length + k + 1}`)] : header;
        yield { kind: 'text', text: fields.join('; '), row: { header: names, cells: names.map((_, k) => typedCell(record[k])) } };
      }
    }
  } catch (e) {
    // Only malformed content is permanent; storage errors and aborts pass through unchanged.
    if (e instanceof CsvError) throw new ParseError(`Invalid CSV: ${e.message}`);
    throw e;
  } finally {
    input.destroy();
  }
  // A header-only file still has content worth keeping.
  if (!rows && header) yield { kind: 'text', text: header.join('; ') };
}

/** The candidate that splits the first line into the most fields (quotes respected). */
function sniffDelimiter(text: string): string {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  let best = ',';
  let bestCount = 0;
  for (const d of [',', '\t', ';', '|']) {
    let count = 0;
    let quoted = false;
    for (const ch of firstLine) {
      if (ch === '"') quoted = !quoted;
      else if (ch === d && !quoted) count++;
    }
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** CSV cells are text; numbers and booleans are recognised so the `table` chunk method can type its columns. */
export function typedCell(v: string | undefined): string | number | boolean | null {
  if (v === undefined || v === '') return null;
  if (NUMBER.test(v) && !/^[-+]?0\d/.test(v)) {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  if (/^(?:true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  return v;
}
