import type { Readable } from 'node:stream';

/** Thrown by get/stat callers when a key does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** Thrown when a write would exceed the configured byte limit (enforced while streaming). */
export class ObjectTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`object exceeds the limit of ${limitBytes} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

export interface ObjectInfo {
  size: number;
  contentType?: string;
}

export interface PutOptions {
  contentType?: string;
  /** Abort the write (and leave nothing behind) once more than this many bytes arrive. */
  maxBytes?: number;
}

/**
 * Object storage port. Keys are opaque slash-separated strings chosen by RagNest
 * (`<datasetId>/<documentId>`, `<datasetId>/images/<chunkId>`), never user file names.
 */
export interface ObjectStorage {
  readonly kind: 'local' | 'minio';
  /** Streams body into storage. A failed or oversized write leaves no object behind. */
  put(key: string, body: Readable | Buffer, opts?: PutOptions): Promise<ObjectInfo>;
  /** Readable stream of the object; rejects with ObjectNotFoundError. Optional byte range (inclusive start, exclusive end). */
  get(key: string, range?: { start: number; end?: number }): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | null>;
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with prefix. */
  deletePrefix(prefix: string): Promise<void>;
  /** Resolves when the backend is reachable and writable; rejects with a human-readable reason. */
  health(): Promise<void>;
  close(): Promise<void>;
}
