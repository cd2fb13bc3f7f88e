import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkMaxBytes, checkRange, InvalidObjectKeyError, keySegments, prefixParts, TEMP_SUFFIX } from './keys.js';
import type { ObjectInfo, ObjectStorage, PutOptions } from './port.js';
import { ObjectNotFoundError, ObjectTooLargeError } from './port.js';

export interface LocalObjectStorageOptions {
  /** Directory that holds the objects; created if missing. */
  root: string;
  /** fsync each object before it becomes visible (default true). */
  fsync?: boolean;
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function emptyStream(): Readable {
  const r = new Readable({ read() {} });
  r.push(null);
  return r;
}

/**
 * Writes into an open FileHandle without taking ownership of it (fh.createWriteStream would hold a
 * reference that makes fh.close() wait forever unless the stream closes the handle itself).
 */
function fileSink(fh: FileHandle): Writable {
  const writeAll = async (buf: Buffer): Promise<void> => {
    for (let off = 0; off < buf.length; ) {
      const { bytesWritten } = await fh.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
  };
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      writeAll(chunk).then(() => cb(), cb);
    },
    writev(chunks, cb) {
      const bufs = chunks.map((c) => c.chunk as Buffer);
      const total = bufs.reduce((n, b) => n + b.length, 0);
      fh.writev(bufs)
        .then(async ({ bytesWritten }) => {
          if (bytesWritten < total) await writeAll(Buffer.concat(bufs).subarray(bytesWritten));
        })
        .then(() => cb(), cb);
    },
  });
}

/** Counts bytes flowing through and fails the pipeline once more than `maxBytes` arrived. */
export function byteLimiter(maxBytes: number | undefined, onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer | string, _enc, cb) {
      total += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      onBytes(total);
      if (maxBytes !== undefined && total > maxBytes) cb(new ObjectTooLargeError(maxBytes));
      else cb(null, chunk);
    },
  });
}

/**
 * Objects as files under a root directory: key `a/b/c` is the file `<root>/a/b/c`.
 * Writes go to a temp file in the target's directory and are renamed into place, so readers
 * only ever see complete objects and a failed write leaves nothing behind.
 *
 * Limitation: contentType is not persisted (stat returns only the size); RagNest keeps MIME types in its database.
 * A key cannot be both an object and a "directory" of other keys (`a` and `a/b`), unlike S3; RagNest's keys never are.
 */
export class LocalObjectStorage implements ObjectStorage {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly fsync: boolean;

  constructor(opts: LocalObjectStorageOptions) {
    if (!opts.root) throw new Error('LocalObjectStorage: root is required');
    this.root = resolve(opts.root);
    this.fsync = opts.fsync ?? true;
  }

  /** Creates the root directory. Optional: put creates directories as needed. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  private pathFor(key: string, segs: string[]): string {
    const p = join(this.root, ...segs);
    if (!p.startsWith(this.root + sep)) throw new InvalidObjectKeyError(key, 'resolves outside the storage root');
    return p;
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<ObjectInfo> {
    try {
      return await this.putFile(key, body, opts);
    } catch (err) {
      // put owns the body: a rejected write never leaves the caller's stream paused and open
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw err;
    }
  }

  private async putFile(key: string, body: Readable | Buffer, opts: PutOptions): Promise<ObjectInfo> {
    const target = this.pathFor(key, keySegments(key));
    const { maxBytes } = opts;
    checkMaxBytes(maxBytes);
    if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) {
      throw new ObjectTooLargeError(maxBytes);
    }
    const dir = dirname(target);
    const tmp = join(dir, `.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);

    let fh: FileHandle | undefined;
    // A concurrent delete may prune the (momentarily empty) directory between mkdir and open: retry.
    for (let attempt = 0; ; attempt++) {
      await mkdir(dir, { recursive: true });
      try {
        fh = await open(tmp, 'wx', 0o644);
        break;
      } catch (err) {
        if (errCode(err) === 'ENOENT' && attempt < 5) continue;
        throw err;
      }
    }

    let size = 0;
    try {
      if (Buffer.isBuffer(body)) {
        await fh.writeFile(body);
        size = body.length;
      } else {
        await pipeline(
          body,
          byteLimiter(maxBytes, (n) => (size = n)),
          fileSink(fh),
        );
      }
      if (this.fsync) await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, target);
    } catch (err) {
      if (fh) await fh.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    return opts.contentType === undefined ? { size } : { size, contentType: opts.contentType };
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    const p = this.pathFor(key, keySegments(key));
    if (range) checkRange(range);
    let fh: FileHandle;
    try {
      fh = await open(p, 'r');
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new ObjectNotFoundError(key);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new ObjectNotFoundError(key);
      const start = range?.start ?? 0;
      const end = Math.min(range?.end ?? st.size, st.size); // exclusive
      if (start >= end) {
        await fh.close();
        return emptyStream();
      }
      // The open descriptor pins this version of the object even if it is replaced or deleted meanwhile.
      return fh.createReadStream({ start, end: end - 1, autoClose: true });
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const p = this.pathFor(key, keySegments(key));
    try {
      const st = await stat(p);
      return st.isFile() ? { size: st.size } : null;
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.pathFor(key, keySegments(key));
    try {
      await unlink(p);
    } catch (err) {
      const code = errCode(err);
      // Missing object, or a "directory" (not an object): nothing to delete.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EPERM') {
        if (code === 'EPERM' && !(await lstat(p).then((s) => s.isDirectory(), () => false))) throw err;
        return;
      }
      throw err;
    }
    await this.prune(dirname(p));
  }

  async deletePrefix(prefix: string): Promise<void> {
    const { dirs, namePrefix } = prefixParts(prefix);
    const base = dirs.length === 0 ? this.root : this.pathFor(prefix, dirs);
    if (namePrefix === '') {
      // "a/b/": the directory a/b and everything below it (but not an object named exactly "a/b").
      const st = await lstat(base).catch(() => null);
      if (st?.isDirectory()) await rm(base, { recursive: true, force: true });
    } else {
      let names: string[];
      try {
        names = await readdir(base);
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw err;
      }
      for (const name of names) {
        if (name.startsWith(namePrefix) && !name.endsWith(TEMP_SUFFIX)) {
          await rm(join(base, name), { recursive: true, force: true });
        }
      }
    }
    await this.prune(namePrefix === '' ? dirname(base) : base);
  }

  /** Removes now-empty directories from `dir` up to (not including) the root. */
  private async prune(dir: string): Promise<void> {
    let d = dir;
    while (d.startsWith(this.root + sep)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (or already gone / racing a put): stop
      }
      d = dirname(d);
    }
  }

  async health(): Promise<void> {
    const probe = join(this.root, `.health-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    try {
      await mkdir(this.root, { recursive: true });
      const fh = await open(probe, 'wx', 0o600);
      try {
        await fh.writeFile('ok');
      } finally {
        await fh.close();
      }
      await unlink(probe);
    } catch (err) {
      await rm(probe, { force: true }).catch(() => undefined);
      throw new Error(
        `local object storage at ${this.root} is not writable: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  async close(): Promise<void> {}
}
