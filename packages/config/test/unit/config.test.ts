import { loadConfig } from '../../src/index.js';

const base = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('loadConfig: search', () => {
  it('the in-memory engine without Elasticsearch follows the index feed', () => {
    const c = loadConfig({ ...base });
    expect(c.search).toMatchObject({ engine: 'memory', followsFeed: true });
    expect(c.elasticsearch).toBeUndefined();
  });

  it('Elasticsearch or LanceDB do not follow the feed: they get index jobs', () => {
    expect(loadConfig({ ...base, ELASTICSEARCH_URL: 'http://127.0.0.1:9200' }).search.followsFeed).toBe(false);
    expect(loadConfig({ ...base, SEARCH_ENGINE: 'lance' }).search.followsFeed).toBe(false);
  });
});
