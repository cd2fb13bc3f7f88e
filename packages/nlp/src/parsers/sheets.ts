import * as XLSX from '@e965/xlsx';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';
import { isOle2, isZip, ooxmlInOle, oleContents } from './ole.js';
import { OfficeZip } from './zip.js';
import { waitInQueue } from '../wait-queue.js';

type Cell = string | number | boolean | null;

const HAN = /\p{Script=Han}/u;
const MB = 1024 * 1024;

/**
 * Most bytes an XLSX's cell data (worksheets and shared strings) may inflate to. SheetJS builds the whole workbook in
 * memory, 5–7× the inflated XML (measured: 57 MB of sheet XML raised an ingest-worker's RSS by ~400 MB, to 683 MB),
 * so a workbook at this limit keeps the worker under 1 GB. Bigger tables ingest as CSV, which is streamed.
 */
export const XLSX_MAX_SHEET_XML_BYTES = 64 * MB;
const SHEET_DATA = /^xl\/(?:worksheets\/|sharedStrings\.(?:xml|bin)$)/;

/**
 * One workbook in memory per process at a time: two workbooks near the limit parsed side by side (INGEST_CONCURRENCY 2)
 * took an ingest-worker to 1.27 GB. A second spreadsheet waits here (abortably) while the first is turned into rows;
 * other formats are not held up.
 */
class WorkbookSlot {
  private busy = false;
  private readonly waiting: ((value: void) => void)[] = [];

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.busy) {
      await waitInQueue(this.waiting, signal);
    }
    // a waiter that was woken now owns the slot, which never became free in between
    this.busy = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.busy = false;
    };
  }
}

const workbookSlot = new WorkbookSlot();

async function* oneWorkbookAtATime(opts: ParseOptions, parse: () => AsyncGenerator<Section>): AsyncGenerator<Section> {
  const release = await workbookSlot.acquire(opts.signal);
  try {
    yield* parse();
  } finally {
    release();
  }
}

/** XLSX: every sheet, one section per row (`header: value; …`, typed cells in `row`, `meta.sheet`). */
export function parseXlsx(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  return oneWorkbookAtATime(opts, () => xlsxSections(source, opts));
}

/** XLS (Excel 97-2003 BIFF in a compound file). */
export function parseXls(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  return oneWorkbookAtATime(opts, () => xlsSections(source, opts));
}

async function* xlsxSections(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'XLSX');
  if (isOle2(buf)) {
    // An .xlsx that is really an .xls still reads fine; an encrypted one does not.
    if (oleContents(buf) !== 'xls') throw ooxmlInOle(buf, 'XLSX');
  } else if (isZip(buf)) {
    const zip = await OfficeZip.open(buf, 'XLSX');
    try {
      if (!zip.has('xl/workbook.xml') && !zip.has('xl/workbook.bin')) throw new ParseError('Corrupt XLSX: no workbook part (xl/workbook.xml)');
      const cells = zip.inflatedBytes((name) => SHEET_DATA.test(name));
      if (cells > XLSX_MAX_SHEET_XML_BYTES) {
        throw new ParseError(
          `XLSX is too large to parse: its sheets inflate to ${(cells / MB).toFixed(1)} MB of XML (limit ${XLSX_MAX_SHEET_XML_BYTES / MB} MB, ` +
            'workbooks are parsed in memory); split it, or save the sheets as CSV, which is parsed as a stream',
        );
      }
      // SheetJS trusts the sizes the archive declares; prove them first.
      await zip.verifyAll(opts.signal);
    } finally {
      zip.close();
    }
  } else {
    throw new ParseError('Corrupt XLSX: not a zip archive');
  }
  yield* sheetsToSections(buf, 'XLSX', opts);
}

async function* xlsSections(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'XLS');
  if (isZip(buf)) {
    // Renamed .xlsx: the zip checks apply.
    yield* xlsxSections(source, opts);
    return;
  }
  if (!isOle2(buf)) throw new ParseError('Corrupt XLS: not an Excel 97-2003 compound file');
  const inside = oleContents(buf);
  if (inside === 'encrypted') throw new ParseError('XLS is password-protected (encrypted); remove the password and upload it again');
  if (inside === 'doc' || inside === 'ppt') throw ooxmlInOle(buf, 'XLS');
  yield* sheetsToSections(buf, 'XLS', opts);
}

async function* sheetsToSections(buf: Buffer, what: string, opts: ParseOptions): AsyncGenerator<Section> {
  let wb: XLSX.WorkBook;
  try {
    wb = XLSX.read(buf, { type: 'buffer', dense: true, cellDates: true, cellHTML: false, cellFormula: false, cellStyles: false, WTF: false });
  } catch (e) {
    const msg = errorMessage(e);
    if (/password|encrypt/i.test(msg)) throw new ParseError(`${what} is password-protected (encrypted); remove the password and upload it again`);
    throw new ParseError(`Corrupt ${what}: ${msg}`);
  }
  let rows = 0;
  const names = wb.SheetNames;
  for (let s = 0; s < names.length; s++) {
    opts.signal?.throwIfAborted();
    const name = names[s]!;
    const ws = wb.Sheets[name];
    if (!ws) continue;
    const table = XLSX.utils.sheet_to_json<unknown[]>(ws, { header: 1, raw: true, defval: null, blankrows: false });
    let header: string[] | null = null;
    let colon = ': ';
    for (const raw of table) {
      const cells = raw.map(toCell);
      if (!header) {
        if (cells.every((c) => c === null)) continue;
        header = cells.map((c, k) => (c === null || c === '' ? `column_${k + 1}` : String(c)));
        colon = header.some((h) => HAN.test(h)) ? '：' : ': ';
        continue;
      }
      while (header.length < cells.length) header.push(`column_${header.length + 1}`);
      const fields: string[] = [];
      cells.forEach((c, k) => {
        if (c !== null && c !== '') fields.push(`${header![k]}${colon}${String(c)}`);
      });
      if (!fields.length) continue;
      rows++;
      yield {
        kind: 'text',
        text: fields.join('; '),
        page: s + 1,
        meta: { sheet: name },
        row: { header: [...header], cells: header.map((_, k) => cells[k] ?? null) },
      };
    }
    // A sheet holding only a header row still says something.
    if (header && !table.slice(1).some((r) => r.some((c) => c !== null && c !== ''))) {
      rows++;
      yield { kind: 'text', text: header.join('; '), page: s + 1, meta: { sheet: name } };
    }
    opts.onProgress?.({ fraction: (s + 1) / names.length, message: `sheet ${s + 1}/${names.length}` });
  }
  if (!rows) throw new ParseError(`${what} has no data in any sheet`);
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return null;
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19).replace('T', ' ');
  }
  const s = String(v).trim();
  return s === '' ? null : s;
}
