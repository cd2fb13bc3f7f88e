/** Wire format of the Redis-list RPC transport. */
export interface RpcEnvelope {
  id: string;
  pattern: string;
  data: unknown;
  metadata?: Record<string, string>;
  /** list the reply is pushed to */
  replyTo: string;
  /** epoch ms after which the caller no longer waits */
  deadline?: number;
}

export interface RpcReply {
  id: string;
  response?: unknown;
  err?: { message: string; code?: number; data?: unknown };
  isDisposed: boolean;
}

export const requestListKey = (prefix: string, group: string) => `${prefix}:rpc:${group}:requests`;
export const replyListKey = (prefix: string, clientId: string) => `${prefix}:rpc:reply:${clientId}`;
/** `retrieval.search.v1` → `retrieval` */
export const groupOf = (pattern: string) => pattern.split('.')[0] ?? pattern;

/**
 * LPUSH and PEXPIRE as one command (a server-side script): every push must renew the list's expiry, since a
 * list that is drained to empty disappears with its TTL, and MULTI/EXEC for the pair costs the caller and Redis
 * two more commands per message.
 */
export const PUSH_WITH_TTL_SCRIPT = "redis.call('LPUSH', KEYS[1], ARGV[1]); redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1";

/** An ioredis connection with the pushWithTtl command defined (see definePushWithTtl). */
export interface PushWithTtl {
  pushWithTtl(key: string, value: string, ttlMs: number): Promise<number>;
}

export function definePushWithTtl<R extends { defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void }>(redis: R): R & PushWithTtl {
  redis.defineCommand('pushWithTtl', { numberOfKeys: 1, lua: PUSH_WITH_TTL_SCRIPT });
  return redis as R & PushWithTtl;
}
