import { checkRange, keySegments, prefixParts } from '../../src/keys.js';
import { InvalidObjectKeyError, parseS3Endpoint } from '../../src/index.js';

describe('key validation', () => {
  test('accepts RagNest keys', () => {
    expect(keySegments('ds1/doc1')).toEqual(['ds1', 'doc1']);
    expect(keySegments('ds1/images/chunk-1.png')).toEqual(['ds1', 'images', 'chunk-1.png']);
    expect(keySegments('数据集/文档')).toEqual(['数据集', '文档']);
    expect(keySegments('.hidden-ok')).toEqual(['.hidden-ok']);
  });

  test.each([
    ['', /empty key/],
    ['/a', /absolute/],
    ['a/', /empty path segment/],
    ['a//b', /empty path segment/],
    ['..', /".." segment/],
    ['a/./b', /"." segment/],
    ['a\0b', /control character/],
    ['a\\..\\b', /backslash/],
    ['x'.repeat(256), /segment longer/],
    ['a/'.repeat(600) + 'b', /longer than 1024/],
    ['ds/doc.ragnest-tmp', /reserved suffix/],
  ])('rejects %j', (key, why) => {
    expect(() => keySegments(key)).toThrow(InvalidObjectKeyError);
    expect(() => keySegments(key)).toThrow(why);
  });

  test('prefixes', () => {
    expect(prefixParts('ds1/')).toEqual({ dirs: ['ds1'], namePrefix: '' });
    expect(prefixParts('ds1/images/c')).toEqual({ dirs: ['ds1', 'images'], namePrefix: 'c' });
    expect(prefixParts('ds')).toEqual({ dirs: [], namePrefix: 'ds' });
    expect(() => prefixParts('')).toThrow(/empty prefix/);
    expect(() => prefixParts('../')).toThrow(InvalidObjectKeyError);
    expect(() => prefixParts('a/..')).toThrow(InvalidObjectKeyError);
  });

  test('ranges', () => {
    expect(() => checkRange({ start: 0 })).not.toThrow();
    expect(() => checkRange({ start: 3, end: 3 })).not.toThrow();
    expect(() => checkRange({ start: 1.5 })).toThrow(RangeError);
    expect(() => checkRange({ start: 4, end: 3 })).toThrow(RangeError);
    expect(() => checkRange({ start: Number.NaN })).toThrow(RangeError);
  });
});

describe('parseS3Endpoint', () => {
  test.each([
    ['http://minio:9000', { endPoint: 'minio', port: 9000, useSSL: false }],
    ['https://s3.example.com', { endPoint: 's3.example.com', port: 443, useSSL: true }],
    ['http://127.0.0.1', { endPoint: '127.0.0.1', port: 80, useSSL: false }],
    ['http://[::1]:9000/', { endPoint: '::1', port: 9000, useSSL: false }],
  ])('%s', (url, expected) => {
    expect(parseS3Endpoint(url)).toEqual(expected);
  });

  test.each(['minio:9000', 'ftp://x', 'http://x:9000/bucket', 'not a url', 'http://u:p@x'])('rejects %s', (url) => {
    expect(() => parseS3Endpoint(url)).toThrow(/invalid S3 endpoint/);
  });
});

describe('createObjectStorage', () => {
  test('chooses MinIO when s3 is configured, without contacting it', async () => {
    const { createObjectStorage, MinioObjectStorage } = await import('../../src/index.js');
    const s = createObjectStorage({
      dataDir: '/nonexistent',
      s3: { endpoint: 'http://127.0.0.1:9', accessKey: 'a', secretKey: 'b', bucket: 'ragnest' },
    });
    expect(s).toBeInstanceOf(MinioObjectStorage);
    expect(s.kind).toBe('minio');
    expect(typeof s.init).toBe('function');
    await expect(s.health()).rejects.toThrow(/MinIO at http:\/\/127\.0\.0\.1:9 is unreachable/);
  });

  test('rejects a malformed endpoint', async () => {
    const { createObjectStorage } = await import('../../src/index.js');
    expect(() =>
      createObjectStorage({ dataDir: '/x', s3: { endpoint: 'minio:9000', accessKey: 'a', secretKey: 'b', bucket: 'b' } }),
    ).toThrow(/invalid S3 endpoint/);
  });
});
