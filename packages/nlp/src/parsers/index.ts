import type { FileKind, ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { parseCsv } from './csv.js';
import { parseDocx } from './docx.js';
import { emlParser } from './eml.js';
import { parseHtml } from './html.js';
import { parseImage } from './images.js';
import { parsePptx } from './pptx.js';
import { parseXls, parseXlsx } from './sheets.js';
import { parseJson } from './json.js';
import { parseMarkdown } from './markdown.js';
import { parsePdf } from './pdf.js';
import { parseText } from './text.js';

const PARSERS: Record<FileKind, (source: ParseSource, opts: ParseOptions) => AsyncGenerator<Section>> = {
  pdf: parsePdf,
  docx: parseDocx,
  txt: parseText,
  code: parseText,
  md: parseMarkdown,
  html: parseHtml,
  csv: parseCsv,
  json: parseJson,
  xlsx: parseXlsx,
  xls: parseXls,
  pptx: parsePptx,
  eml: emlParser((source, kind, opts) => parseDocument(source, kind, opts)),
  image: parseImage,
};

/**
 * Sections of a document in reading order, streamed where the format allows.
 * Bad input fails with ParseError (permanent, message shown to users); aborts reject with the signal's reason.
 */
export async function* parseDocument(source: ParseSource, kind: FileKind, opts: ParseOptions): AsyncGenerator<Section> {
  if (source.size === 0) throw new ParseError('File is empty');
  const parser = PARSERS[kind];
  if (!parser) throw new ParseError(`Unsupported file type: ${String(kind)}`);
  opts.signal?.throwIfAborted();
  yield* parser(source, opts);
}
