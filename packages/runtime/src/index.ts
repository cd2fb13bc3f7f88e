export { runApp, type AppSpec, type HealthCheck } from './bootstrap.js';
export { RuntimeModule, CONFIG, InjectConfig, type RuntimeModuleOptions } from './runtime.module.js';
export { QueueProducer, type EnqueueOptions } from './queue/producer.js';
export { WorkerHost, JobHandler, PermanentJobError, type JobContext } from './queue/worker-host.js';
export { RedisListServer, type RedisListServerOptions } from './rpc/redis-list.server.js';
export { RedisListClient, type RedisListClientOptions } from './rpc/redis-list.client.js';
export { redisConnection, pingRedis } from './redis.js';
export { NestPinoLogger } from './nest-logger.js';
export * from './metrics.js';
