import 'reflect-metadata';
import cluster from 'node:cluster';
import http from 'node:http';
import type { DynamicModule, INestApplication, INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig, type AppConfig } from '@ragnest/config';
import { createLogger, redactUrl, type Logger } from '@ragnest/logger';
import { NestPinoLogger } from './nest-logger.js';
import { RedisListServer } from './rpc/redis-list.server.js';
import { registry } from './metrics.js';
import { joinApiCluster, runHttpPrimary } from './http-cluster.js';
import { pingRedis } from './redis.js';
import { PRISMA, STORAGE } from './tokens.js';
import { pingPostgres, type PrismaClient } from '@ragnest/db';
import type { ObjectStorage } from '@ragnest/storage';

export type HealthCheck = () => Promise<Record<string, string | null>>;

export interface AppSpec {
  name: string;
  module: (config: AppConfig) => Type | DynamicModule;
  kind: 'http' | 'rpc' | 'worker';
  /** http: extra setup before listen (filters, body parsing, routes) */
  configureHttp?: (app: INestApplication, config: AppConfig) => void | Promise<void>;
  /**
   * rpc: the service group whose requests this app answers, and how many at once; takeRequestsAfter: the replica
   * takes no request before it resolves (it runs once the app has started, e.g. until an index is loaded)
   */
  rpc?: { group: string; concurrency: number; replicaId?: string; takeRequestsAfter?: (app: INestApplicationContext) => Promise<unknown> };
  /** worker/rpc: checks added to the default ones (Redis, Postgres, storage) served at METRICS_PORT/health */
  extraHealth?: (app: INestApplicationContext) => Record<string, () => Promise<unknown>>;
  /** printed once the app is ready */
  readyMessage?: (config: AppConfig) => string;
}

/**
 * The one bootstrap every app's main.ts calls: config, logger, Nest app, shutdown hooks, metrics. With
 * API_WORKERS > 1 an http app's process becomes the supervising primary of that many worker processes
 * (http-cluster.ts) and resolves to undefined; each worker runs the app.
 */
export async function runApp(spec: AppSpec): Promise<INestApplicationContext | undefined> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${spec.name}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ app: spec.name, level: config.log.level });
  installProcessHandlers(logger);
  const clustered = spec.kind === 'http' && config.http.workers > 1;
  const readyMessage = spec.readyMessage?.(config) ?? `${spec.name} ready`;
  if (clustered && cluster.isPrimary) {
    runHttpPrimary({ workers: config.http.workers, logger, readyMessage, shutdownGraceMs: config.shutdownGraceMs });
    return undefined;
  }
  if (clustered) joinApiCluster();
  const nestLogger = new NestPinoLogger(logger);
  const module = spec.module(config);
  let app: INestApplicationContext;
  try {
    if (spec.kind === 'http') {
      const httpApp = await NestFactory.create(module, { logger: nestLogger, bodyParser: false, abortOnError: false });
      await spec.configureHttp?.(httpApp, config);
      httpApp.enableShutdownHooks(['SIGINT', 'SIGTERM']);
      await httpApp.listen(config.http.port, config.http.host);
      app = httpApp;
    } else if (spec.kind === 'rpc') {
      if (!spec.rpc) throw new Error('rpc apps need spec.rpc');
      const { takeRequestsAfter, ...rpc } = spec.rpc;
      const server = new RedisListServer({ url: config.redis.url, prefix: config.redis.prefix, ...rpc });
      const ms = await NestFactory.createMicroservice(module, { strategy: server, logger: nestLogger, abortOnError: false });
      if (takeRequestsAfter) server.takeRequestsAfter(() => takeRequestsAfter(ms));
      ms.enableShutdownHooks(['SIGINT', 'SIGTERM']);
      await ms.listen();
      app = ms;
    } else {
      const ctx = await NestFactory.createApplicationContext(module, { logger: nestLogger, abortOnError: false });
      ctx.enableShutdownHooks(['SIGINT', 'SIGTERM']);
      await ctx.init();
      app = ctx;
    }
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, `${spec.name} failed to start`);
    process.exit(1);
  }
  if (spec.kind !== 'http' && config.metricsPort > 0) {
    startOpsServer(config.metricsPort, defaultHealth(app, config, spec.extraHealth?.(app) ?? {}), logger);
  }
  // an api worker says so; the primary prints the ready line once every worker listens
  logger.info(
    { redis: redactUrl(config.redis.url), database: redactUrl(config.databaseUrl) },
    clustered ? `${spec.name} worker ready` : readyMessage,
  );
  return app;
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs dependency checks in parallel, each bounded by a timeout. The result maps each check to null
 * (healthy) or a human-readable reason.
 */
export async function runHealthChecks(checks: Record<string, () => Promise<unknown>>, timeoutMs = 3000): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, fn]) => {
      try {
        await Promise.race([fn(), new Promise((_, rej) => setTimeout(() => rej(new Error(`${name} did not answer within ${timeoutMs} ms`)), timeoutMs).unref())]);
        out[name] = null;
      } catch (err) {
        out[name] = reason(err);
      }
    }),
  );
  return out;
}

/** Workers are healthy when the stores they need answer: Redis, Postgres/storage where loaded, and the app's own extras. */
function defaultHealth(app: INestApplicationContext, config: AppConfig, extra: Record<string, () => Promise<unknown>>): HealthCheck {
  const optional = <T>(token: symbol): T | undefined => {
    try {
      return app.get<T>(token, { strict: false });
    } catch {
      return undefined;
    }
  };
  const db = optional<PrismaClient>(PRISMA);
  const storage = optional<ObjectStorage>(STORAGE);
  return () =>
    runHealthChecks({
      redis: () => pingRedis(config.redis.url),
      ...(db ? { postgres: () => pingPostgres(db) } : {}),
      ...(storage ? { storage: () => storage.health() } : {}),
      ...extra,
    });
}

function installProcessHandlers(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason) }, 'unhandled rejection');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: { message: err.message, stack: err.stack } }, 'uncaught exception');
    process.exit(1);
  });
}

/** Workers have no HTTP API: a tiny server gives probes and Prometheus something to call. */
function startOpsServer(port: number, health: HealthCheck | undefined, logger: Logger): void {
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(await registry.metrics());
        return;
      }
      if (req.url === '/health' || req.url === '/healthz') {
        const checks = health ? await health() : {};
        const failed = Object.entries(checks).filter(([, v]) => v !== null);
        res.writeHead(failed.length ? 503 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: failed.length ? 'nok' : 'ok', checks }));
        return;
      }
      res.writeHead(404).end();
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  server.listen(port, () => logger.info({ port }, 'ops server (health, metrics) listening'));
  server.unref();
}
