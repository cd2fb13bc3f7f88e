import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { InfraModule, RuntimeModule } from '@ragnest/runtime';
import { Queues } from '@ragnest/contracts';
import { ParseTaskHandler } from './parse/parse-task.handler.js';
import { ParseTaskService } from './parse/parse-task.service.js';
import { OcrEngine } from './parse/ocr-engine.js';
import { ReconcilerService } from './reconcile/reconciler.service.js';

@Module({})
export class IngestModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        RuntimeModule.forRoot(config, {
          worker: { queues: [{ queue: Queues.ingest, concurrency: config.workers.ingestConcurrency }] },
        }),
        InfraModule,
      ],
      providers: [OcrEngine, ParseTaskService, ParseTaskHandler, ReconcilerService],
    };
  }
}
