// In-process cost of the in-memory search engine on the bench corpus: build N chunks, then time query
// analysis, query embedding, the hybrid search and term similarity (no HTTP, RPC or Postgres).
//   npm run build && node scripts/bench/search-inprocess.mjs [N=30000]
import { rng, queries } from './corpus.mjs';
import { buildQuery, termSimilarity } from '@ragnest/nlp';
import { MemorySearchIndex } from '@ragnest/search';
import { SCOPE, embedder as emb, engineRow, uniformContent } from './engine-rows.mjs';
const r = rng(5);
const N = Number(process.argv[2] ?? 30000);
const idx = new MemorySearchIndex();
let t = performance.now();
const batch = [];
for (let i = 0; i < N; i++) {
  batch.push(engineRow(i, uniformContent(r, i)));
  if (batch.length === 256) idx.upsertSync(batch.splice(0));
}
idx.upsertSync(batch.splice(0));
console.log('built', N, 'in', ((performance.now() - t) / 1000).toFixed(1), 's');
const qs = queries(rng(7), 300); for (const q of qs) buildQuery(q);
const tm = { query: 0, embed: 0, search: 0, term: 0 };
for (const q of qs) {
  let a = performance.now();
  const qt = buildQuery(q); tm.query += performance.now() - a; a = performance.now();
  const qv = emb.embedText(q); tm.embed += performance.now() - a; a = performance.now();
  const cands = idx.searchSync({ filter: SCOPE, queryTokens: qt.tokens, queryVector: qv, textLimit: 64, vectorLimit: 64 });
  tm.search += performance.now() - a; a = performance.now();
  for (const c of cands) termSimilarity(qt, c.tokens);
  tm.term += performance.now() - a;
}
for (const k in tm) console.log(k, (tm[k] / qs.length).toFixed(2), 'ms/query');
// split legs
let a = performance.now();
for (const q of qs) { const qt = buildQuery(q); idx.searchSync({ filter: SCOPE, queryTokens: qt.tokens, queryVector: null, textLimit: 64, vectorLimit: 0 }); }
console.log('text leg only', ((performance.now() - a) / qs.length).toFixed(2), 'ms');
a = performance.now();
for (const q of qs) { idx.searchSync({ filter: SCOPE, queryTokens: [], queryVector: emb.embedText(q), textLimit: 0, vectorLimit: 64 }); }
console.log('vector leg only', ((performance.now() - a) / qs.length).toFixed(2), 'ms');
