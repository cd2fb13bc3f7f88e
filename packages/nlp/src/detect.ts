import iconv from 'iconv-lite';
import type { DetectedType, FileKind } from './types.js';
import { detectEncoding } from './encoding.js';

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

/** Lower-case extensions (no dot) accepted at upload. */
export const SUPPORTED_SUFFIXES: readonly string[] = ['pdf', 'docx', ...Object.keys(TEXT_EXT)];

export const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

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

  if (head.subarray(0, 1024).includes('%PDF-')) return { kind: 'pdf', mime: 'application/pdf', docType: 'pdf' };
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5 || head[2] === 7)) {
    // Zip entry names are stored uncompressed in local headers; Word writes the document part early.
    const isWord = head.includes('word/document.xml') || (head.includes('[Content_Types].xml') && head.includes('word/'));
    return isWord ? { kind: 'docx', mime: DOCX_MIME, docType: 'doc' } : null;
  }

  const encoding = detectEncoding(head);
  const text = sniffText(head, encoding);
  if (text === null) return null;
  const trimmed = text.trimStart();

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

function fromExt(ext: string, encoding: string): DetectedType | null {
  if (ext === 'pdf') return { kind: 'pdf', mime: 'application/pdf', docType: 'pdf' };
  if (ext === 'docx') return { kind: 'docx', mime: DOCX_MIME, docType: 'doc' };
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
