import { runApp } from '@ragnest/runtime';
import { RetrievalModule } from './retrieval.module.js';
import { MemoryIndexSync } from './index/memory-sync.service.js';
import { replicaId } from './replica.js';

await runApp({
  name: 'retrieval',
  kind: 'rpc',
  // a replica still loading its in-memory index takes no query (others answer them meanwhile, instead of queries
  // waiting here past their timeout); with one replica, queries wait in the list for it
  rpc: { group: 'retrieval', concurrency: 8, replicaId, takeRequestsAfter: (app) => app.get(MemoryIndexSync, { strict: false }).whenLoaded() },
  module: (config) => RetrievalModule.forRoot(config),
  // the retrieval service is only useful while its search engine answers (and, in memory, is loaded)
  extraHealth: (app) => ({ search: () => app.get(MemoryIndexSync, { strict: false }).health() }),
  readyMessage: (c) => `retrieval ready (${c.elasticsearch ? 'Elasticsearch' : 'embedded search'}; replica ${replicaId})`,
});
