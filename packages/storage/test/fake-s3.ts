/**
 * An in-memory stand-in for the parts of the minio-js Client that MinioObjectStorage uses, following S3
 * semantics where the adapter depends on them: errors carry S3 codes (NoSuchKey on GET, NotFound on HEAD,
 * InvalidRange for a range starting past the end), multipart parts other than the last must be >= 5 MiB,
 * objects appear only at CompleteMultipartUpload, and DeleteObjects takes at most 1000 keys.
 */
import { Readable } from 'node:stream';
import type { MinioClientLike } from '../src/index.js';

class FakeS3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

interface Stored {
  data: Buffer;
  contentType: string;
}

export class FakeS3 {
  readonly buckets = new Set<string>();
  readonly objects = new Map<string, Stored>();
  readonly uploads = new Map<string, { name: string; contentType: string; parts: Map<number, Buffer> }>();
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** Make a method throw instead of running. */
  failures = new Map<string, Error>();
  /** DeleteObjects reports these keys as failed. */
  undeletable = new Set<string>();
  private nextUpload = 1;

  private record(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    const f = this.failures.get(method);
    if (f) throw f;
  }

  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  private bucketCheck(bucket: string): void {
    if (!this.buckets.has(bucket)) throw new FakeS3Error('NoSuchBucket', 'The specified bucket does not exist');
  }

  readonly client = {
    bucketExists: async (bucket: string): Promise<boolean> => {
      this.record('bucketExists', [bucket]);
      return this.buckets.has(bucket);
    },
    makeBucket: async (bucket: string): Promise<void> => {
      this.record('makeBucket', [bucket]);
      if (this.buckets.has(bucket)) throw new FakeS3Error('BucketAlreadyOwnedByYou', 'exists');
      this.buckets.add(bucket);
    },
    putObject: async (bucket: string, name: string, body: unknown, size?: number, meta?: Record<string, string>) => {
      this.record('putObject', [bucket, name, body, size, meta]);
      this.bucketCheck(bucket);
      if (!Buffer.isBuffer(body)) throw new Error('fake: adapter must hand putObject a Buffer');
      if (size !== body.length) throw new Error('fake: size mismatch');
      this.objects.set(name, { data: Buffer.from(body), contentType: meta?.['Content-Type'] ?? 'application/octet-stream' });
      return { etag: 'e', versionId: null };
    },
    initiateNewMultipartUpload: async (bucket: string, name: string, headers: Record<string, string>) => {
      this.record('initiateNewMultipartUpload', [bucket, name, headers]);
      this.bucketCheck(bucket);
      const id = `upload-${this.nextUpload++}`;
      this.uploads.set(id, {
        name,
        contentType: headers['Content-Type'] ?? 'application/octet-stream',
        parts: new Map(),
      });
      return id;
    },
    uploadPart: async (
      cfg: { bucketName: string; objectName: string; uploadID: string; partNumber: number },
      payload?: unknown,
    ) => {
      this.record('uploadPart', [cfg, (payload as Buffer).length]);
      const up = this.uploads.get(cfg.uploadID);
      if (!up || up.name !== cfg.objectName) throw new FakeS3Error('NoSuchUpload', 'no such upload');
      up.parts.set(cfg.partNumber, Buffer.from(payload as Buffer));
      return { etag: `etag-${cfg.partNumber}`, key: cfg.objectName, part: cfg.partNumber };
    },
    completeMultipartUpload: async (
      bucket: string,
      name: string,
      uploadId: string,
      etags: { part: number; etag?: string }[],
    ) => {
      this.record('completeMultipartUpload', [bucket, name, uploadId, etags]);
      const up = this.uploads.get(uploadId);
      if (!up) throw new FakeS3Error('NoSuchUpload', 'no such upload');
      const bufs: Buffer[] = [];
      etags.forEach((e, i) => {
        const part = up.parts.get(e.part);
        if (!part || e.etag !== `etag-${e.part}`) throw new FakeS3Error('InvalidPart', `part ${e.part}`);
        if (i > 0 && (etags[i - 1]?.part ?? 0) >= e.part) throw new FakeS3Error('InvalidPartOrder', 'order');
        if (i < etags.length - 1 && part.length < 5 * 1024 * 1024) throw new FakeS3Error('EntityTooSmall', 'small');
        bufs.push(part);
      });
      this.uploads.delete(uploadId);
      this.objects.set(name, { data: Buffer.concat(bufs), contentType: up.contentType });
      return { etag: 'e', versionId: null };
    },
    abortMultipartUpload: async (bucket: string, name: string, uploadId: string) => {
      this.record('abortMultipartUpload', [bucket, name, uploadId]);
      this.uploads.delete(uploadId);
    },
    getObject: async (bucket: string, name: string) => {
      this.record('getObject', [bucket, name]);
      this.bucketCheck(bucket);
      const o = this.objects.get(name);
      if (!o) throw new FakeS3Error('NoSuchKey', 'The specified key does not exist.');
      return Readable.from([o.data]);
    },
    getPartialObject: async (bucket: string, name: string, offset: number, length = 0) => {
      this.record('getPartialObject', [bucket, name, offset, length]);
      this.bucketCheck(bucket);
      const o = this.objects.get(name);
      if (!o) throw new FakeS3Error('NoSuchKey', 'The specified key does not exist.');
      if (!offset && !length) return Readable.from([o.data]);
      if (offset >= o.data.length) throw new FakeS3Error('InvalidRange', 'The requested range is not satisfiable');
      const end = length ? Math.min(offset + length, o.data.length) : o.data.length;
      return Readable.from([o.data.subarray(offset, end)]);
    },
    statObject: async (bucket: string, name: string) => {
      this.record('statObject', [bucket, name]);
      this.bucketCheck(bucket);
      const o = this.objects.get(name);
      if (!o) throw new FakeS3Error('NotFound', 'Not Found');
      return { size: o.data.length, etag: 'e', lastModified: new Date(), metaData: { 'content-type': o.contentType } };
    },
    removeObject: async (bucket: string, name: string) => {
      this.record('removeObject', [bucket, name]);
      this.bucketCheck(bucket);
      this.objects.delete(name);
    },
    removeObjects: async (bucket: string, names: string[]) => {
      this.record('removeObjects', [bucket, names.length]);
      this.bucketCheck(bucket);
      if (names.length > 1000) throw new FakeS3Error('MalformedXML', 'too many keys');
      const errors: { Code: string; Message: string; Key: string }[] = [];
      for (const n of names) {
        if (this.undeletable.has(n)) errors.push({ Code: 'AccessDenied', Message: 'Access Denied', Key: n });
        else this.objects.delete(n);
      }
      return errors; // minio-js returns DeleteResult.Error entries as-is
    },
    listObjectsV2: (bucket: string, prefix = '', recursive = false) => {
      this.record('listObjectsV2', [bucket, prefix, recursive]);
      if (!recursive) throw new Error('fake: adapter must list recursively');
      // Snapshot like paginated listing: deleting while iterating must not skip anything.
      const names = [...this.objects.keys()].filter((n) => n.startsWith(prefix)).sort();
      return Readable.from(names.map((name) => ({ name, size: this.objects.get(name)?.data.length ?? 0 })));
    },
  };

  asClient(): MinioClientLike {
    return this.client as unknown as MinioClientLike;
  }
}
