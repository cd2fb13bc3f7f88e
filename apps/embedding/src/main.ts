import { runApp } from '@ragnest/runtime';
import { EmbeddingWorkerModule } from './embedding.module.js';

await runApp({
  name: 'embedding',
  kind: 'worker',
  module: (config) => EmbeddingWorkerModule.forRoot(config),
  readyMessage: (c) => `embedding worker ready (provider ${c.embedding.provider}, concurrency ${c.workers.embedConcurrency})`,
});
