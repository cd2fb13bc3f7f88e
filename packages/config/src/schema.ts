import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

/**
 * Every setting RagNest reads, with its default. This is the only place that knows the environment
 * variable names; README's configuration table is written from it.
 */
export const envSchema = z.object({
  PORT: int(9380, 0),
  HOST: z.string().default('0.0.0.0'),
  /** API processes sharing PORT (node:cluster; a primary supervises them): one Node thread serves a few hundred requests a second */
  API_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  DATABASE_URL: z.string().url().default('postgresql://postgres@127.0.0.1:5432/ragnest'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Key prefix for every Redis key (queues, RPC lists): lets several installations share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]+$/).default('ragnest'),
  DATA_DIR: z.string().default('./.data'),
  API_KEY: optionalString,
  /** classic = RAGFlow v0.19–v0.24 wire behaviour (default); current = v0.25+ where they conflict */
  RAGFLOW_COMPAT: z.enum(['classic', 'current']).default('classic'),

  /**
   * embedded search engine when ELASTICSEARCH_URL is unset: memory = in-process index rebuilt from Postgres
   * (fast queries, nothing on disk); lance = LanceDB tables under DATA_DIR/index
   */
  SEARCH_ENGINE: z.enum(['memory', 'lance']).default('memory'),
  /** memory engine: how often each retrieval replica polls Postgres for index changes (queries also catch up first) */
  INDEX_SYNC_INTERVAL_MS: int(1_000, 50),
  ELASTICSEARCH_URL: optionalString,
  ELASTICSEARCH_USERNAME: optionalString,
  ELASTICSEARCH_PASSWORD: optionalString,
  ELASTICSEARCH_API_KEY: optionalString,
  ELASTICSEARCH_INDEX_PREFIX: z.string().default('ragnest_'),

  S3_ENDPOINT: optionalString,
  S3_ACCESS_KEY: optionalString,
  S3_SECRET_KEY: optionalString,
  S3_BUCKET: z.string().default('ragnest'),
  S3_REGION: optionalString,

  EMBEDDING_PROVIDER: z.enum(['builtin', 'openai']).default('builtin'),
  EMBEDDING_BASE_URL: optionalString,
  EMBEDDING_API_KEY: optionalString,
  EMBEDDING_MODEL: optionalString,
  EMBEDDING_PROVIDER_NAME: optionalString,
  EMBEDDING_DIMENSION: z.coerce.number().int().min(8).max(8192).optional(),
  EMBEDDING_BATCH_SIZE: int(16, 1),
  EMBEDDING_MAX_RETRIES: int(4, 0),
  EMBEDDING_TIMEOUT_MS: int(60_000, 100),

  /** default chat model (OpenAI protocol) for tenants that configured none; unset = extractive answers */
  LLM_BASE_URL: optionalString,
  LLM_API_KEY: optionalString,
  LLM_MODEL: optionalString,
  LLM_PROVIDER_NAME: z.string().default('OpenAI-API-Compatible'),
  /** longest wait for the model's first byte and between two streamed pieces */
  LLM_TIMEOUT_MS: int(60_000, 100),
  /** a streamed answer is read from the model at most once per this many ms after its first piece (0: every piece) */
  LLM_STREAM_BATCH_MS: int(10, 0),

  UPLOAD_MAX_FILE_BYTES: int(512 * 1024 * 1024, 1),
  UPLOAD_MAX_FILES: int(64, 1),
  /** PDF/DOCX are parsed in memory; larger files fail with a clear message */
  PARSE_MAX_IN_MEMORY_BYTES: int(256 * 1024 * 1024, 1),

  INGEST_CONCURRENCY: int(2, 1),
  /** OCR recognitions at once per ingest-worker, shared by all its parse jobs (each slot holds ~100 MB) */
  OCR_CONCURRENCY: int(1, 1),
  EMBED_CONCURRENCY: int(2, 1),
  INDEX_CONCURRENCY: int(1, 1),
  /** BullMQ lock: a job whose worker died is taken over after about this long */
  JOB_LOCK_MS: int(30_000, 1_000),
  RECONCILE_INTERVAL_MS: int(15_000, 500),
  RPC_TIMEOUT_MS: int(15_000, 100),
  /** retrieval: how often the search index is optimised (index build/compaction) */
  INDEX_OPTIMIZE_INTERVAL_MS: int(10_000, 500),
  /** workers expose /health and /metrics on this port (0 = off); the api serves them on PORT */
  METRICS_PORT: int(0, 0),
  SHUTDOWN_GRACE_MS: int(20_000, 0),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.default(false),
});

export type Env = z.infer<typeof envSchema>;
