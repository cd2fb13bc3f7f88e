import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { ElasticsearchSearchIndex, describeSearchIndexConformance } from '../../src/index.js';

const url = process.env.ELASTICSEARCH_URL;

if (url) {
  // a fresh prefix per run: indices are dropped afterwards
  const prefix = `ragnest_test_${randomBytes(4).toString('hex')}_`;
  const auth = {
    ...(process.env.ELASTICSEARCH_USERNAME ? { username: process.env.ELASTICSEARCH_USERNAME } : {}),
    ...(process.env.ELASTICSEARCH_PASSWORD ? { password: process.env.ELASTICSEARCH_PASSWORD } : {}),
    ...(process.env.ELASTICSEARCH_API_KEY ? { apiKey: process.env.ELASTICSEARCH_API_KEY } : {}),
  };
  describeSearchIndexConformance(
    'ElasticsearchSearchIndex',
    async () => new ElasticsearchSearchIndex({ node: url, indexPrefix: prefix, ...auth }),
    async () => {
      const client = new Client({
        node: url,
        ...(auth.apiKey ? { auth: { apiKey: auth.apiKey } } : auth.username ? { auth: { username: auth.username, password: auth.password ?? '' } } : {}),
      });
      try {
        await client.indices.delete({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true });
      } finally {
        await client.close();
      }
    },
  );
} else {
  test.skip('ElasticsearchSearchIndex conformance skipped: ELASTICSEARCH_URL not set', () => {});
}
