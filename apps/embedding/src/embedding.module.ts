import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { InfraModule, RuntimeModule } from '@ragnest/runtime';
import { Queues } from '@ragnest/contracts';
import { embeddingRegistryProvider } from './embedding-registry.provider.js';
import { EmbedChunksService } from './embed-chunks.service.js';
import { EmbedChunksHandler } from './embed-chunks.handler.js';

@Module({})
export class EmbeddingWorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: EmbeddingWorkerModule,
      imports: [RuntimeModule.forRoot(config, { worker: { queues: [{ queue: Queues.embed, concurrency: config.workers.embedConcurrency }] } }), InfraModule],
      providers: [embeddingRegistryProvider, EmbedChunksService, EmbedChunksHandler],
    };
  }
}
