// In-process cost of the in-memory search engine on the bench corpus: build N chunks, then time query
// analysis, query embedding, the hybrid search and term similarity (no HTTP, RPC or Postgres).
//   npm run build && node scripts/bench/search-inprocess.mjs [N=30000]
import { text, rng, queries } from './corpus.mjs';
import { analyze, analyzeToString, buildQuery, termSimilarity } from '@ragnest/nlp';
import { HashingEmbedder } from '@ragnest/embedding';
import { MemorySearchIndex } from '@ragnest/search';
const r = rng(5);
const emb = new HashingEmbedder({ tokenize: analyze });
const N = Number(process.argv[2] ?? 30000);
const idx = new MemorySearchIndex();
let t = performance.now();
const batch = [];
for (let i = 0; i < N; i++) {
  const lang = i % 2 ? 'zh' : 'en';
  const content = text(r, lang, lang === 'zh' ? 350 : 500);
  const tokens = analyzeToString(content);
  batch.push({ id: 'c' + i, tenantId: 't', datasetId: 'd', documentId: 'doc' + (i % 500), tokens, vector: emb.embedText(content), available: true });
  if (batch.length === 256) { idx.upsertSync(batch.splice(0)); }
}
idx.upsertSync(batch.splice(0));
console.log('built', N, 'in', ((performance.now() - t) / 1000).toFixed(1), 's');
const qs = queries(rng(7), 300); for (const q of qs) buildQuery(q);
const tm = { query: 0, embed: 0, search: 0, term: 0 };
for (const q of qs) {
  let a = performance.now();
  const qt = buildQuery(q); tm.query += performance.now() - a; a = performance.now();
  const qv = emb.embedText(q); tm.embed += performance.now() - a; a = performance.now();
  const cands = idx.searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: qt.tokens, queryVector: qv, textLimit: 64, vectorLimit: 64 });
  tm.search += performance.now() - a; a = performance.now();
  for (const c of cands) termSimilarity(qt, c.tokens);
  tm.term += performance.now() - a;
}
for (const k in tm) console.log(k, (tm[k] / qs.length).toFixed(2), 'ms/query');
// split legs
let a = performance.now();
for (const q of qs) { const qt = buildQuery(q); idx.searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: qt.tokens, queryVector: null, textLimit: 64, vectorLimit: 0 }); }
console.log('text leg only', ((performance.now() - a) / qs.length).toFixed(2), 'ms');
a = performance.now();
for (const q of qs) { idx.searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [], queryVector: emb.embedText(q), textLimit: 0, vectorLimit: 64 }); }
console.log('vector leg only', ((performance.now() - a) / qs.length).toFixed(2), 'ms');
