import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import { LocalObjectStorage, MinioObjectStorage, parseS3Endpoint } from '../../src/index.js';
import { objectStorageConformance } from '../conformance.js';

/** Every file under dir whose name marks it as an in-flight temp file. */
async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ragnest-tmp')).map((e) => join(e.parentPath, e.name));
}

objectStorageConformance(
  'LocalObjectStorage',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ragnest-storage-'));
    const storage = new LocalObjectStorage({ root: join(dir, 'objects') });
    await storage.init();
    return {
      storage,
      leftovers: () => tempFiles(dir),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { persistsContentType: false, largeObjectBytes: 3 * 1024 * 1024 + 123 },
);

const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET, S3_REGION } = process.env;
if (S3_ENDPOINT && S3_ACCESS_KEY && S3_SECRET_KEY && S3_BUCKET) {
  const ep = parseS3Endpoint(S3_ENDPOINT);
  const raw = new Client({ ...ep, accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, ...(S3_REGION ? { region: S3_REGION } : {}) });
  objectStorageConformance(
    `MinioObjectStorage at ${S3_ENDPOINT}`,
    async () => {
      // Each test works in its own namespace of the configured bucket and removes it afterwards.
      const keyPrefix = `ragnest-conformance-${randomBytes(6).toString('hex')}/`;
      const storage = new MinioObjectStorage({
        ...ep,
        accessKey: S3_ACCESS_KEY,
        secretKey: S3_SECRET_KEY,
        bucket: S3_BUCKET,
        ...(S3_REGION ? { region: S3_REGION } : {}),
        keyPrefix,
        partSize: 5 * 1024 * 1024,
      });
      await storage.init();
      const list = async <T>(s: NodeJS.ReadableStream): Promise<T[]> => {
        const out: T[] = [];
        for await (const x of s as AsyncIterable<T>) out.push(x);
        return out;
      };
      return {
        storage,
        leftovers: async () =>
          (await list<{ key: string }>(raw.listIncompleteUploads(S3_BUCKET, keyPrefix, true))).map((u) => u.key),
        cleanup: async () => {
          const names = (await list<{ name?: string }>(raw.listObjectsV2(S3_BUCKET, keyPrefix, true)))
            .map((o) => o.name)
            .filter((n): n is string => !!n);
          if (names.length) await raw.removeObjects(S3_BUCKET, names);
        },
      };
    },
    { persistsContentType: true, largeObjectBytes: 11 * 1024 * 1024 + 321 },
  );
} else {
  test.skip('MinioObjectStorage conformance skipped: S3_ENDPOINT not set (needs S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET)', () => {});
}
