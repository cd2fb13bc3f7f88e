import { runApp } from '@ragnest/runtime';
import { IngestModule } from './ingest.module.js';

await runApp({
  name: 'ingest-worker',
  kind: 'worker',
  module: (config) => IngestModule.forRoot(config),
  readyMessage: (c) => `ingest-worker ready (concurrency ${c.workers.ingestConcurrency})`,
});
