import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

interface Context {
  correlationId: string;
}

const storage = new AsyncLocalStorage<Context>();

/** The correlation id of the current request/job/RPC call, if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** Runs fn with a correlation id that every log line inside it (and anything it enqueues) carries. */
export function withCorrelation<T>(correlationId: string | undefined, fn: () => T): T {
  return storage.run({ correlationId: correlationId ?? randomUUID() }, fn);
}

/** Secrets never reach the log. */
const REDACT = [
  'password', '*.password', 'apiKey', '*.apiKey', 'api_key', '*.api_key', 'token', '*.token',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'secretKey', '*.secretKey', 'accessKey', '*.accessKey',
];

let root: PinoLogger | undefined;

/** One structured JSON logger for every app. */
export function createLogger(opts: { app: string; level: LevelWithSilent }): PinoLogger {
  root = pino({
    level: opts.level,
    base: { app: opts.app, pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const id = storage.getStore()?.correlationId;
      return id ? { correlationId: id } : {};
    },
  });
  return root;
}

/** The process logger (a silent one until createLogger runs, e.g. in unit tests). */
export function getLogger(): PinoLogger {
  root ??= pino({ level: 'silent' });
  return root;
}

/** Strips credentials from a URL before it is logged or shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
