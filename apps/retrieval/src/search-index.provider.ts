import type { Provider } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { createSearchIndex, type SearchIndex } from '@ragnest/search';
import { CONFIG } from '@ragnest/runtime';

export const SEARCH_INDEX = Symbol('SEARCH_INDEX');

/** Elasticsearch when ELASTICSEARCH_URL is set, else the embedded engine chosen by SEARCH_ENGINE. */
export const searchIndexProvider: Provider = {
  provide: SEARCH_INDEX,
  inject: [CONFIG],
  useFactory: (c: AppConfig): SearchIndex =>
    createSearchIndex({
      dataDir: c.dataDir,
      embeddedEngine: c.search.engine,
      ...(c.elasticsearch
        ? {
            elasticsearchUrl: c.elasticsearch.node,
            ...(c.elasticsearch.username ? { elasticsearchUsername: c.elasticsearch.username } : {}),
            ...(c.elasticsearch.password ? { elasticsearchPassword: c.elasticsearch.password } : {}),
            ...(c.elasticsearch.apiKey ? { elasticsearchApiKey: c.elasticsearch.apiKey } : {}),
            elasticsearchIndexPrefix: c.elasticsearch.indexPrefix,
          }
        : {}),
    }),
};
