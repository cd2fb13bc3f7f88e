import { Global, Module, type DynamicModule, type OnApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { AppConfig } from '@ragnest/config';
import { QueueProducer } from './queue/producer.js';
import { WorkerHost, type WorkerHostOptions } from './queue/worker-host.js';
import { RedisListClient } from './rpc/redis-list.client.js';
import { redisConnection } from './redis.js';

export const CONFIG = Symbol('RAGNEST_CONFIG');

/** Injects the validated config. */
export const InjectConfig = () => Inject(CONFIG);

@Injectable()
class RuntimeShutdown implements OnApplicationShutdown {
  constructor(
    private readonly producer: QueueProducer,
    private readonly rpc: RedisListClient,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.producer.close(), this.rpc.close()]);
  }
}

export interface RuntimeModuleOptions {
  /** present in processes that consume queues */
  worker?: Pick<WorkerHostOptions, 'queues' | 'onFinalFailure'>;
}

/** Config, queue producer, RPC client and (for workers) the job host, for every app. */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(config: AppConfig, opts: RuntimeModuleOptions = {}): DynamicModule {
    const connection = redisConnection(config.redis.url);
    const providers: DynamicModule['providers'] = [
      { provide: CONFIG, useValue: config },
      { provide: QueueProducer, useFactory: () => new QueueProducer(connection, config.redis.prefix) },
      {
        provide: RedisListClient,
        useFactory: () => new RedisListClient({ url: config.redis.url, prefix: config.redis.prefix, timeoutMs: config.rpcTimeoutMs }),
      },
      RuntimeShutdown,
    ];
    if (opts.worker) {
      const worker = opts.worker;
      providers.push({
        provide: WorkerHost,
        inject: [DiscoveryService, MetadataScanner],
        useFactory: (d: DiscoveryService, s: MetadataScanner) =>
          new WorkerHost(d, s, {
            connection,
            prefix: config.redis.prefix,
            lockMs: config.workers.lockMs,
            shutdownGraceMs: config.shutdownGraceMs,
            ...worker,
          }),
      });
    }
    return {
      module: RuntimeModule,
      imports: [DiscoveryModule],
      providers,
      exports: [CONFIG, QueueProducer, RedisListClient],
    };
  }
}
