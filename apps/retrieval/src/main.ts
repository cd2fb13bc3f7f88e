import { runApp } from '@ragnest/runtime';
import { RetrievalModule } from './retrieval.module.js';
import { replicaId } from './replica.js';

await runApp({
  name: 'retrieval',
  kind: 'rpc',
  rpc: { group: 'retrieval', concurrency: 8, replicaId },
  module: (config) => RetrievalModule.forRoot(config),
  readyMessage: (c) => `retrieval ready (${c.elasticsearch ? 'Elasticsearch' : 'embedded search'}; replica ${replicaId})`,
});
