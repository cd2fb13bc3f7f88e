import { Client } from 'minio';
import { Readable } from 'node:stream';
import { checkMaxBytes, checkRange, keySegments, prefixParts } from './keys.js';
import type { ObjectInfo, ObjectStorage, PutOptions } from './port.js';
import { ObjectNotFoundError, ObjectTooLargeError } from './port.js';

/** The subset of the `minio` Client this adapter uses (lets tests substitute a fake). */
export type MinioClientLike = Pick<
  Client,
  | 'bucketExists'
  | 'makeBucket'
  | 'putObject'
  | 'initiateNewMultipartUpload'
  | 'uploadPart'
  | 'completeMultipartUpload'
  | 'abortMultipartUpload'
  | 'getObject'
  | 'getPartialObject'
  | 'statObject'
  | 'removeObject'
  | 'removeObjects'
  | 'listObjectsV2'
>;

export interface MinioObjectStorageOptions {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region?: string;
  /**
   * Bytes buffered per multipart part (default 16 MiB, min 5 MiB as S3 requires). A streamed object smaller
   * than this is sent with one PUT; a larger one as a multipart upload that is aborted on any failure.
   */
  partSize?: number;
  /**
   * Namespace inside the bucket, e.g. `ragnest/` (must end with '/'): every key is stored as keyPrefix + key.
   * Lets several deployments or test runs share one bucket.
   */
  keyPrefix?: string;
  /** Use this client instead of constructing one (tests). */
  client?: MinioClientLike;
}

const MIN_PART = 5 * 1024 * 1024;
const DEFAULT_PART = 16 * 1024 * 1024;
/** S3 DeleteObjects accepts at most 1000 keys per request. */
const DELETE_BATCH = 1000;

function s3Code(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

function emptyStream(): Readable {
  const r = new Readable({ read() {} });
  r.push(null);
  return r;
}

/**
 * Objects in one S3/MinIO bucket (created by init() if missing).
 *
 * Streaming puts do their own multipart handling instead of `putObject(stream)`: minio-js 8 neither listens for
 * errors on the source stream (a failing/over-limit stream would hang or crash the process) nor aborts its
 * multipart upload on failure. Here an upload is completed only after the whole body arrived within the limit,
 * and aborted otherwise, so S3's atomic-completion guarantee means no partial object is ever visible.
 */
export class MinioObjectStorage implements ObjectStorage {
  readonly kind = 'minio' as const;
  readonly bucket: string;
  private readonly client: MinioClientLike;
  private readonly region: string | undefined;
  private readonly partSize: number;
  private readonly where: string;
  private readonly keyPrefix: string;

  constructor(opts: MinioObjectStorageOptions) {
    if (!opts.bucket) throw new Error('MinioObjectStorage: bucket is required');
    this.bucket = opts.bucket;
    this.keyPrefix = opts.keyPrefix ?? '';
    if (this.keyPrefix !== '') {
      if (!this.keyPrefix.endsWith('/')) throw new Error('MinioObjectStorage: keyPrefix must end with "/"');
      prefixParts(this.keyPrefix);
    }
    this.region = opts.region;
    this.partSize = Math.max(MIN_PART, opts.partSize ?? DEFAULT_PART);
    this.where = `${opts.useSSL ? 'https' : 'http'}://${opts.endPoint}:${opts.port}`;
    this.client =
      opts.client ??
      new Client({
        endPoint: opts.endPoint,
        port: opts.port,
        useSSL: opts.useSSL,
        accessKey: opts.accessKey,
        secretKey: opts.secretKey,
        ...(opts.region ? { region: opts.region } : {}),
      });
  }

  /** Creates the bucket if it does not exist. */
  async init(): Promise<void> {
    try {
      if (await this.client.bucketExists(this.bucket)) return;
      await this.client.makeBucket(this.bucket, this.region ?? 'us-east-1');
    } catch (err) {
      const code = s3Code(err);
      if (code === 'BucketAlreadyOwnedByYou') return; // created concurrently by another process
      throw new Error(`MinIO at ${this.where}: cannot create or access bucket "${this.bucket}": ${message(err)}`, {
        cause: err,
      });
    }
  }

  /** Validates a key and returns the bucket object name. */
  private name(key: string): string {
    keySegments(key);
    return this.keyPrefix + key;
  }

  /** Runs a write; if the bucket is missing (e.g. MinIO was down when init() ran), creates it and retries once. */
  private async withBucket<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (s3Code(err) !== 'NoSuchBucket') throw err;
      await this.init();
      return op();
    }
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<ObjectInfo> {
    try {
      return await this.upload(key, body, opts);
    } catch (err) {
      // put owns the body: a rejected write never leaves the caller's stream paused and open
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw err;
    }
  }

  private async upload(key: string, body: Readable | Buffer, opts: PutOptions): Promise<ObjectInfo> {
    const name = this.name(key);
    const { maxBytes, contentType } = opts;
    checkMaxBytes(maxBytes);
    const meta: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
    const info = (size: number): ObjectInfo => (contentType === undefined ? { size } : { size, contentType });

    if (Buffer.isBuffer(body)) {
      if (maxBytes !== undefined && body.length > maxBytes) throw new ObjectTooLargeError(maxBytes);
      await this.withBucket(() => this.client.putObject(this.bucket, name, body, body.length, meta));
      return info(body.length);
    }

    let uploadId: string | undefined;
    const etags: { part: number; etag: string }[] = [];
    const uploadPart = async (part: Buffer): Promise<void> => {
      uploadId ??= await this.withBucket(() => this.client.initiateNewMultipartUpload(this.bucket, name, meta));
      const partNumber = etags.length + 1;
      const res = await this.client.uploadPart(
        { bucketName: this.bucket, objectName: name, uploadID: uploadId, partNumber, headers: {} },
        part,
      );
      etags.push({ part: partNumber, etag: res.etag });
    };

    let total = 0;
    let pending: Buffer[] = [];
    let pendingLen = 0;
    try {
      // for-await destroys the source if we throw, and rethrows the source's own errors.
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        total += buf.length;
        if (maxBytes !== undefined && total > maxBytes) throw new ObjectTooLargeError(maxBytes);
        pending.push(buf);
        pendingLen += buf.length;
        while (pendingLen >= this.partSize) {
          const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingLen);
          const rest = all.subarray(this.partSize);
          pending = rest.length > 0 ? [rest] : [];
          pendingLen = rest.length;
          await uploadPart(all.subarray(0, this.partSize));
        }
      }
      const last = Buffer.concat(pending, pendingLen);
      pending = [];
      if (uploadId === undefined) {
        await this.withBucket(() => this.client.putObject(this.bucket, name, last, last.length, meta));
      } else {
        if (last.length > 0) await uploadPart(last);
        await this.client.completeMultipartUpload(this.bucket, name, uploadId, etags);
      }
    } catch (err) {
      if (uploadId !== undefined) {
        await this.client.abortMultipartUpload(this.bucket, name, uploadId).catch(() => undefined);
      }
      throw err;
    }
    return info(total);
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    const name = this.name(key);
    if (range) checkRange(range);
    try {
      if (!range || (range.start === 0 && range.end === undefined)) {
        return await this.client.getObject(this.bucket, name);
      }
      if (range.end !== undefined && range.end === range.start) {
        if (!(await this.stat(key))) throw new ObjectNotFoundError(key);
        return emptyStream();
      }
      // length 0 means "to the end" for minio-js
      const length = range.end === undefined ? 0 : range.end - range.start;
      return await this.client.getPartialObject(this.bucket, name, range.start, length);
    } catch (err) {
      const code = s3Code(err);
      if (code === 'NoSuchKey' || code === 'NotFound') throw new ObjectNotFoundError(key);
      // 416: the object exists but the range starts at or past its end.
      if (code === 'InvalidRange') return emptyStream();
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const name = this.name(key);
    try {
      const st = await this.client.statObject(this.bucket, name);
      const ct = st.metaData?.['content-type'] as unknown;
      return typeof ct === 'string' && ct !== '' ? { size: st.size, contentType: ct } : { size: st.size };
    } catch (err) {
      const code = s3Code(err);
      if (code === 'NotFound' || code === 'NoSuchKey') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.removeObject(this.bucket, this.name(key)); // S3 DELETE of a missing key succeeds
  }

  async deletePrefix(prefix: string): Promise<void> {
    prefixParts(prefix);
    let batch: string[] = [];
    const listing = this.client.listObjectsV2(this.bucket, this.keyPrefix + prefix, true);
    for await (const item of listing as AsyncIterable<{ name?: string }>) {
      if (item.name) batch.push(item.name);
      if (batch.length >= DELETE_BATCH) {
        await this.removeBatch(prefix, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.removeBatch(prefix, batch);
  }

  private async removeBatch(prefix: string, names: string[]): Promise<void> {
    const results = (await this.client.removeObjects(this.bucket, names)) as unknown[];
    // Quiet mode: the response lists only failures. minio-js returns them as {Code,Message,Key}
    // (its typings say {Error:{...}}): accept both.
    const failures = results
      .map((r) => (r && typeof r === 'object' ? ((r as { Error?: unknown }).Error ?? r) : null))
      .filter((r): r is { Code?: string; Message?: string; Key?: string } => r !== null && typeof r === 'object');
    if (failures.length > 0) {
      const f = failures[0];
      throw new Error(
        `MinIO: failed to delete ${failures.length} object(s) under "${prefix}", e.g. ${f?.Key}: ${f?.Code} ${f?.Message}`,
      );
    }
  }

  async health(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.client.bucketExists(this.bucket);
    } catch (err) {
      throw new Error(`MinIO at ${this.where} is unreachable or refused the request: ${message(err)}`, { cause: err });
    }
    if (!exists) {
      try {
        await this.init();
      } catch (err) {
        throw new Error(
          `MinIO at ${this.where}: bucket "${this.bucket}" does not exist and could not be created: ${message(err)}`,
          { cause: err },
        );
      }
    }
  }

  async close(): Promise<void> {}
}
