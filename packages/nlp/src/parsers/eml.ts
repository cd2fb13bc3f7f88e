import { Readable } from 'node:stream';
import PostalMime from 'postal-mime';
import type { Address, Attachment, Email } from 'postal-mime';
import { detectFileType, DETECT_HEAD_BYTES } from '../detect.js';
import type { FileKind, ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';
import { htmlToSections } from './html.js';

/** Attachments that are e-mails themselves are followed this deep. */
const MAX_DEPTH = 3;
const MAX_ATTACHMENTS = 100;

type NestedParser = (source: ParseSource, kind: FileKind, opts: ParseOptions) => AsyncIterable<Section>;

/**
 * An e-mail (RFC 822 / MIME): a header section (From/To/Cc/Subject/Date, `meta.part = 'header'`), the body
 * (text part, or the HTML part when there is no text; `meta.part = 'body'`), then every attachment parsed by its
 * detected type (`meta.part = 'attachment'`, `meta.filename`). An attachment that cannot be parsed is skipped,
 * never failing the whole message.
 */
export function emlParser(parseNested: NestedParser, depth = 0) {
  return async function* parseEml(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
    const buf = await readWhole(source, opts, 'EML');
    let mail: Email;
    try {
      mail = await PostalMime.parse(buf, { attachmentEncoding: 'arraybuffer', maxNestingDepth: 50, maxHeadersSize: 1024 * 1024 });
    } catch (e) {
      throw new ParseError(`Corrupt EML: ${errorMessage(e)}`);
    }
    const known = new Set(mail.headers.map((h) => h.key));
    if (!['from', 'to', 'subject', 'date', 'message-id', 'mime-version'].some((k) => known.has(k))) {
      throw new ParseError('Not an e-mail message: no From, To, Subject or Date header');
    }
    let produced = 0;
    const header = headerText(mail);
    if (header) {
      produced++;
      yield { kind: 'text', text: header, meta: { part: 'header' } };
    }
    const body = mail.text?.trim()
      ? paragraphs(mail.text).map((text): Section => ({ kind: 'text', text }))
      : mail.html
        ? htmlToSections(mail.html)
        : [];
    for (const s of body) {
      produced++;
      yield { ...s, meta: { ...s.meta, part: 'body' } };
    }
    // Inline pictures (cid: references in the HTML) are parts of the message too, so they are kept as images.
    for (const [i, att] of mail.attachments.slice(0, MAX_ATTACHMENTS).entries()) {
      opts.signal?.throwIfAborted();
      for await (const s of attachmentSections(att, i, parseNested, depth, opts)) {
        produced++;
        yield s;
      }
    }
    opts.onProgress?.({ fraction: 1 });
    if (!produced) throw new ParseError('E-mail has no content');
  };
}

async function* attachmentSections(att: Attachment, i: number, parseNested: NestedParser, depth: number, opts: ParseOptions): AsyncGenerator<Section> {
  const data = toBuffer(att.content);
  if (!data.length) return;
  const filename = att.filename ?? `attachment-${i + 1}${att.mimeType === 'message/rfc822' ? '.eml' : ''}`;
  const detected = detectFileType(data.subarray(0, DETECT_HEAD_BYTES), filename);
  if (!detected) return;
  if (detected.kind === 'eml' && depth + 1 >= MAX_DEPTH) return;
  const source = bufferSource(data, filename);
  const meta = { part: 'attachment', filename };
  // Progress is the message's, not each attachment's.
  opts = { ...opts, onProgress: undefined };
  try {
    const sections =
      detected.kind === 'eml' ? emlParser(parseNested, depth + 1)(source, opts) : parseNested(source, detected.kind, opts);
    for await (const s of sections) yield { ...s, meta: { ...s.meta, ...meta } };
  } catch (e) {
    // A broken or unsupported attachment costs only itself; aborts and storage failures still stop the job.
    if (!(e instanceof ParseError)) throw e;
  }
}

function toBuffer(content: Attachment['content']): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof ArrayBuffer) return Buffer.from(content);
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

function bufferSource(buf: Buffer, fileName: string): ParseSource {
  return {
    fileName,
    size: buf.length,
    stream: async () => Readable.from([buf]),
    buffer: async (maxBytes) => {
      if (buf.length > maxBytes) throw new ParseError(`Attachment ${fileName} is too large to parse`);
      return buf;
    },
  };
}

function addresses(list: Address | Address[] | undefined): string {
  const arr = list === undefined ? [] : Array.isArray(list) ? list : [list];
  return arr
    .flatMap((a) => (a.group ? a.group : [a]))
    .map((m) => (m.name && m.address ? `${m.name} <${m.address}>` : m.address || m.name))
    .filter(Boolean)
    .join(', ');
}

function headerText(mail: Email): string {
  const lines: string[] = [];
  const add = (k: string, v: string | undefined) => {
    if (v?.trim()) lines.push(`${k}: ${v.trim()}`);
  };
  add('From', addresses(mail.from));
  add('To', addresses(mail.to));
  add('Cc', addresses(mail.cc));
  add('Subject', mail.subject);
  add('Date', mail.date);
  return lines.join('\n');
}

function paragraphs(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
}
