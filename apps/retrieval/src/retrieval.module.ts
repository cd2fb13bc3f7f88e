import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { CONFIG, InfraModule, RuntimeModule } from '@ragnest/runtime';
import { Queues } from '@ragnest/contracts';
import { EmbeddingRegistry, createEmbeddingRegistry } from '@ragnest/embedding';
import { searchIndexProvider } from './search-index.provider.js';
import { SearchService } from './search/search.service.js';
import { IndexWriter } from './index/index-writer.service.js';
import { IndexDimensions } from './index/index-dimensions.service.js';
import { IndexJobsHandler } from './index/index-jobs.handler.js';
import { IndexMaintenance } from './index/index-maintenance.service.js';
import { MemoryIndexSync } from './index/memory-sync.service.js';
import { RetrievalRpcController } from './rpc/retrieval.rpc.controller.js';
import { REPLICA_ID, replicaId } from './replica.js';

@Module({})
export class RetrievalModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: RetrievalModule,
      imports: [RuntimeModule.forRoot(config, { worker: { queues: [{ queue: Queues.index, concurrency: config.workers.indexConcurrency }] } }), InfraModule],
      controllers: [RetrievalRpcController],
      providers: [
        { provide: REPLICA_ID, useValue: replicaId },
        { provide: EmbeddingRegistry, inject: [CONFIG], useFactory: (c: AppConfig) => createEmbeddingRegistry(c.embedding) },
        searchIndexProvider,
        IndexDimensions,
        SearchService,
        IndexWriter,
        IndexJobsHandler,
        IndexMaintenance,
        MemoryIndexSync,
      ],
    };
  }
}
