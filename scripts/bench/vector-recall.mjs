// Recall of the in-memory engine's vector leg (usearch HNSW, i8) against an exact scan, on the bench corpus
// embedded by the built-in hashing embedder, for several search expansions (ef), with the cost per query.
//   npm run build && node scripts/bench/vector-recall.mjs [N=100000] [ef list=128,96,64] [uniform|zipf]
// zipf: the Zipfian corpus and queries of run.mjs --corpus zipf (chunks of ~430 bytes).
// "within .01 of 64th": share of returned hits whose similarity is at most 0.01 below the exact 64th best
// (near-ties count as found); "mean sim gap": mean similarity of the returned hits minus the exact ones'.
import { rng, queries, zipfQueries, zipfText } from './corpus.mjs';
import { MemorySearchIndex } from '@ragnest/search';
import { SCOPE, embedder, engineRow, uniformContent } from './engine-rows.mjs';

const N = Number(process.argv[2] ?? 100000);
const zipf = process.argv[4] === 'zipf';
const r = rng(5);
const rows = Array.from({ length: N }, (_, i) => engineRow(i, zipf ? zipfText(r, 430) : uniformContent(r, i)));
const qs = (zipf ? zipfQueries(rng(7), 300) : queries(rng(7), 300)).map((q) => embedder.embedText(q));
const vectorTop64 = (idx, qv) => idx.searchSync({ filter: SCOPE, queryTokens: [], queryVector: qv, textLimit: 0, vectorLimit: 64 });
const filled = (opts) => {
  const idx = new MemorySearchIndex(opts);
  for (let i = 0; i < N; i += 256) idx.upsertSync(rows.slice(i, i + 256));
  return idx;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const exactIdx = filled({ exactBelow: 1e9 });
const ex = qs.map((qv) => vectorTop64(exactIdx, qv));
const truth = ex.map((l) => new Set(l.map((c) => c.id)));
const bar = ex.map((l) => Math.min(...l.map((c) => c.vectorSimilarity)));
const exMean = ex.map((l) => mean(l.map((c) => c.vectorSimilarity)));
console.log('exact: top1', mean(ex.map((l) => Math.max(...l.map((c) => c.vectorSimilarity)))).toFixed(4), '64th', mean(bar).toFixed(4));
for (const ef of (process.argv[3] ?? '128,96,64').split(',').map(Number)) {
  const idx = filled({ expansionSearch: ef });
  for (let k = 0; k < 2; k++) for (const qv of qs) vectorTop64(idx, qv); // warm-up
  let hit = 0;
  let near = 0;
  let gap = 0;
  const a = performance.now();
  qs.forEach((qv, j) => {
    for (const c of vectorTop64(idx, qv)) {
      if (truth[j].has(c.id)) hit++;
      if (c.vectorSimilarity >= bar[j] - 0.01) near++;
      gap += (c.vectorSimilarity - exMean[j]) / 64;
    }
  });
  const n = 64 * qs.length;
  console.log('ef', ef, 'ms/query', ((performance.now() - a) / qs.length).toFixed(3), 'recall@64', (hit / n).toFixed(4), 'within .01 of 64th', (near / n).toFixed(4), 'mean sim gap', (gap / qs.length).toFixed(4));
}
