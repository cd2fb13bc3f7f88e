import path from 'node:path';
import { envSchema, type Env } from './schema.js';

export interface AppConfig {
  env: Env;
  http: { host: string; port: number; workers: number };
  databaseUrl: string;
  redis: { url: string; prefix: string };
  dataDir: string;
  apiKey?: string;
  compat: 'classic' | 'current';
  /**
   * followsFeed: the index is the in-memory engine, which every retrieval replica fills from Postgres' index
   * change feed; index writers then only stamp the feed.
   */
  search: { engine: 'memory' | 'lance'; syncIntervalMs: number; followsFeed: boolean };
  elasticsearch?: { node: string; username?: string; password?: string; apiKey?: string; indexPrefix: string };
  s3?: { endpoint: string; accessKey: string; secretKey: string; bucket: string; region?: string };
  embedding: {
    provider: 'builtin' | 'openai';
    baseUrl?: string;
    apiKey?: string;
    model?: string;
    providerName?: string;
    dimension?: number;
    batchSize: number;
    maxRetries: number;
    timeoutMs: number;
  };
  /** default chat model; absent = no default (tenants configure their own, or get extractive answers) */
  llm: { default?: { baseUrl: string; apiKey?: string; model: string; factory: string }; timeoutMs: number; streamBatchMs: number };
  upload: { maxFileBytes: number; maxFiles: number };
  parse: { maxInMemoryBytes: number; ocrConcurrency: number };
  workers: {
    ingestConcurrency: number;
    embedConcurrency: number;
    indexConcurrency: number;
    lockMs: number;
    reconcileIntervalMs: number;
  };
  rpcTimeoutMs: number;
  indexOptimizeIntervalMs: number;
  metricsPort: number;
  shutdownGraceMs: number;
  log: { level: Env['LOG_LEVEL']; pretty: boolean };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment once. Nothing else in RagNest touches process.env. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.S3_ENDPOINT && (!e.S3_ACCESS_KEY || !e.S3_SECRET_KEY)) {
    throw new ConfigError('Invalid configuration:\n  S3_ENDPOINT is set, so S3_ACCESS_KEY and S3_SECRET_KEY are required');
  }
  if (e.EMBEDDING_PROVIDER === 'openai' && (!e.EMBEDDING_BASE_URL || !e.EMBEDDING_MODEL)) {
    throw new ConfigError(
      'Invalid configuration:\n  EMBEDDING_PROVIDER=openai needs EMBEDDING_BASE_URL and EMBEDDING_MODEL',
    );
  }
  if (!!e.LLM_BASE_URL !== !!e.LLM_MODEL) {
    throw new ConfigError('Invalid configuration:\n  LLM_BASE_URL and LLM_MODEL must be set together');
  }
  return {
    env: e,
    http: { host: e.HOST, port: e.PORT, workers: e.API_WORKERS },
    databaseUrl: e.DATABASE_URL,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    dataDir: path.resolve(e.DATA_DIR),
    ...(e.API_KEY ? { apiKey: e.API_KEY } : {}),
    compat: e.RAGFLOW_COMPAT,
    ...(e.ELASTICSEARCH_URL
      ? {
          elasticsearch: {
            node: e.ELASTICSEARCH_URL,
            ...(e.ELASTICSEARCH_USERNAME ? { username: e.ELASTICSEARCH_USERNAME } : {}),
            ...(e.ELASTICSEARCH_PASSWORD ? { password: e.ELASTICSEARCH_PASSWORD } : {}),
            ...(e.ELASTICSEARCH_API_KEY ? { apiKey: e.ELASTICSEARCH_API_KEY } : {}),
            indexPrefix: e.ELASTICSEARCH_INDEX_PREFIX,
          },
        }
      : {}),
    ...(e.S3_ENDPOINT && e.S3_ACCESS_KEY && e.S3_SECRET_KEY
      ? {
          s3: {
            endpoint: e.S3_ENDPOINT,
            accessKey: e.S3_ACCESS_KEY,
            secretKey: e.S3_SECRET_KEY,
            bucket: e.S3_BUCKET,
            ...(e.S3_REGION ? { region: e.S3_REGION } : {}),
          },
        }
      : {}),
    embedding: {
      provider: e.EMBEDDING_PROVIDER,
      ...(e.EMBEDDING_BASE_URL ? { baseUrl: e.EMBEDDING_BASE_URL } : {}),
      ...(e.EMBEDDING_API_KEY ? { apiKey: e.EMBEDDING_API_KEY } : {}),
      ...(e.EMBEDDING_MODEL ? { model: e.EMBEDDING_MODEL } : {}),
      ...(e.EMBEDDING_PROVIDER_NAME ? { providerName: e.EMBEDDING_PROVIDER_NAME } : {}),
      ...(e.EMBEDDING_DIMENSION ? { dimension: e.EMBEDDING_DIMENSION } : {}),
      batchSize: e.EMBEDDING_BATCH_SIZE,
      maxRetries: e.EMBEDDING_MAX_RETRIES,
      timeoutMs: e.EMBEDDING_TIMEOUT_MS,
    },
    llm: {
      ...(e.LLM_BASE_URL && e.LLM_MODEL
        ? { default: { baseUrl: e.LLM_BASE_URL, model: e.LLM_MODEL, factory: e.LLM_PROVIDER_NAME, ...(e.LLM_API_KEY ? { apiKey: e.LLM_API_KEY } : {}) } }
        : {}),
      timeoutMs: e.LLM_TIMEOUT_MS,
      streamBatchMs: e.LLM_STREAM_BATCH_MS,
    },
    upload: { maxFileBytes: e.UPLOAD_MAX_FILE_BYTES, maxFiles: e.UPLOAD_MAX_FILES },
    parse: { maxInMemoryBytes: e.PARSE_MAX_IN_MEMORY_BYTES, ocrConcurrency: e.OCR_CONCURRENCY },
    workers: {
      ingestConcurrency: e.INGEST_CONCURRENCY,
      embedConcurrency: e.EMBED_CONCURRENCY,
      indexConcurrency: e.INDEX_CONCURRENCY,
      lockMs: e.JOB_LOCK_MS,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    },
    rpcTimeoutMs: e.RPC_TIMEOUT_MS,
    indexOptimizeIntervalMs: e.INDEX_OPTIMIZE_INTERVAL_MS,
    search: { engine: e.SEARCH_ENGINE, syncIntervalMs: e.INDEX_SYNC_INTERVAL_MS, followsFeed: !e.ELASTICSEARCH_URL && e.SEARCH_ENGINE === 'memory' },
    metricsPort: e.METRICS_PORT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY },
  };
}
