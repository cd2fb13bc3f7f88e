import { randomUUID } from 'node:crypto';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { currentCorrelationId, getLogger } from '@ragnest/logger';
import { DependencyUnavailableError, DomainError, type RpcPayloads } from '@ragnest/contracts';
import { definePushWithTtl, groupOf, replyListKey, requestListKey, type PushWithTtl, type RpcEnvelope, type RpcReply } from './protocol.js';

/** Most replies taken from the reply list at once. */
const REPLY_BATCH = 64;

export interface RedisListClientOptions {
  url: string;
  prefix: string;
  timeoutMs: number;
}

/** Client side of RedisListServer: pushes a request for one replica to take, waits on a private reply list. */
export class RedisListClient extends ClientProxy {
  private readonly clientId = `${process.pid}-${randomUUID()}`;
  private pub?: Redis & PushWithTtl;
  private sub?: Redis;
  private listening = false;
  private readonly pending = new Map<string, { cb: (p: WritePacket) => void; timer: NodeJS.Timeout }>();
  private connecting?: Promise<void>;

  constructor(private readonly opts: RedisListClientOptions) {
    super();
  }

  async connect(): Promise<void> {
    this.connecting ??= (async () => {
      this.pub = definePushWithTtl(new Redis(this.opts.url, { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: true }));
      this.sub = new Redis(this.opts.url, { maxRetriesPerRequest: null, lazyConnect: true });
      await Promise.all([this.pub.connect(), this.sub.connect()]);
      this.listening = true;
      void this.replyLoop();
    })().catch((err: unknown) => {
      this.connecting = undefined;
      this.pub?.disconnect();
      this.sub?.disconnect();
      throw err;
    });
    return this.connecting;
  }

  private async replyLoop(): Promise<void> {
    const key = replyListKey(this.opts.prefix, this.clientId);
    while (this.listening && this.sub) {
      try {
        // every reply waiting, oldest first, in one command (Redis 7): under load a command per reply was a
        // round trip and a socket write per call in this process
        const got = await this.sub.blmpop(1, 1, key, 'RIGHT', 'COUNT', REPLY_BATCH);
        if (!got) continue;
        for (const raw of got[1]) {
          try {
            this.deliver(raw);
          } catch (err) {
            getLogger().warn({ err: String(err) }, 'rpc client: unreadable reply');
          }
        }
      } catch (err) {
        if (!this.listening) return;
        getLogger().warn({ err: String(err) }, 'rpc client: reply loop error');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private deliver(raw: string): void {
    const reply = JSON.parse(raw) as RpcReply;
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    if (reply.isDisposed || reply.err) {
      clearTimeout(entry.timer);
      this.pending.delete(reply.id);
    }
    entry.cb({
      ...(reply.err ? { err: reply.err } : {}),
      ...(reply.response !== undefined ? { response: reply.response } : {}),
      isDisposed: reply.isDisposed || Boolean(reply.err),
    });
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const id = randomUUID();
    const pattern = this.normalizePattern(packet.pattern);
    const correlationId = currentCorrelationId();
    const env: RpcEnvelope = {
      id,
      pattern,
      data: packet.data,
      replyTo: replyListKey(this.opts.prefix, this.clientId),
      deadline: Date.now() + this.opts.timeoutMs,
      ...(correlationId ? { metadata: { correlationId } } : {}),
    };
    const timer = setTimeout(() => {
      this.pending.delete(id);
      callback({ err: { message: `no reply from ${groupOf(pattern)} within ${this.opts.timeoutMs} ms`, timeout: true }, isDisposed: true });
    }, this.opts.timeoutMs);
    this.pending.set(id, { cb: callback, timer });
    const key = requestListKey(this.opts.prefix, groupOf(pattern));
    // the list expires only after an hour with no traffic at all (e.g. a retired service group)
    this.pub!.pushWithTtl(key, JSON.stringify(env), 3_600_000).catch((err: unknown) => {
      clearTimeout(timer);
      this.pending.delete(id);
      callback({ err: { message: `redis unavailable: ${String(err)}`, timeout: true }, isDisposed: true });
    });
    return () => {
      clearTimeout(timer);
      this.pending.delete(id);
    };
  }

  protected dispatchEvent(): Promise<never> {
    return Promise.reject(new Error('RedisListClient supports request/response only'));
  }

  async close(): Promise<void> {
    this.listening = false;
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.pub?.disconnect();
    this.sub?.disconnect();
    this.connecting = undefined;
  }

  unwrap<T>(): T {
    return this.pub as unknown as T;
  }

  override on(): never {
    throw new Error('RedisListClient does not support event listeners');
  }

  /**
   * Typed call. Transport failures become DependencyUnavailableError; errors the server raised with a
   * numeric code come back as DomainError so they can be shown to clients.
   */
  async call<P extends keyof RpcPayloads>(pattern: P, data: RpcPayloads[P]['req']): Promise<RpcPayloads[P]['res']> {
    try {
      return await firstValueFrom(this.send<RpcPayloads[P]['res']>(pattern, data));
    } catch (err) {
      const e = err as { message?: string; code?: number; data?: unknown; timeout?: boolean };
      if (typeof e?.code === 'number') throw new DomainError(e.code, e.message ?? 'error', e.data);
      throw new DependencyUnavailableError(groupOf(pattern), e?.message ?? String(err));
    }
  }
}
