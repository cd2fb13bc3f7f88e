import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

export const REPLICA_ID = Symbol('REPLICA_ID');

/** Names this replica in RPC replies and logs. */
export const replicaId = `retrieval@${hostname()}:${process.pid}:${randomUUID().slice(0, 6)}`;
