import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process; every app exposes it at /metrics. */
export const registry = new Registry();
/**
 * The event-loop lag histogram samples with a timer. prom-client's default, every 10 ms, woke each idle process
 * 100 times a second: an idle `npm start` stack (six processes) took 6.1-6.6 % of a core, 2.7-3.4 % with 100 ms.
 * At 100 ms a 15 s scrape interval still holds 150 samples for the lag percentiles.
 */
const EVENT_LOOP_SAMPLE_MS = 100;
collectDefaultMetrics({ register: registry, prefix: 'ragnest_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

export const jobCounter = new Counter({
  name: 'ragnest_jobs_total',
  help: 'Jobs processed, by job name and outcome',
  labelNames: ['job', 'outcome'] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'ragnest_job_duration_seconds',
  help: 'Job processing time',
  labelNames: ['job'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'ragnest_http_request_duration_seconds',
  help: 'HTTP request latency by route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const searchDuration = new Histogram({
  name: 'ragnest_search_duration_seconds',
  help: 'Hybrid search time inside the retrieval service',
  buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [registry],
});

export const chatSpeculation = new Counter({
  name: 'ragnest_chat_retrieval_speculation_total',
  help: "Chat turns whose retrieval started before the chat row was loaded, by whether the loaded settings confirmed it (used), changed it (discarded), the index it searched had not yet applied the feed head read with the chat (behind) or it failed (failed); all but used ran the retrieval again",
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const ingestCounter = new Counter({
  name: 'ragnest_ingest_total',
  help: 'Ingest volume: bytes parsed and chunks written',
  labelNames: ['unit'] as const,
  registers: [registry],
});
