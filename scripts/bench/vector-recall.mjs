// Recall of the in-memory engine's vector leg (usearch HNSW, i8) against an exact scan, on the bench corpus
// embedded by the built-in hashing embedder, for several search expansions (ef), with the cost per query.
//   npm run build && node scripts/bench/vector-recall.mjs [N=100000] [ef list=128,96,64] [uniform|zipf]
// zipf: the Zipfian corpus and queries of run.mjs --corpus zipf (chunks of ~430 bytes).
// "within .01 of 64th": share of returned hits whose similarity is at most 0.01 below the exact 64th best
// (near-ties count as found); "mean sim gap": mean similarity of the returned hits minus the exact ones'.
import { text, rng, queries, zipfQueries, zipfText } from './corpus.mjs';
import { analyze, analyzeToString, buildQuery } from '@ragnest/nlp';
import { HashingEmbedder } from '@ragnest/embedding';
import { MemorySearchIndex } from '@ragnest/search';
const N = Number(process.argv[2] ?? 100000);
const emb = new HashingEmbedder({ tokenize: analyze });
const r = rng(5);
const rows = [];
const zipf = process.argv[4] === 'zipf';
for (let i = 0; i < N; i++) { const lang = i % 2 ? 'zh' : 'en'; const content = zipf ? zipfText(r, 430) : text(r, lang, lang === 'zh' ? 350 : 500); rows.push({ id: 'c' + i, tenantId: 't', datasetId: 'd', documentId: 'doc' + (i % 500), tokens: analyzeToString(content), vector: emb.embedText(content), available: true }); }
const qs = (zipf ? zipfQueries(rng(7), 300) : queries(rng(7), 300)).map((q) => emb.embedText(q));
const exact = new MemorySearchIndex({ exactBelow: 1e9 });
for (let i = 0; i < N; i += 256) exact.upsertSync(rows.slice(i, i + 256));
const ex = qs.map((qv) => exact.searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [], queryVector: qv, textLimit: 0, vectorLimit: 64 }));
const truth = ex.map((l) => new Set(l.map((c) => c.id)));
const bar = ex.map((l) => Math.min(...l.map((c) => c.vectorSimilarity)));
const exMean = ex.map((l) => l.reduce((a, c) => a + c.vectorSimilarity, 0) / l.length);
console.log('exact: top1', (ex.reduce((a,l)=>a+Math.max(...l.map(c=>c.vectorSimilarity)),0)/ex.length).toFixed(4), '64th', (bar.reduce((a,b)=>a+b,0)/bar.length).toFixed(4));
for (const ef of (process.argv[3] ?? '128,96,64').split(',').map(Number)) {
  const idx = new MemorySearchIndex({ expansionSearch: ef });
  for (let i = 0; i < N; i += 256) idx.upsertSync(rows.slice(i, i + 256));
  let hit = 0, near = 0, mean = 0;
  for (let k = 0; k < 2; k++) for (const qv of qs) idx.searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [], queryVector: qv, textLimit: 0, vectorLimit: 64 });
  const a = performance.now();
  qs.forEach((qv, j) => { for (const c of idx.searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: [], queryVector: qv, textLimit: 0, vectorLimit: 64 })) { if (truth[j].has(c.id)) hit++; if (c.vectorSimilarity >= bar[j] - 0.01) near++; mean += c.vectorSimilarity / 64 - exMean[j] / 64; } });
  console.log('ef', ef, 'ms/query', ((performance.now() - a) / qs.length).toFixed(3), 'recall@64', (hit / (64 * qs.length)).toFixed(4), 'within .01 of 64th', (near / (64 * qs.length)).toFixed(4), 'mean sim gap', (mean / qs.length).toFixed(4));
}
