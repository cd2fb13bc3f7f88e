export * from './queues.js';
export * from './rpc.js';
export * from './enums.js';
export * from './errors.js';
