/**
 * Behaviour every ObjectStorage adapter must have. Call from a *.test.ts file with a factory that
 * returns a fresh, empty storage for each test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidObjectKeyError, ObjectNotFoundError, ObjectTooLargeError } from '../src/index.js';
import type { ObjectStorage } from '../src/index.js';

export interface ConformanceHarness {
  storage: ObjectStorage;
  /** Anything the adapter left behind besides complete objects (temp files, unfinished multipart uploads). */
  leftovers?: () => Promise<string[]>;
  cleanup: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Does stat() return the contentType given to put()? */
  persistsContentType: boolean;
  /** Size for the "large streamed object" cases; pick it above the adapter's part size to cover multipart. */
  largeObjectBytes: number;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A stream of `total` bytes in `chunk`-sized pieces, optionally failing after `failAfter` bytes. */
export function byteStream(data: Buffer, chunk = 64 * 1024, failAfter?: number): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && off >= failAfter) {
        this.destroy(new Error('source failed'));
        return;
      }
      if (off >= data.length) {
        this.push(null);
        return;
      }
      const piece = data.subarray(off, off + chunk);
      off += piece.length;
      this.push(piece);
    },
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function objectStorageConformance(
  name: string,
  makeHarness: () => Promise<ConformanceHarness>,
  opts: ConformanceOptions,
): void {
  describe(`ObjectStorage conformance: ${name}`, () => {
    let h: ConformanceHarness;
    let s: ObjectStorage;
    beforeEach(async () => {
      h = await makeHarness();
      s = h.storage;
    });
    afterEach(async () => {
      await h.cleanup();
    });
    const expectNoLeftovers = async (): Promise<void> => {
      if (h.leftovers) expect(await h.leftovers()).toEqual([]);
    };

    test('put(Buffer) then get/stat round-trips bytes and size', async () => {
      const data = Buffer.from('hello, 世界\n');
      const info = await s.put('ds1/doc1', data, { contentType: 'text/plain' });
      expect(info.size).toBe(data.length);
      expect(info.contentType).toBe('text/plain');
      expect(await readAll(await s.get('ds1/doc1'))).toEqual(data);
      const st = await s.stat('ds1/doc1');
      expect(st?.size).toBe(data.length);
      if (opts.persistsContentType) expect(st?.contentType).toBe('text/plain');
    });

    test('put(stream) of a large object round-trips exactly', async () => {
      const data = randomBytes(opts.largeObjectBytes);
      const info = await s.put('ds1/big', byteStream(data, 256 * 1024));
      expect(info.size).toBe(data.length);
      const back = await readAll(await s.get('ds1/big'));
      expect(back.length).toBe(data.length);
      expect(sha(back)).toBe(sha(data));
      expect((await s.stat('ds1/big'))?.size).toBe(data.length);
      await expectNoLeftovers();
    });

    test('empty object', async () => {
      expect((await s.put('ds1/empty', Buffer.alloc(0))).size).toBe(0);
      expect((await s.stat('ds1/empty'))?.size).toBe(0);
      expect((await readAll(await s.get('ds1/empty'))).length).toBe(0);
      expect((await s.put('ds1/empty2', Readable.from([]))).size).toBe(0);
      expect((await s.stat('ds1/empty2'))?.size).toBe(0);
    });

    test('put overwrites an existing object', async () => {
      await s.put('ds1/doc', Buffer.from('first version, longer'));
      await s.put('ds1/doc', Buffer.from('second'));
      expect((await readAll(await s.get('ds1/doc'))).toString()).toBe('second');
      expect((await s.stat('ds1/doc'))?.size).toBe(6);
    });

    test('missing objects: get rejects with ObjectNotFoundError, stat is null, delete is a no-op', async () => {
      await expect(s.get('ds1/nope')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(s.get('ds1/nope', { start: 2, end: 5 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(s.get('nodir/deeper/nope')).rejects.toMatchObject({ key: 'nodir/deeper/nope' });
      expect(await s.stat('ds1/nope')).toBeNull();
      await expect(s.delete('ds1/nope')).resolves.toBeUndefined();
    });

    test('delete removes the object', async () => {
      await s.put('ds1/a', Buffer.from('a'));
      await s.put('ds1/b', Buffer.from('b'));
      await s.delete('ds1/a');
      expect(await s.stat('ds1/a')).toBeNull();
      await expect(s.get('ds1/a')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect((await readAll(await s.get('ds1/b'))).toString()).toBe('b');
    });

    test('byte ranges: inclusive start, exclusive end, clamped to the object', async () => {
      const data = Buffer.from('0123456789');
      await s.put('ds1/r', data);
      const get = async (range: { start: number; end?: number }): Promise<string> =>
        (await readAll(await s.get('ds1/r', range))).toString();
      expect(await get({ start: 0 })).toBe('0123456789');
      expect(await get({ start: 3 })).toBe('3456789');
      expect(await get({ start: 0, end: 1 })).toBe('0');
      expect(await get({ start: 2, end: 5 })).toBe('234');
      expect(await get({ start: 9, end: 10 })).toBe('9');
      expect(await get({ start: 7, end: 100 })).toBe('789');
      expect(await get({ start: 4, end: 4 })).toBe('');
      expect(await get({ start: 10 })).toBe('');
      expect(await get({ start: 50, end: 60 })).toBe('');
      await expect(s.get('ds1/r', { start: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(s.get('ds1/r', { start: 5, end: 2 })).rejects.toBeInstanceOf(RangeError);
    });

    test('range inside a large object', async () => {
      const data = randomBytes(opts.largeObjectBytes);
      await s.put('ds1/big', byteStream(data, 1024 * 1024));
      const start = Math.floor(data.length / 2) - 1000;
      const got = await readAll(await s.get('ds1/big', { start, end: start + 5000 }));
      expect(got).toEqual(data.subarray(start, start + 5000));
    });

    test('deletePrefix removes a subtree and nothing else', async () => {
      const keys = ['ds1/doc1', 'ds1/doc2', 'ds1/images/c1', 'ds1/images/c2', 'ds10/doc1', 'ds2/doc1', 'ds2/images/c1'];
      for (const k of keys) await s.put(k, Buffer.from(k));
      await s.deletePrefix('ds1/images/');
      expect(await s.stat('ds1/images/c1')).toBeNull();
      expect(await s.stat('ds1/images/c2')).toBeNull();
      expect(await s.stat('ds1/doc1')).not.toBeNull();
      await s.deletePrefix('ds1/');
      for (const k of ['ds1/doc1', 'ds1/doc2']) expect(await s.stat(k)).toBeNull();
      for (const k of ['ds10/doc1', 'ds2/doc1', 'ds2/images/c1']) {
        expect((await readAll(await s.get(k))).toString()).toBe(k);
      }
      // a prefix of nothing is fine
      await expect(s.deletePrefix('nothing-here/')).resolves.toBeUndefined();
      // the space is reusable afterwards
      await s.put('ds1/doc1', Buffer.from('again'));
      expect((await readAll(await s.get('ds1/doc1'))).toString()).toBe('again');
    });

    test('deletePrefix without a trailing slash matches key prefixes like S3', async () => {
      for (const k of ['ds2/doc1', 'ds2/doc22', 'ds2/img', 'ds2/documents/x', 'ds3/doc1']) await s.put(k, Buffer.from(k));
      await s.deletePrefix('ds2/doc');
      expect(await s.stat('ds2/doc1')).toBeNull();
      expect(await s.stat('ds2/doc22')).toBeNull();
      expect(await s.stat('ds2/documents/x')).toBeNull();
      expect(await s.stat('ds2/img')).not.toBeNull();
      expect(await s.stat('ds3/doc1')).not.toBeNull();
    });

    test('deletePrefix refuses an empty prefix', async () => {
      await s.put('ds1/keep', Buffer.from('x'));
      await expect(s.deletePrefix('')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      expect(await s.stat('ds1/keep')).not.toBeNull();
    });

    test('maxBytes: exactly the limit is accepted', async () => {
      const data = randomBytes(1000);
      expect((await s.put('ds1/limit', byteStream(data, 100), { maxBytes: 1000 })).size).toBe(1000);
      expect((await s.put('ds1/limit-buf', data, { maxBytes: 1000 })).size).toBe(1000);
    });

    test('maxBytes: an oversized stream is rejected and leaves nothing behind', async () => {
      const data = randomBytes(5000);
      await expect(s.put('ds1/too-big', byteStream(data, 100), { maxBytes: 4999 })).rejects.toBeInstanceOf(
        ObjectTooLargeError,
      );
      expect(await s.stat('ds1/too-big')).toBeNull();
      await expect(s.get('ds1/too-big')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(s.put('ds1/too-big-buf', data, { maxBytes: 10 })).rejects.toBeInstanceOf(ObjectTooLargeError);
      expect(await s.stat('ds1/too-big-buf')).toBeNull();
      await expectNoLeftovers();
    });

    test('maxBytes: an oversized large stream (past the first part) leaves nothing behind', async () => {
      const data = randomBytes(opts.largeObjectBytes);
      const limit = opts.largeObjectBytes - 10;
      const err = await s.put('ds1/huge', byteStream(data, 256 * 1024), { maxBytes: limit }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectTooLargeError);
      expect((err as ObjectTooLargeError).limitBytes).toBe(limit);
      expect(await s.stat('ds1/huge')).toBeNull();
      await expectNoLeftovers();
    });

    test('a failed write keeps the previous version intact', async () => {
      await s.put('ds1/doc', Buffer.from('v1'));
      await expect(s.put('ds1/doc', byteStream(randomBytes(3000), 100), { maxBytes: 1000 })).rejects.toBeInstanceOf(
        ObjectTooLargeError,
      );
      await expect(s.put('ds1/doc', byteStream(randomBytes(3000), 100, 1500))).rejects.toThrow('source failed');
      expect((await readAll(await s.get('ds1/doc'))).toString()).toBe('v1');
      await expectNoLeftovers();
    });

    test('a source stream error rejects put and leaves nothing behind', async () => {
      await expect(s.put('ds1/broken', byteStream(randomBytes(3000), 100, 1000))).rejects.toThrow('source failed');
      expect(await s.stat('ds1/broken')).toBeNull();
      await expectNoLeftovers();
    });

    test('readers never see an in-flight write', async () => {
      await s.put('ds1/doc', Buffer.from('old'));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      async function* slow(): AsyncGenerator<Buffer> {
        yield Buffer.from('new-part-1;');
        await gate;
        yield Buffer.from('new-part-2');
      }
      const writing = s.put('ds1/doc', Readable.from(slow()));
      const fresh = s.put('ds1/fresh', Readable.from(slow()));
      await new Promise((r) => setTimeout(r, 50));
      expect((await readAll(await s.get('ds1/doc'))).toString()).toBe('old');
      expect((await s.stat('ds1/doc'))?.size).toBe(3);
      expect(await s.stat('ds1/fresh')).toBeNull();
      release();
      await Promise.all([writing, fresh]);
      expect((await readAll(await s.get('ds1/doc'))).toString()).toBe('new-part-1;new-part-2');
      expect((await readAll(await s.get('ds1/fresh'))).toString()).toBe('new-part-1;new-part-2');
    });

    test('concurrent writes to one key: the object is one complete version', async () => {
      const a = Buffer.alloc(200_000, 'a');
      const b = Buffer.alloc(300_000, 'b');
      await Promise.all([s.put('ds1/race', byteStream(a, 1000)), s.put('ds1/race', byteStream(b, 1000))]);
      const got = (await readAll(await s.get('ds1/race'))).toString();
      expect(got === a.toString() || got === b.toString()).toBe(true);
      await expectNoLeftovers();
    });

    test.each(['../escape', '/abs/path', 'a//b', 'a/./b', 'a/../../b', 'trailing/', '', 'nul\0byte', 'back\\slash'])(
      'rejects unsafe key %j',
      async (key) => {
        await expect(s.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidObjectKeyError);
        const body = byteStream(Buffer.from('x'));
        await expect(s.put(key, body)).rejects.toBeInstanceOf(InvalidObjectKeyError);
        expect(body.destroyed).toBe(true); // a rejected put never leaves the caller's stream open
        await expect(s.get(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(s.stat(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(s.delete(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      },
    );

    test.each(['../', '/abs/', 'a//', 'a/../b/'])('deletePrefix rejects unsafe prefix %j', async (prefix) => {
      await expect(s.deletePrefix(prefix)).rejects.toBeInstanceOf(InvalidObjectKeyError);
    });

    test('health resolves for a working backend', async () => {
      await expect(s.health()).resolves.toBeUndefined();
      await expectNoLeftovers();
    });
  });
}
