export * from './port.js';
export { MemorySearchIndex, type MemorySearchIndexOptions } from './memory.js';
export { LanceSearchIndex, type LanceSearchIndexOptions } from './lance.js';
export {
  ElasticsearchSearchIndex,
  type ElasticsearchSearchIndexOptions,
  elasticsearchMapping,
  cosineFromKnnScore,
} from './elasticsearch.js';
export { createSearchIndex, type SearchIndexConfig } from './factory.js';
export { describeSearchIndexConformance, type ConformanceOptions } from './conformance.js';
