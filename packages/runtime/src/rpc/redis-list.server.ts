import { randomUUID } from 'node:crypto';
import { Server, type CustomTransportStrategy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { BaseRpcContext } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { isObservable, of, from, type Observable } from 'rxjs';
import { getLogger, withCorrelation } from '@ragnest/logger';
import { definePushWithTtl, requestListKey, type PushWithTtl, type RpcEnvelope, type RpcReply } from './protocol.js';

export interface RedisListServerOptions {
  url: string;
  prefix: string;
  /** service group: requests for patterns `<group>.*` are taken from one shared list */
  group: string;
  /** requests handled at once by this replica */
  concurrency: number;
  /** identifies this replica in replies (tests and operators see who answered) */
  replicaId?: string;
}

/**
 * Request/response transport over Redis lists. Unlike Nest's Redis transport (pub/sub: every replica
 * gets every request), each request is BRPOP-ed by exactly one replica, so replicas share the load.
 */
export class RedisListServer extends Server implements CustomTransportStrategy {
  readonly replicaId: string;
  private running = false;
  private readonly connections: Redis[] = [];
  private publisher?: Redis & PushWithTtl;
  private readonly loops: Promise<void>[] = [];
  /** pattern → handler: Nest's lookup JSON-parses the pattern and, for a plain string, pays for a thrown error */
  private readonly handlers = new Map<string, NonNullable<ReturnType<Server['getHandlerByPattern']>>>();
  private gate: (() => Promise<unknown>) | null = null;
  private closed!: Promise<void>;
  private markClosed!: () => void;

  constructor(private readonly opts: RedisListServerOptions) {
    super();
    this.replicaId = opts.replicaId ?? `${opts.group}-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  /**
   * Takes no request from the shared list before `gate()` resolves (call before listen): a replica that cannot
   * answer yet, e.g. one still loading its index, leaves requests to the replicas that can, instead of holding
   * them until they time out. Its callers see no difference as long as another replica answers.
   */
  takeRequestsAfter(gate: () => Promise<unknown>): void {
    this.gate = gate;
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.running = true;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.publisher = definePushWithTtl(new Redis(this.opts.url, { lazyConnect: false, maxRetriesPerRequest: null }));
    const opened = this.gate
      ? this.gate().catch((err: unknown) => getLogger().warn({ err: String(err) }, 'rpc: readiness gate failed; taking requests anyway'))
      : Promise.resolve();
    for (let i = 0; i < this.opts.concurrency; i++) {
      const conn = new Redis(this.opts.url, { maxRetriesPerRequest: null });
      this.connections.push(conn);
      this.loops.push(this.loop(conn, opened));
    }
    callback();
  }

  private async loop(conn: Redis, opened: Promise<unknown>): Promise<void> {
    // a close while waiting at the gate ends the loop at once
    await Promise.race([opened, this.closed]);
    const key = requestListKey(this.opts.prefix, this.opts.group);
    while (this.running) {
      let raw: [string, string] | null = null;
      try {
        raw = await conn.brpop(key, 1);
      } catch (err) {
        if (!this.running) return;
        getLogger().warn({ err: String(err) }, 'rpc: redis unavailable, retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!raw) continue;
      await this.handleRaw(raw[1]);
    }
  }

  private async handleRaw(raw: string): Promise<void> {
    let env: RpcEnvelope;
    try {
      env = JSON.parse(raw) as RpcEnvelope;
    } catch {
      getLogger().warn('rpc: dropped a malformed request');
      return;
    }
    // the caller has given up: answering would only fill its reply list
    if (env.deadline && Date.now() > env.deadline) return;
    await withCorrelation(env.metadata?.correlationId, async () => {
      const handler = this.handlerFor(env.pattern);
      if (!handler) {
        await this.reply(env, { err: { message: `no handler for ${env.pattern}` }, isDisposed: true });
        return;
      }
      const packet: ReadPacket = { pattern: env.pattern, data: env.data, ...(env.metadata ? { metadata: env.metadata } : {}) };
      const ctx = new BaseRpcContext([packet]);
      await new Promise<void>((resolve) => {
        let produced: Observable<unknown>;
        (async () => {
          const result = await handler(env.data, ctx);
          produced = isObservable(result) ? result : from(Promise.resolve(result));
          this.send(produced ?? of(undefined), async (p: WritePacket) => {
            await this.reply(env, p);
            if (p.isDisposed) resolve();
          });
        })().catch(async (err: unknown) => {
          await this.reply(env, { err: serializeError(err), isDisposed: true });
          resolve();
        });
      });
    });
  }

  private handlerFor(pattern: string) {
    let handler = this.handlers.get(pattern);
    if (!handler) {
      handler = this.getHandlerByPattern(pattern) ?? undefined;
      // only patterns that have a handler are kept, so what clients send cannot grow the map
      if (handler) this.handlers.set(pattern, handler);
    }
    return handler;
  }

  private async reply(env: RpcEnvelope, p: WritePacket): Promise<void> {
    if (!this.publisher) return;
    const reply: RpcReply = {
      id: env.id,
      ...(p.err !== undefined ? { err: serializeError(p.err) } : {}),
      ...(p.response !== undefined ? { response: p.response } : {}),
      isDisposed: Boolean(p.isDisposed),
    };
    try {
      await this.publisher.pushWithTtl(env.replyTo, JSON.stringify(reply), 60_000);
    } catch (err) {
      getLogger().warn({ err: String(err) }, 'rpc: could not deliver a reply');
    }
  }

  async close(): Promise<void> {
    this.running = false;
    this.markClosed?.();
    await Promise.allSettled(this.loops);
    for (const c of this.connections) c.disconnect();
    this.publisher?.disconnect();
  }

  on(): never {
    throw new Error('RedisListServer does not support event listeners');
  }

  unwrap<T>(): T {
    return this.connections as unknown as T;
  }
}

function serializeError(err: unknown): { message: string; code?: number; data?: unknown } {
  if (err && typeof err === 'object') {
    const e = err as { message?: unknown; code?: unknown; data?: unknown; getError?: () => unknown };
    if (typeof e.getError === 'function') return serializeError(e.getError());
    return {
      message: typeof e.message === 'string' ? e.message : 'error',
      ...(typeof e.code === 'number' ? { code: e.code } : {}),
      ...(e.data !== undefined ? { data: e.data } : {}),
    };
  }
  return { message: String(err) };
}
