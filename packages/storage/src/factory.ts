import { join } from 'node:path';
import { LocalObjectStorage } from './local.js';
import { MinioObjectStorage } from './minio.js';
import type { ObjectStorage } from './port.js';

export interface S3Config {
  /** e.g. `http://minio:9000` or `https://s3.example.com` (no path). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region?: string;
}

export interface ObjectStorageConfig {
  dataDir: string;
  s3?: S3Config;
}

/** Splits an endpoint URL into the minio client's endPoint/port/useSSL. */
export function parseS3Endpoint(endpoint: string): { endPoint: string; port: number; useSSL: boolean } {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`invalid S3 endpoint ${JSON.stringify(endpoint)}: expected a URL like http://host:9000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`invalid S3 endpoint ${JSON.stringify(endpoint)}: protocol must be http or https`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash || url.username || url.password) {
    throw new Error(`invalid S3 endpoint ${JSON.stringify(endpoint)}: must not contain a path, query or credentials`);
  }
  const useSSL = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : useSSL ? 443 : 80;
  // URL keeps IPv6 literals bracketed; the minio client wants the bare address.
  const endPoint = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { endPoint, port, useSSL };
}

/** An ObjectStorage that can create its root directory / bucket. */
export type InitializableObjectStorage = ObjectStorage & { init(): Promise<void> };

/**
 * MinIO/S3 when `s3` is configured, else files under `${dataDir}/objects`. Nothing is contacted here:
 * call `init()` to create the root directory / bucket (the MinIO adapter also creates a missing bucket
 * on first write, so a backend that was down at boot recovers), and `health()` to check it.
 */
export function createObjectStorage(cfg: ObjectStorageConfig): InitializableObjectStorage {
  if (cfg.s3) {
    const { endpoint, accessKey, secretKey, bucket, region } = cfg.s3;
    return new MinioObjectStorage({
      ...parseS3Endpoint(endpoint),
      accessKey,
      secretKey,
      bucket,
      ...(region ? { region } : {}),
    });
  }
  return new LocalObjectStorage({ root: join(cfg.dataDir, 'objects') });
}
