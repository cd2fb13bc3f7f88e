// Memory of the in-memory search engine on spreadsheet-like rows (every row brings unique ids and amounts,
// so most terms occur once): RSS and heap per chunk after building N chunks.
//   npm run build && node --expose-gc scripts/bench/memory-inprocess.mjs [N=50000]
import { rng } from './corpus.mjs';
import { analyze, analyzeToString } from '@ragnest/nlp';
import { HashingEmbedder } from '@ragnest/embedding';
import { MemorySearchIndex } from '@ragnest/search';
const r = rng(11);
const emb = new HashingEmbedder({ tokenize: analyze });
const N = Number(process.argv[2] ?? 50000);
const WORDS = 'north south east west retail wholesale online invoice refund shipment order'.split(' ');
const gc = globalThis.gc ?? (() => {});
gc();
const before = process.memoryUsage();
const idx = new MemorySearchIndex();
let id = 0;
const batch = [];
for (let i = 0; i < N; i++) {
  const rows = [];
  for (let k = 0; k < 10; k++) {
    id++;
    rows.push(`id: ${id}; amount: ${(r() * 1e4).toFixed(2)}; region: ${WORDS[Math.floor(r() * WORDS.length)]}; category: ${WORDS[Math.floor(r() * WORDS.length)]}`);
  }
  const content = rows.join('\n');
  batch.push({ id: `c${i}`, tenantId: 't', datasetId: 'd', documentId: 'doc', tokens: analyzeToString(content), vector: emb.embedText(content), available: true, documentName: 'sheet.csv' });
  if (batch.length === 500) idx.upsertSync(batch.splice(0));
}
idx.upsertSync(batch.splice(0));
gc();
const after = process.memoryUsage();
const per = (k) => ((after[k] - before[k]) / N).toFixed(0);
console.log(JSON.stringify({ chunks: N, bytesPerChunk: { rss: per('rss'), heapUsed: per('heapUsed'), external: per('external'), arrayBuffers: per('arrayBuffers') }, rssMB: Math.round(after.rss / 2 ** 20) }));
