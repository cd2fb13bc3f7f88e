// How `npm start` runs the apps' processes (replicas and Node flags); the benchmark boots its stack the same way.
import { availableParallelism } from 'node:os';

/**
 * Parsing is CPU-bound and a Node process computes on one core: one ingest-worker per core (up to 4) keeps the
 * machine busy while documents parse. INGEST_REPLICAS overrides it.
 */
export function ingestReplicas(env, override) {
  const raw = override ?? env.INGEST_REPLICAS;
  const n = Number(raw || Math.min(4, availableParallelism()));
  if (!Number.isInteger(n) || n < 1) throw new Error(`INGEST_REPLICAS must be a positive integer, got ${raw}`);
  return n;
}

/**
 * Node flags for each ingest-worker. Its live data is small (documents stream, PDF pages are released as it
 * goes), but with Node's default heap limit garbage from parsing and OCR piles up to ~1 GB before V8 collects
 * it; a limit makes it collect sooner at no measurable cost (peak 782–993 → 666 MB on the bench).
 * INGEST_MAX_OLD_SPACE_MB overrides it.
 */
export function ingestNodeArgs(env) {
  const mb = Number(env.INGEST_MAX_OLD_SPACE_MB || 768);
  if (!Number.isInteger(mb) || mb < 128) throw new Error(`INGEST_MAX_OLD_SPACE_MB must be an integer of at least 128, got ${env.INGEST_MAX_OLD_SPACE_MB}`);
  return [`--max-old-space-size=${mb}`];
}

/**
 * Node flags for the api and the retrieval service, the processes that answer requests. Each request leaves
 * short-lived garbage (parsed bodies, rows, reply JSON, streamed pieces); with V8's default young generation
 * (16 MB semi-spaces) it is scavenged often and part of it is promoted and collected again by the old
 * generation. 64 MB semi-spaces cut the api's CPU per streamed chat completion by ~8% and per retrieval query
 * by ~9% on the bench, for ~50 MB more RSS each. NODE_SEMI_SPACE_MB overrides it (0: V8's default).
 */
export function serviceNodeArgs(env) {
  const raw = env.NODE_SEMI_SPACE_MB;
  const mb = Number(raw === undefined || raw === '' ? 64 : raw);
  if (!Number.isInteger(mb) || mb < 0 || mb > 1024) throw new Error(`NODE_SEMI_SPACE_MB must be an integer from 0 to 1024, got ${raw}`);
  return mb ? [`--max-semi-space-size=${mb}`] : [];
}
