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
