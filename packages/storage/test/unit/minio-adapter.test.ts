import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MinioObjectStorage, ObjectNotFoundError, ObjectTooLargeError } from '../../src/index.js';
import { byteStream, objectStorageConformance, readAll } from '../conformance.js';
import { FakeS3 } from '../fake-s3.js';

const MiB = 1024 * 1024;

function make(fake = new FakeS3(), extra: { keyPrefix?: string; partSize?: number } = {}): MinioObjectStorage {
  return new MinioObjectStorage({
    endPoint: 'minio.invalid',
    port: 9000,
    useSSL: false,
    accessKey: 'a',
    secretKey: 'b',
    bucket: 'ragnest',
    client: fake.asClient(),
    partSize: 5 * MiB,
    ...extra,
  });
}

// The adapter's logic (multipart, abort, error-code mapping, batching) against an in-memory S3 double.
// This is not a MinIO test: the real server runs in test/integration when S3_ENDPOINT is set.
objectStorageConformance(
  'MinioObjectStorage over an in-memory S3 double',
  async () => {
    const fake = new FakeS3();
    const storage = make(fake, { keyPrefix: 'ns/' });
    await storage.init();
    return {
      storage,
      leftovers: async () => [
        ...[...fake.uploads.values()].map((u) => `upload:${u.name}`),
        ...[...fake.objects.keys()].filter((k) => !k.startsWith('ns/')).map((k) => `outside:${k}`),
      ],
      cleanup: async () => {},
    };
  },
  { persistsContentType: true, largeObjectBytes: 11 * MiB + 321 },
);

describe('MinioObjectStorage specifics', () => {
  test('init creates the bucket only when missing', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    await s.init();
    expect(fake.buckets.has('ragnest')).toBe(true);
    expect(fake.count('makeBucket')).toBe(1);
  });

  test('a streamed object below the part size is one PUT with its content type', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    const data = randomBytes(MiB);
    await s.put('ds/doc', byteStream(data, 1000), { contentType: 'application/pdf' });
    expect(fake.count('putObject')).toBe(1);
    expect(fake.count('initiateNewMultipartUpload')).toBe(0);
    expect(fake.calls.find((c) => c.method === 'putObject')?.args[4]).toEqual({ 'Content-Type': 'application/pdf' });
  });

  test('a large stream is uploaded in order as full-size parts plus a remainder', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    const data = randomBytes(12 * MiB + 7);
    await s.put('ds/doc', byteStream(data, 300_000), { contentType: 'text/plain' });
    const parts = fake.calls.filter((c) => c.method === 'uploadPart').map((c) => c.args[1]);
    expect(parts).toEqual([5 * MiB, 5 * MiB, 2 * MiB + 7]);
    expect(fake.count('completeMultipartUpload')).toBe(1);
    expect(fake.objects.get('ds/doc')?.data.equals(data)).toBe(true);
    expect((await s.stat('ds/doc'))?.contentType).toBe('text/plain');
  });

  test('exceeding maxBytes after parts were uploaded aborts the multipart upload', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    const src = byteStream(randomBytes(12 * MiB), 256 * 1024);
    await expect(s.put('ds/doc', src, { maxBytes: 11 * MiB })).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(fake.count('uploadPart')).toBe(2);
    expect(fake.count('abortMultipartUpload')).toBe(1);
    expect(fake.count('completeMultipartUpload')).toBe(0);
    expect(fake.uploads.size).toBe(0);
    expect(src.destroyed).toBe(true);
  });

  test('a failing part upload aborts and surfaces the error', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    fake.failures.set('uploadPart', new Error('connection reset'));
    await expect(s.put('ds/doc', byteStream(randomBytes(6 * MiB)))).rejects.toThrow('connection reset');
    expect(fake.count('abortMultipartUpload')).toBe(1);
    expect(fake.objects.size).toBe(0);
  });

  test('get maps S3 errors: NoSuchKey → ObjectNotFoundError, InvalidRange → empty', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    await expect(s.get('ds/none')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await s.put('ds/x', Buffer.from('abc'));
    expect((await readAll(await s.get('ds/x', { start: 3 }))).length).toBe(0);
    fake.failures.set('getObject', Object.assign(new Error('Access Denied'), { code: 'AccessDenied' }));
    await expect(s.get('ds/x')).rejects.toThrow('Access Denied');
  });

  test('stat rethrows errors other than not-found', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    fake.failures.set('statObject', Object.assign(new Error('SlowDown'), { code: 'SlowDown' }));
    await expect(s.stat('ds/x')).rejects.toThrow('SlowDown');
  });

  test('deletePrefix lists under the namespace and deletes in batches of 1000', async () => {
    const fake = new FakeS3();
    const s = make(fake, { keyPrefix: 'env1/' });
    await s.init();
    for (let i = 0; i < 2500; i++) fake.objects.set(`env1/ds1/c${i}`, { data: Buffer.alloc(0), contentType: '' });
    fake.objects.set('env1/ds2/keep', { data: Buffer.alloc(0), contentType: '' });
    fake.objects.set('ds1/c1', { data: Buffer.alloc(0), contentType: '' }); // outside the namespace
    await s.deletePrefix('ds1/');
    expect(fake.calls.filter((c) => c.method === 'removeObjects').map((c) => c.args[1])).toEqual([1000, 1000, 500]);
    expect([...fake.objects.keys()].sort()).toEqual(['ds1/c1', 'env1/ds2/keep']);
  });

  test('deletePrefix reports per-object failures', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    await s.put('ds1/a', Buffer.from('a'));
    await s.put('ds1/b', Buffer.from('b'));
    fake.undeletable.add('ds1/b');
    await expect(s.deletePrefix('ds1/')).rejects.toThrow(/failed to delete 1 object.*ds1\/b: AccessDenied/);
  });

  test('health creates a missing bucket, and explains when it cannot or the server is unreachable', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    fake.failures.set('makeBucket', Object.assign(new Error('Access Denied.'), { code: 'AccessDenied' }));
    await expect(s.health()).rejects.toThrow(
      'MinIO at http://minio.invalid:9000: bucket "ragnest" does not exist and could not be created',
    );
    fake.failures.delete('makeBucket');
    await expect(s.health()).resolves.toBeUndefined();
    expect(fake.buckets.has('ragnest')).toBe(true);
    fake.failures.set('bucketExists', new Error('connect ECONNREFUSED 127.0.0.1:9000'));
    await expect(s.health()).rejects.toThrow(/MinIO at http:\/\/minio.invalid:9000 is unreachable.*ECONNREFUSED/);
  });

  test('a write creates the bucket if init() never succeeded (backend was down at boot)', async () => {
    const small = new FakeS3();
    await make(small).put('ds/a', Buffer.from('a'));
    expect(small.objects.get('ds/a')?.data.toString()).toBe('a');
    const big = new FakeS3();
    const data = randomBytes(6 * MiB);
    await make(big).put('ds/b', byteStream(data));
    expect(big.objects.get('ds/b')?.data.equals(data)).toBe(true);
    expect(big.count('makeBucket')).toBe(1);
  });

  test('rejects a keyPrefix without a trailing slash', () => {
    expect(() => make(new FakeS3(), { keyPrefix: 'env1' })).toThrow(/keyPrefix/);
  });

  test('string chunks are accepted', async () => {
    const fake = new FakeS3();
    const s = make(fake);
    await s.init();
    await s.put('ds/t', Readable.from(['héllo', ' wörld']));
    expect((await readAll(await s.get('ds/t'))).toString()).toBe('héllo wörld');
  });
});
