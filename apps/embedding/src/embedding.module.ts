import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { CONFIG, InfraModule, RuntimeModule } from '@ragnest/runtime';
import { Queues } from '@ragnest/contracts';
import { EmbeddingRegistry, createEmbeddingRegistry } from '@ragnest/embedding';
import { EmbedChunksService } from './embed-chunks.service.js';
import { EmbedChunksHandler } from './embed-chunks.handler.js';

@Module({})
export class EmbeddingWorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: EmbeddingWorkerModule,
      imports: [RuntimeModule.forRoot(config, { worker: { queues: [{ queue: Queues.embed, concurrency: config.workers.embedConcurrency }] } }), InfraModule],
      providers: [{ provide: EmbeddingRegistry, inject: [CONFIG], useFactory: (c: AppConfig) => createEmbeddingRegistry(c.embedding) }, EmbedChunksService, EmbedChunksHandler],
    };
  }
}
