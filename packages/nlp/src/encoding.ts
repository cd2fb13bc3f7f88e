import chardet from 'chardet';
import iconv from 'iconv-lite';
import { isUtf8 as nodeIsUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';

/** Bytes looked at to guess an encoding. */
export const ENCODING_SAMPLE_BYTES = 64 * 1024;

/** iconv-lite name of the sample's encoding: BOM, then strict UTF-8, then UTF-16 by NUL pattern, then chardet. */
export function detectEncoding(sample: Uint8Array): string {
  const b = sample;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  const utf16 = guessBomlessUtf16(b);
  if (utf16) return utf16;
  if (isUtf8(b)) return 'utf-8';
  const best = chardet.analyse(b).find((m) => m.confidence > 0 && iconv.encodingExists(m.name));
  if (!best) return 'windows-1252';
  const name = best.name.toLowerCase();
  // windows-1252 is a superset of Latin-1's printable range and never fails to decode.
  if (name === 'iso-8859-1' || name === 'ascii') return 'windows-1252';
  return name;
}

/** Valid UTF-8, tolerating a multi-byte sequence cut off at the end of the sample. */
export function isUtf8(b: Uint8Array): boolean {
  let end = b.length;
  for (let k = 1; k <= 3 && end - k >= 0; k++) {
    const c = b[end - k]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (need > k) end -= k;
    break;
  }
  return nodeIsUtf8(b.subarray(0, end));
}

// Text in UTF-16 without a BOM has NUL in most high bytes (Latin) and none where ASCII would be.
function guessBomlessUtf16(b: Uint8Array): string | null {
  const n = Math.min(b.length, 4096) & ~1;
  if (n < 4) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (b[i] === 0) evenNul++;
    if (b[i + 1] === 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul > pairs * 0.3 && evenNul < pairs * 0.05) return 'utf-16le';
  if (evenNul > pairs * 0.3 && oddNul < pairs * 0.05) return 'utf-16be';
  return null;
}

/** Decode a whole buffer (BOM stripped). */
export function decodeBuffer(buf: Uint8Array, encoding = detectEncoding(buf.subarray(0, ENCODING_SAMPLE_BYTES))): string {
  return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), encoding);
}

export interface DecodeStreamOptions {
  /** called with the number of raw bytes consumed so far */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
  encoding?: string;
}

/**
 * Decode a byte stream lazily: the encoding is guessed from the first 64 KB, then iconv-lite's streaming
 * decoder (the one behind iconv.decodeStream) handles characters split across chunks. Memory stays bounded.
 */
export async function* decodeTextStream(input: Readable, opts: DecodeStreamOptions = {}): AsyncGenerator<string> {
  const head: Buffer[] = [];
  let headLen = 0;
  let bytes = 0;
  let decoder: ReturnType<typeof iconv.getDecoder> | undefined;
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      opts.signal?.throwIfAborted();
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buf.length;
      if (!decoder) {
        head.push(buf);
        headLen += buf.length;
        if (headLen < ENCODING_SAMPLE_BYTES) continue;
        const all = Buffer.concat(head);
        decoder = iconv.getDecoder(opts.encoding ?? detectEncoding(all.subarray(0, ENCODING_SAMPLE_BYTES)));
        head.length = 0;
        const s = decoder.write(all);
        opts.onBytes?.(bytes);
        if (s) yield s;
        continue;
      }
      const s = decoder.write(buf);
      opts.onBytes?.(bytes);
      if (s) yield s;
    }
    if (!decoder) {
      const all = Buffer.concat(head);
      decoder = iconv.getDecoder(opts.encoding ?? detectEncoding(all));
      const s = decoder.write(all);
      opts.onBytes?.(bytes);
      if (s) yield s;
    }
    const tail = decoder.end();
    if (tail) yield tail;
  } finally {
    input.destroy();
  }
}
