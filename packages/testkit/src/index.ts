export * from './db.js';
export * from './stack.js';
export * from './client.js';
export * from './async.js';
