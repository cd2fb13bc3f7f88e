import { join } from 'node:path';
import { ElasticsearchSearchIndex } from './elasticsearch.js';
import { LanceSearchIndex } from './lance.js';
import { MemorySearchIndex } from './memory.js';
import type { SearchIndex } from './port.js';

export interface SearchIndexConfig {
  /** When set, chunks are indexed in Elasticsearch; otherwise in the embedded LanceDB index. */
  elasticsearchUrl?: string;
  elasticsearchUsername?: string;
  elasticsearchPassword?: string;
  elasticsearchApiKey?: string;
  /** Prefix of the Elasticsearch index names (e.g. `ragnest_`). */
  elasticsearchIndexPrefix?: string;
  /** Embedded engine: `memory` (in-process, filled by the caller from its source of truth) or `lance` (default lance). */
  embeddedEngine?: 'memory' | 'lance';
  /** The LanceDB index lives in `${dataDir}/index`. */
  dataDir: string;
  /** Embedded index only: how stale a reader may be w.r.t. other processes' writes (default 0 s). */
  readConsistencyIntervalSeconds?: number;
}

/** Elasticsearch when a URL is configured, else LanceDB under `${dataDir}/index`. Nothing is contacted here. */
export function createSearchIndex(cfg: SearchIndexConfig): SearchIndex {
  if (cfg.elasticsearchUrl) {
    return new ElasticsearchSearchIndex({
      node: cfg.elasticsearchUrl,
      ...(cfg.elasticsearchUsername !== undefined ? { username: cfg.elasticsearchUsername } : {}),
      ...(cfg.elasticsearchPassword !== undefined ? { password: cfg.elasticsearchPassword } : {}),
      ...(cfg.elasticsearchApiKey !== undefined ? { apiKey: cfg.elasticsearchApiKey } : {}),
      ...(cfg.elasticsearchIndexPrefix !== undefined ? { indexPrefix: cfg.elasticsearchIndexPrefix } : {}),
    });
  }
  if (cfg.embeddedEngine === 'memory') return new MemorySearchIndex();
  if (!cfg.dataDir) throw new Error('createSearchIndex: dataDir is required for the embedded index');
  return new LanceSearchIndex({
    dir: join(cfg.dataDir, 'index'),
    ...(cfg.readConsistencyIntervalSeconds !== undefined
      ? { readConsistencyIntervalSeconds: cfg.readConsistencyIntervalSeconds }
      : {}),
  });
}
