import iconv from 'iconv-lite';
import type { DetectedType, FileKind } from './types.js';
import { detectEncoding } from './encoding.js';
import { isOle2, isZip, oleContents } from './parsers/ole.js';

/** How many leading bytes callers should pass to detectFileType (zip entry names of a DOCX sit near the start). */
export const DETECT_HEAD_BYTES = 64 * 1024;

const CODE_MIME: Record<string, string> = {
  py: 'text/x-python',
  js: 'text/javascript',
  mjs: 'text/javascript',
  cjs: 'text/javascript',
  jsx: 'text/javascript',
  ts: 'text/x-typescript',
  tsx: 'text/x-typescript',
  java: 'text/x-java',
  c: 'text/x-c',
  h: 'text/x-c',
  cpp: 'text/x-c++',
  cc: 'text/x-c++',
  hpp: 'text/x-c++',
  go: 'text/x-go',
  sh: 'application/x-sh',
  cs: 'text/x-csharp',
  kt: 'text/x-kotlin',
  sql: 'application/sql',
  php: 'application/x-httpd-php',
  rb: 'text/x-ruby',
  rs: 'text/x-rust',
};

const TEXT_EXT: Record<string, FileKind> = {
  txt: 'txt',
  text: 'txt',
  log: 'txt',
  md: 'md',
  markdown: 'md',
  htm: 'html',
  html: 'html',
  csv: 'csv',
  tsv: 'csv',
  json: 'json',
  jsonl: 'json',
  ndjson: 'json',
  ...Object.fromEntries(Object.keys(CODE_MIME).map((e) => [e, 'code' as const])),
};

export const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PPTX_MIME = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

const BINARY: Record<string, DetectedType> = {
  pdf: { kind: 'pdf', mime: 'application/pdf', docType: 'pdf' },
  docx: { kind: 'docx', mime: DOCX_MIME, docType: 'doc' },
  xlsx: { kind: 'xlsx', mime: XLSX_MIME, docType: 'doc' },
  xls: { kind: 'xls', mime: 'application/vnd.ms-excel', docType: 'doc' },
  pptx: { kind: 'pptx', mime: PPTX_MIME, docType: 'doc' },
  eml: { kind: 'eml', mime: 'message/rfc822', docType: 'doc' },
  png: { kind: 'image', mime: 'image/png', docType: 'visual' },
  jpg: { kind: 'image', mime: 'image/jpeg', docType: 'visual' },
  jpeg: { kind: 'image', mime: 'image/jpeg', docType: 'visual' },
  gif: { kind: 'image', mime: 'image/gif', docType: 'visual' },
  webp: { kind: 'image', mime: 'image/webp', docType: 'visual' },
  bmp: { kind: 'image', mime: 'image/bmp', docType: 'visual' },
  tif: { kind: 'image', mime: 'image/tiff', docType: 'visual' },
  tiff: { kind: 'image', mime: 'image/tiff', docType: 'visual' },
};

/** Lower-case extensions (no dot) accepted at upload. */
export const SUPPORTED_SUFFIXES: readonly string[] = [...Object.keys(BINARY), ...Object.keys(TEXT_EXT)];

export function fileExtension(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/**
 * What a file really is, from its first bytes (pass ≥ DETECT_HEAD_BYTES, or the whole file if smaller).
 * Content decides; the extension only breaks ties between text formats. null = nothing we can parse.
 */
export function detectFileType(head: Buffer, fileName: string): DetectedType | null {
  const ext = fileExtension(fileName);
  // An empty file has no content to go by; the parser reports it as empty.
  if (head.length === 0) return fromExt(ext, 'utf-8');

  if (head.subarray(0, 1024).includes('%PDF-')) return BINARY.pdf!;
  const image = imageType(head);
  if (image) return image;
  if (isZip(head)) return officeZipType(head, ext);
  if (isOle2(head)) {
    const inside = oleContents(head);
    if (inside === 'xls') return BINARY.xls!;
    // Office wraps a password-protected .docx/.xlsx/.pptx in a compound file; its parser reports the password.
    if (inside === 'encrypted') return BINARY[['docx', 'xlsx', 'pptx'].includes(ext) ? ext : 'xlsx']!;
    if (inside !== 'unknown') return null; // Word/PowerPoint 97-2003 binaries are not supported
    // The directory may lie past the head: the name decides, and the parser reads the whole file to tell
    // an encrypted OOXML package (reported as password-protected) from a legacy binary.
    if (ext === 'xls' || ext === 'xlt') return BINARY.xls!;
    return ['docx', 'xlsx', 'pptx'].includes(ext) ? BINARY[ext]! : null;
  }

  const encoding = detectEncoding(head);
  const text = sniffText(head, encoding);
  if (text === null) return null;
  const trimmed = text.trimStart();

  if (looksLikeEmail(trimmed) || (ext === 'eml' && /^[\w-]+:/.test(trimmed))) return { ...BINARY.eml!, encoding };

  if (looksLikeWholeJson(trimmed) || looksLikeJsonLines(trimmed)) return textType('json', encoding, ext);
  if (/^(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b/i.test(trimmed)) return textType('html', encoding, ext);

  const byExt = TEXT_EXT[ext];
  if (byExt === 'json') return textType(/^[[{]/.test(trimmed) ? 'json' : 'txt', encoding, ext);
  if (byExt) return textType(byExt, encoding, ext);

  if (/^[[{]/.test(trimmed)) return textType('json', encoding, ext);
  if (/<(?:html|head|body|div|p|table|span|meta|title|br)\b[^>]*>/i.test(trimmed.slice(0, 4096))) {
    return textType('html', encoding, ext);
  }
  return textType('txt', encoding, ext);
}

/** Decoded head, or null when the bytes are not text. */
function sniffText(head: Buffer, encoding: string): string | null {
  const sample = head.subarray(0, 16 * 1024);
  if (!encoding.startsWith('utf-16') && sample.includes(0)) return null;
  const text = iconv.decode(sample, encoding);
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11 && c !== 27) || c === 0xfffd) bad++;
  }
  // The last few code units may be a character cut off by the head boundary.
  return bad > 4 + text.length * 0.01 ? null : text;
}

function looksLikeWholeJson(t: string): boolean {
  if (!/^[[{]/.test(t)) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

function looksLikeJsonLines(t: string): boolean {
  if (!t.startsWith('{') && !t.startsWith('[')) return false;
  // The last line may be cut by the head boundary, so only complete lines are checked.
  const lines = t.split('\n').slice(0, -1).filter((l) => l.trim()).slice(0, 5);
  if (lines.length < 2) return false;
  return lines.every((l) => {
    try {
      return typeof JSON.parse(l) === 'object';
    } catch {
      return false;
    }
  });
}

/** Image formats by their magic numbers. */
function imageType(h: Buffer): DetectedType | null {
  if (h.length < 12) return null;
  if (h.readUInt32BE(0) === 0x89504e47) return BINARY.png!;
  if (h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff) return BINARY.jpeg!;
  if (/^GIF8[79]a/.test(h.toString('latin1', 0, 6))) return BINARY.gif!;
  if (h.toString('latin1', 0, 4) === 'RIFF' && h.toString('latin1', 8, 12) === 'WEBP') return BINARY.webp!;
  if (h.toString('latin1', 0, 4) === 'II*\0' || h.toString('latin1', 0, 4) === 'MM\0*') return BINARY.tiff!;
  // "BM" alone starts plenty of text files; the reserved words and the DIB header size make it a bitmap.
  if (h.length >= 18 && h[0] === 0x42 && h[1] === 0x4d && h.readUInt32LE(6) === 0 && [12, 40, 52, 56, 64, 108, 124].includes(h.readUInt32LE(14))) {
    return BINARY.bmp!;
  }
  return null;
}

/**
 * Which Office format a zip holds. Entry names sit uncompressed in the local headers and Office writes its main
 * parts early; when the head does not show them, the extension decides among the Office kinds. Other writers
 * put the package parts last (SheetJS writes the worksheets first and xl/workbook.xml and [Content_Types].xml after
 * them), so the names of the entries the head does hold decide too.
 */
function officeZipType(head: Buffer, ext: string): DetectedType | null {
  if (head.includes('word/document.xml')) return BINARY.docx!;
  if (head.includes('xl/workbook.xml') || head.includes('xl/workbook.bin')) return BINARY.xlsx!;
  if (head.includes('ppt/presentation.xml')) return BINARY.pptx!;
  if (head.includes('[Content_Types].xml') || head.includes('_rels/.rels')) {
    if (['docx', 'xlsx', 'pptx'].includes(ext)) return BINARY[ext]!;
    if (head.includes('word/')) return BINARY.docx!;
    if (head.includes('xl/')) return BINARY.xlsx!;
    if (head.includes('ppt/')) return BINARY.pptx!;
  }
  const names = localEntryNames(head);
  if (names.some((n) => n.startsWith('xl/worksheets/') || n === 'xl/_rels/workbook.xml.rels')) return BINARY.xlsx!;
  if (names.some((n) => n === 'word/_rels/document.xml.rels')) return BINARY.docx!;
  if (names.some((n) => n.startsWith('ppt/slides/') || n === 'ppt/_rels/presentation.xml.rels')) return BINARY.pptx!;
  return null;
}

/** Names of the zip entries whose local headers lie in the head, walked header to header from the start. */
function localEntryNames(head: Buffer): string[] {
  const names: string[] = [];
  let at = 0;
  while (at + 30 <= head.length && head.readUInt32LE(at) === 0x04034b50) {
    const flags = head.readUInt16LE(at + 6);
    const packed = head.readUInt32LE(at + 18);
    const nameLen = head.readUInt16LE(at + 26);
    const extraLen = head.readUInt16LE(at + 28);
    if (at + 30 + nameLen > head.length) break;
    names.push(head.toString('utf8', at + 30, at + 30 + nameLen));
    // with a data descriptor (flag bit 3) the sizes follow the data and the next header cannot be found from here
    if (flags & 0x08) break;
    at += 30 + nameLen + extraLen + packed;
  }
  return names;
}

const MAIL_HEADERS = /^(?:from|to|cc|subject|date|received|return-path|message-id|mime-version|delivered-to|reply-to|x-[\w-]+|dkim-signature|content-type):/i;

/** RFC 822: the text starts with header lines, at least three of them well-known mail headers. */
function looksLikeEmail(t: string): boolean {
  const end = t.search(/\r?\n\r?\n/);
  const block = (end > 0 ? t.slice(0, end) : t.slice(0, 8192)).split(/\r?\n/);
  if (!block[0] || !/^[\w-]+:/.test(block[0])) return false;
  let known = 0;
  for (const line of block) {
    if (/^[ \t]/.test(line)) continue; // folded continuation
    if (!/^[\x21-\x39\x3b-\x7e]+:/.test(line)) return false;
    if (MAIL_HEADERS.test(line) && !/^x-/i.test(line) && ++known >= 3) return true;
  }
  return false;
}

function fromExt(ext: string, encoding: string): DetectedType | null {
  const binary = BINARY[ext];
  if (binary) return binary;
  const kind = TEXT_EXT[ext];
  return kind ? textType(kind, encoding, ext) : null;
}

function textType(kind: FileKind, encoding: string, ext: string): DetectedType {
  let mime: string;
  switch (kind) {
    case 'md':
      mime = 'text/markdown';
      break;
    case 'html':
      mime = 'text/html';
      break;
    case 'csv':
      mime = ext === 'tsv' ? 'text/tab-separated-values' : 'text/csv';
      break;
    case 'json':
      mime = ext === 'jsonl' || ext === 'ndjson' ? 'application/x-ndjson' : 'application/json';
      break;
    case 'code':
      mime = CODE_MIME[ext] ?? 'text/plain';
      break;
    default:
      mime = 'text/plain';
  }
  // Browsers guess text/plain as windows-1252, so it always says its charset; the rest only when not UTF-8.
  if (mime === 'text/plain' || encoding !== 'utf-8') mime += `; charset=${encoding}`;
  return { kind, mime, docType: 'doc', encoding };
}
