import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { ParseError } from '../types.js';
import { errorMessage } from './common.js';

/** Zip-bomb limits for Office files (DOCX/XLSX/PPTX are zip archives). */
export interface ZipLimits {
  /** most entries an archive may list */
  maxEntries: number;
  /** most bytes all entries together may inflate to */
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 10_000, maxTotalBytes: 512 * 1024 * 1024 };

const MB = 1024 * 1024;

/**
 * An Office zip whose entries were all checked: the central directory is read first (entry count, declared sizes,
 * encryption) before anything is inflated, and entries are inflated with their declared size enforced, so a zip
 * that lies about its sizes fails instead of filling memory.
 */
export class OfficeZip {
  private constructor(
    private readonly zip: ZipFile,
    private readonly entries: Map<string, Entry>,
    private readonly what: string,
  ) {}

  static async open(buf: Buffer, what: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<OfficeZip> {
    let zip: ZipFile;
    try {
      zip = await yauzl.fromBufferPromise(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false });
    } catch (e) {
      throw new ParseError(`Corrupt ${what}: ${zipReason(errorMessage(e))}`);
    }
    if (zip.entryCount > limits.maxEntries) {
      throw new ParseError(`${what} rejected: the archive lists ${zip.entryCount} entries (limit ${limits.maxEntries}), a possible zip bomb`);
    }
    const entries = new Map<string, Entry>();
    let total = 0;
    try {
      for (let e = await nextEntry(zip); e; e = await nextEntry(zip)) {
        if (e.isEncrypted()) throw new ParseError(`${what} is encrypted (password-protected archive)`);
        total += e.uncompressedSize;
        if (total > limits.maxTotalBytes) {
          throw new ParseError(
            `${what} rejected: its contents inflate to more than ${(limits.maxTotalBytes / MB).toFixed(0)} MB, a possible zip bomb`,
          );
        }
        entries.set(e.fileName.replace(/^\/+/, ''), e);
      }
    } catch (e) {
      zip.close();
      if (e instanceof ParseError) throw e;
      throw new ParseError(`Corrupt ${what}: ${zipReason(errorMessage(e))}`);
    }
    return new OfficeZip(zip, entries, what);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Declared inflated size of the entries whose names pass the filter (declared sizes are enforced when inflating). */
  inflatedBytes(filter: (name: string) => boolean): number {
    let total = 0;
    for (const [name, entry] of this.entries) if (filter(name)) total += entry.uncompressedSize;
    return total;
  }

  /** The inflated entry, or undefined if the archive has no such entry. */
  async read(name: string): Promise<Buffer | undefined> {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      const parts: Buffer[] = [];
      for await (const part of stream) parts.push(part as Buffer);
      return Buffer.concat(parts);
    } catch (e) {
      throw new ParseError(`Corrupt ${this.what}: ${name}: ${zipReason(errorMessage(e))}`);
    }
  }

  async readText(name: string): Promise<string | undefined> {
    return (await this.read(name))?.toString('utf8');
  }

  /** Inflate every entry once and discard the output: proves the declared sizes before a library that trusts them. */
  async verifyAll(signal?: AbortSignal): Promise<void> {
    for (const name of this.entries.keys()) {
      signal?.throwIfAborted();
      const entry = this.entries.get(name)!;
      try {
        const stream = await this.zip.openReadStreamPromise(entry);
        for await (const _ of stream) {
          // draining only
        }
      } catch (e) {
        throw new ParseError(`Corrupt ${this.what}: ${name}: ${zipReason(errorMessage(e))}`);
      }
    }
  }

  close(): void {
    this.zip.close();
  }
}

function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: Entry) => {
      cleanup();
      resolve(e);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

// yauzl's messages name record signatures; users need to know what is wrong with their file.
function zipReason(message: string): string {
  if (/end of central directory record signature not found/i.test(message)) return 'not a valid zip archive (truncated or not a zip)';
  if (/too many length or distance symbols|invalid|unexpected end|incorrect header check/i.test(message)) {
    return `damaged compressed data (${message})`;
  }
  if (/too many bytes in the stream|expected \d+ bytes/i.test(message)) return `entry sizes do not match the archive directory (${message})`;
  return message;
}
