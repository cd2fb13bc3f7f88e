import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createObjectStorage, InvalidObjectKeyError, LocalObjectStorage } from '../../src/index.js';
import { readAll } from '../conformance.js';

describe('LocalObjectStorage specifics', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ragnest-local-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('objects are plain files under the root at the key path', async () => {
    const s = new LocalObjectStorage({ root: join(dir, 'root') });
    await s.put('ds1/images/c1', Buffer.from('img'));
    expect((await stat(join(dir, 'root', 'ds1', 'images', 'c1'))).size).toBe(3);
  });

  test('traversal attempts write nothing outside the root', async () => {
    const root = join(dir, 'root');
    const s = new LocalObjectStorage({ root });
    await s.init();
    for (const key of ['../outside', 'a/../../outside', '/tmp/outside', '..', '.']) {
      await expect(s.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidObjectKeyError);
    }
    expect((await readdir(dir)).sort()).toEqual(['root']);
    expect(await readdir(root)).toEqual([]);
  });

  test('delete and deletePrefix prune directories they emptied, not the root', async () => {
    const root = join(dir, 'root');
    const s = new LocalObjectStorage({ root });
    await s.put('ds1/images/c1', Buffer.from('x'));
    await s.put('ds2/doc', Buffer.from('y'));
    await s.delete('ds1/images/c1');
    expect(await readdir(root)).toEqual(['ds2']);
    await s.deletePrefix('ds2/');
    expect(await readdir(root)).toEqual([]);
    await s.put('ds3/doc', Buffer.from('z'));
    await s.deletePrefix('ds3/d');
    expect(await readdir(root)).toEqual([]);
  });

  test('deletePrefix "a/b/" keeps an object named exactly "a/b"', async () => {
    const s = new LocalObjectStorage({ root: join(dir, 'root') });
    await s.put('ds1/doc', Buffer.from('keep'));
    await s.deletePrefix('ds1/doc/');
    expect((await readAll(await s.get('ds1/doc'))).toString()).toBe('keep');
  });

  test('a reader that opened an object keeps reading that version while it is replaced and deleted', async () => {
    const s = new LocalObjectStorage({ root: join(dir, 'root') });
    const v1 = Buffer.alloc(1 << 20, 1);
    await s.put('ds1/doc', v1);
    const reading = await s.get('ds1/doc');
    await s.put('ds1/doc', Buffer.alloc(10, 2));
    await s.delete('ds1/doc');
    expect((await readAll(reading)).equals(v1)).toBe(true);
  });

  test('a key whose parent is an object fails cleanly and leaves no temp file', async () => {
    const s = new LocalObjectStorage({ root: join(dir, 'root') });
    await s.put('ds1/doc', Buffer.from('x'));
    await expect(s.put('ds1/doc/child', Readable.from([Buffer.from('y')]))).rejects.toThrow();
    expect(await readdir(join(dir, 'root', 'ds1'))).toEqual(['doc']);
    expect(await s.stat('ds1/doc/child')).toBeNull();
    await expect(s.get('ds1/doc/child')).rejects.toMatchObject({ name: 'ObjectNotFoundError' });
  });

  test('stat/get treat a "directory" key as not found', async () => {
    const s = new LocalObjectStorage({ root: join(dir, 'root') });
    await s.put('ds1/images/c1', Buffer.from('x'));
    expect(await s.stat('ds1/images')).toBeNull();
    await expect(s.get('ds1/images')).rejects.toMatchObject({ name: 'ObjectNotFoundError' });
    await s.delete('ds1/images'); // not an object: no-op
    expect(await s.stat('ds1/images/c1')).not.toBeNull();
  });

  test('health rejects with a readable reason when the root is unusable', async () => {
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    const s = new LocalObjectStorage({ root: join(file, 'objects') });
    await expect(s.health()).rejects.toThrow(/local object storage at .*not-a-dir.* is not writable/);
  });

  test('createObjectStorage without s3 uses <dataDir>/objects', async () => {
    const s = createObjectStorage({ dataDir: dir });
    expect(s.kind).toBe('local');
    await s.init();
    expect((s as LocalObjectStorage).root).toBe(join(dir, 'objects'));
    expect((await stat(join(dir, 'objects'))).isDirectory()).toBe(true);
    await s.put('k/v', Buffer.from('1'));
    expect((await stat(join(dir, 'objects', 'k', 'v'))).isFile()).toBe(true);
    await s.close();
  });
});
