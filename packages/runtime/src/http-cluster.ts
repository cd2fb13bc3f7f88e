import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type RegistryContentType } from 'prom-client';
import type { Logger } from '@ragnest/logger';
import { registry } from './metrics.js';

/*
 * API_WORKERS > 1: the api runs as a primary that only supervises, and N worker processes that each run the
 * whole Nest app and share the listening port (node:cluster hands each new connection to the next worker).
 * One Node thread serves a few hundred requests a second (measured: ~130 streamed chat completions a
 * second here, at ~7.5 ms of CPU each), so a host with spare cores needs more than one api process.
 */

const METRICS_REQ = 'ragnest:cluster-metrics-req';
const METRICS_RES = 'ragnest:cluster-metrics-res';

interface MetricsRequest {
  type: typeof METRICS_REQ;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RES;
  id: number;
  text?: string;
  error?: string;
}

/** A worker that exits this soon after it started counts as a failed start. */
const FAST_EXIT_MS = 10_000;
/** Failed starts in a row after which the primary gives up (a crash loop, e.g. a bad configuration). */
const MAX_FAST_EXITS = 5;

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** printed once every worker listens */
  readyMessage: string;
  /** how long workers get to finish in-flight requests after a stop signal */
  shutdownGraceMs: number;
}

/**
 * The supervising primary: forks the workers, replaces one that dies (with backoff; a crash loop ends the
 * primary), aggregates their Prometheus metrics for whichever worker serves /metrics, and on SIGINT/SIGTERM
 * passes the signal to every worker (each stops through its own shutdown hooks; one that already got it from
 * a terminal's Ctrl-C ignores the repeat) and exits once all have stopped.
 */
export function runHttpPrimary(opts: PrimaryOptions): void {
  const { logger } = opts;
  const aggregator = new AggregatorRegistry();
  const started = new Map<number, number>();
  let stopping = false;
  let fastExits = 0;
  let listening = 0;
  let announced = false;

  const fork = () => {
    const w = cluster.fork();
    // by id, until its exit: cluster.workers may still list a worker that has exited but not yet disconnected
    started.set(w.id, Date.now());
    w.on('message', (m: unknown) => {
      if ((m as MetricsRequest | undefined)?.type !== METRICS_REQ) return;
      const id = (m as MetricsRequest).id;
      aggregator.clusterMetrics().then(
        (text) => send(w, { type: METRICS_RES, id, text }),
        (err: unknown) => send(w, { type: METRICS_RES, id, error: err instanceof Error ? err.message : String(err) }),
      );
    });
  };

  cluster.on('listening', () => {
    listening++;
    if (!announced && listening >= opts.workers) {
      announced = true;
      logger.info({ workers: opts.workers }, opts.readyMessage);
    }
  });

  cluster.on('exit', (w, code, signal) => {
    const lived = Date.now() - (started.get(w.id) ?? 0);
    started.delete(w.id);
    if (stopping) {
      if (started.size === 0) process.exit(0);
      return;
    }
    fastExits = lived < FAST_EXIT_MS ? fastExits + 1 : 0;
    if (fastExits >= MAX_FAST_EXITS) {
      logger.fatal({ code, signal }, `api workers keep exiting right after they start (${fastExits} in a row); giving up`);
      process.exit(1);
    }
    const delay = fastExits ? Math.min(10_000, 250 * 2 ** fastExits) : 0;
    logger.error({ pid: w.process.pid, code, signal }, `api worker exited; starting another in ${delay} ms`);
    setTimeout(() => !stopping && fork(), delay);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api: stopping workers');
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && started.has(w.id));
    if (started.size === 0) process.exit(0);
    for (const w of live) w.process.kill(signal);
    setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, opts.shutdownGraceMs + 5_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  for (let i = 0; i < opts.workers; i++) fork();
}

function send(w: Worker, m: MetricsResponse): void {
  if (w.isConnected()) w.send(m);
}

let nextRequest = 0;
const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

/**
 * The Prometheus text for /metrics: this process's registry, or, in an api worker, every worker's
 * registries aggregated by the primary (counters and histograms summed), so a scrape that reaches any
 * worker sees the whole api.
 */
export function apiMetrics(timeoutMs = 5_000): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  const id = nextRequest++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the api primary did not answer with the aggregated metrics'));
    }, timeoutMs);
    pending.set(id, { resolve, reject, timer });
    process.send!({ type: METRICS_REQ, id } satisfies MetricsRequest);
  });
}

/**
 * In an api worker: take the primary's answers to apiMetrics, and let the primary's aggregator read this
 * process's registry (prom-client's cluster protocol).
 */
export function joinApiCluster(): void {
  if (!cluster.isWorker) return;
  process.on('message', (m: unknown) => {
    const res = m as MetricsResponse | undefined;
    if (res?.type !== METRICS_RES) return;
    const p = pending.get(res.id);
    if (!p) return;
    pending.delete(res.id);
    clearTimeout(p.timer);
    if (res.error !== undefined) p.reject(new Error(res.error));
    else p.resolve(res.text ?? '');
  });
  AggregatorRegistry.setRegistries([registry]);
  // constructing one registers prom-client's worker-side listener that answers the primary's requests
  workerSide ??= new AggregatorRegistry();
}
let workerSide: AggregatorRegistry<RegistryContentType> | undefined;
