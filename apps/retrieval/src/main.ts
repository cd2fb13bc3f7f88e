import { runApp } from '@ragnest/runtime';
import type { SearchIndex } from '@ragnest/search';
import { RetrievalModule } from './retrieval.module.js';
import { SEARCH_INDEX } from './search-index.provider.js';
import { replicaId } from './replica.js';

await runApp({
  name: 'retrieval',
  kind: 'rpc',
  rpc: { group: 'retrieval', concurrency: 8, replicaId },
  module: (config) => RetrievalModule.forRoot(config),
  // the retrieval service is only useful while its search engine answers
  extraHealth: (app) => ({ search: () => app.get<SearchIndex>(SEARCH_INDEX, { strict: false }).health() }),
  readyMessage: (c) => `retrieval ready (${c.elasticsearch ? 'Elasticsearch' : 'embedded search'}; replica ${replicaId})`,
});
