import * as XLSX from '@e965/xlsx';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';
import { isOle2, isZip, ooxmlInOle, oleContents } from './ole.js';
import { OfficeZip } from './zip.js';

type Cell = string | number | boolean | null;

const HAN = /\p{Script=Han}/u;

/** XLSX: every sheet, one section per row (`header: value; …`, typed cells in `row`, `meta.sheet`). */
export async function* parseXlsx(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'XLSX');
  if (isOle2(buf)) {
    // An .xlsx that is really an .xls still reads fine; an encrypted one does not.
    if (oleContents(buf) !== 'xls') throw ooxmlInOle(buf, 'XLSX');
  } else if (isZip(buf)) {
    const zip = await OfficeZip.open(buf, 'XLSX');
    try {
      if (!zip.has('xl/workbook.xml') && !zip.has('xl/workbook.bin')) throw new ParseError('Corrupt XLSX: no workbook part (xl/workbook.xml)');
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

/** XLS (Excel 97-2003 BIFF in a compound file). */
export async function* parseXls(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buf = await readWhole(source, opts, 'XLS');
  if (isZip(buf)) {
    // Renamed .xlsx: the zip checks apply.
    yield* parseXlsx(source, opts);
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
