import { Global, Module, type DynamicModule, type OnApplicationShutdown, Injectable } from '@nestjs/common';
import { CONFIG } from './tokens.js';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { AppConfig } from '@ragnest/config';
import { QueueProducer } from './queue/producer.js';
import { WorkerHost, type WorkerHostOptions } from './queue/worker-host.js';
import { RedisListClient } from './rpc/redis-list.client.js';
import { redisConnection } from './redis.js';
import { DocumentFailureHandler } from './document-failure.js';


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
  worker?: Pick<WorkerHostOptions, 'queues'>;
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
        // present when InfraModule (Postgres) is loaded: failed jobs then end their document as FAIL
        inject: [DiscoveryService, MetadataScanner, { token: DocumentFailureHandler, optional: true }],
        useFactory: (d: DiscoveryService, s: MetadataScanner, failures?: DocumentFailureHandler) =>
          new WorkerHost(d, s, {
            connection,
            prefix: config.redis.prefix,
            lockMs: config.workers.lockMs,
            shutdownGraceMs: config.shutdownGraceMs,
            ...(failures ? { onFinalFailure: (name, payload, err) => failures.handle(name, payload, err) } : {}),
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
