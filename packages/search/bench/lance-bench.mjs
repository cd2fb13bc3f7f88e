#!/usr/bin/env node
// Benchmark of the embedded (LanceDB) search index, against the built package (run `npx tsc -b packages/search` first).
//
//   node packages/search/bench/lance-bench.mjs [N=100000] [--dim=384] [--queries=400] [--concurrency=8]
//        [--data=clustered|uniform] [--ef=N] [--dir=/path [--reuse]] [--keep]
//
// Builds an index of N random unit vectors with random token strings (Zipf-distributed vocabulary), runs
// optimize() (which trains the vector index), then measures search() latency at the given concurrency with
// textLimit = vectorLimit = 64, for a filter covering the whole corpus (one tenant, all datasets) and for a
// selective one (one dataset = 10% of the rows). Recall@10 of the vector leg is measured against an exact
// brute-force scan done here in JS. Queries are perturbed copies of stored vectors (cosine ≈ 0.8 to the
// source), i.e. questions that have a close answer, plus two tokens of that chunk and two random ones.
//
// --data=clustered (default): vectors scattered around 256 random centres, anisotropic like real text
//   embeddings. --data=uniform: i.i.d. Gaussian directions, the worst case for any ANN index (all
//   neighbours beyond the first are near-ties), kept for comparison.
// --reuse: with --dir, skip ingest/optimize when the table is already there (the data is deterministic).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { LanceSearchIndex } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
const DIM = Number(flag('dim', 384));
const QUERIES = Number(flag('queries', 400));
const CONCURRENCY = Number(flag('concurrency', 8));
const DATA = flag('data', 'clustered');
const EF = flag('ef', '') ? Number(flag('ef', '')) : undefined;
const REUSE = args.includes('--reuse');
const KEEP = args.includes('--keep');
const LIMIT = 64;
const DATASETS = 10;
const TENANT = 'bench-tenant';

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = rng(12345);
const gauss = () => {
  let u = 0;
  while (u === 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
};
function normalize(v) {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

const centers = DATA === 'clustered' ? Array.from({ length: 256 }, () => normalize(Float32Array.from({ length: DIM }, gauss))) : null;
function dataVector() {
  const v = new Float32Array(DIM);
  if (centers) {
    const c = centers[Math.floor(r() * centers.length)];
    for (let i = 0; i < DIM; i++) v[i] = c[i] + gauss() * 0.06;
  } else {
    for (let i = 0; i < DIM; i++) v[i] = gauss();
  }
  return normalize(v);
}

const VOCAB = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
const word = () => VOCAB[Math.floor(Math.pow(r(), 2.5) * VOCAB.length)];
const tokens = () => Array.from({ length: 30 + Math.floor(r() * 60) }, word).join(' ');

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms) => `${ms.toFixed(1)} ms`;

async function main() {
  const dir = flag('dir', '') || (await mkdtemp(join(tmpdir(), 'ragnest-lance-bench-')));
  console.log(`lance-bench: N=${N} dim=${DIM} data=${DATA} queries=${QUERIES} concurrency=${CONCURRENCY} ef=${EF ?? 'default'} dir=${dir}`);
  console.log(`machine: ${cpus().length} cpus, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const idx = new LanceSearchIndex({ dir, ...(EF ? { hnswEf: EF } : {}) });
  const reuse = REUSE && (await idx.count({ tenantId: TENANT, datasetIds: Array.from({ length: DATASETS }, (_, i) => `ds${i}`) })) >= N;
  await idx.ensureReady(DIM);

  // ---- ingest
  const vectors = new Float32Array(N * DIM);
  const chunkTokens = [];
  const datasetOf = new Uint8Array(N);
  let t0 = performance.now();
  const BATCH = 5_000;
  for (let start = 0; start < N; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(N, start + BATCH); i++) {
      const v = dataVector();
      vectors.set(v, i * DIM);
      const tk = tokens();
      chunkTokens.push(tk);
      datasetOf[i] = i % DATASETS;
      batch.push({
        id: `c${i.toString(16).padStart(8, '0')}`,
        tenantId: TENANT,
        datasetId: `ds${i % DATASETS}`,
        documentId: `doc${Math.floor(i / 50)}`,
        tokens: tk,
        vector: v,
        available: true,
      });
    }
    if (!reuse) await idx.upsert(batch);
  }
  if (reuse) {
    console.log('reusing the existing index');
  } else {
    const ingestMs = performance.now() - t0;
    console.log(`ingest: ${N} rows in ${(ingestMs / 1000).toFixed(1)} s (${Math.round(N / (ingestMs / 1000))} rows/s, upsert batches of ${BATCH})`);
    // ---- optimize (vector index training + FTS/scalar index folding + compaction)
    t0 = performance.now();
    await idx.optimize();
    console.log(`optimize (first, builds the vector index): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  t0 = performance.now();
  await idx.optimize();
  console.log(`optimize (idle): ${fmt(performance.now() - t0)}`);

  // ---- queries
  const queries = Array.from({ length: QUERIES }, () => {
    const src = Math.floor(r() * N);
    const noise = normalize(Float32Array.from({ length: DIM }, gauss));
    const q = new Float32Array(DIM);
    for (let i = 0; i < DIM; i++) q[i] = vectors[src * DIM + i] + 0.75 * noise[i];
    const own = chunkTokens[src].split(' ');
    const qt = [own[Math.floor(r() * own.length)], own[Math.floor(r() * own.length)], word(), word()];
    return { vector: normalize(q), tokens: qt, dataset: datasetOf[src] };
  });

  const scenarios = [
    { name: 'whole corpus (1 tenant, all 10 datasets)', datasets: (_q) => Array.from({ length: DATASETS }, (_, i) => `ds${i}`), only: null },
    { name: 'selective (1 dataset = 10% of rows)', datasets: (q) => [`ds${q.dataset}`], only: (q) => q.dataset },
  ];

  for (const sc of scenarios) {
    const run = async (q) => {
      const a = performance.now();
      const res = await idx.search({
        filter: { tenantId: TENANT, datasetIds: sc.datasets(q) },
        queryTokens: q.tokens,
        queryVector: q.vector,
        textLimit: LIMIT,
        vectorLimit: LIMIT,
      });
      return { ms: performance.now() - a, res };
    };
    // warm-up
    for (const q of queries.slice(0, 16)) await run(q);
    const lat = [];
    const results = new Array(queries.length);
    let next = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < queries.length) {
          const i = next++;
          const { ms, res } = await run(queries[i]);
          lat.push(ms);
          results[i] = res;
        }
      }),
    );
    const wall = performance.now() - t0;
    lat.sort((a, b) => a - b);

    // recall@10 of the vector leg vs exact brute force over the same filter
    let hits = 0;
    let total = 0;
    const RECALL_Q = Math.min(100, queries.length);
    for (let qi = 0; qi < RECALL_Q; qi++) {
      const q = queries[qi];
      const only = sc.only ? sc.only(q) : null;
      const top = [];
      for (let i = 0; i < N; i++) {
        if (only !== null && datasetOf[i] !== only) continue;
        let d = 0;
        const o = i * DIM;
        for (let j = 0; j < DIM; j++) d += q.vector[j] * vectors[o + j];
        if (top.length < 10 || d > top[top.length - 1].d) {
          top.push({ i, d });
          top.sort((a, b) => b.d - a.d);
          if (top.length > 10) top.pop();
        }
      }
      const vectorLeg = [...results[qi]].sort((a, b) => b.vectorSimilarity - a.vectorSimilarity).slice(0, 10);
      const got = new Set(vectorLeg.map((c) => c.id));
      for (const t of top) if (got.has(`c${t.i.toString(16).padStart(8, '0')}`)) hits++;
      total += top.length;
    }
    const avgHits = results.reduce((s, r) => s + r.length, 0) / results.length;
    console.log(`\nsearch, ${sc.name}:`);
    console.log(
      `  latency p50 ${fmt(pct(lat, 50))}  p95 ${fmt(pct(lat, 95))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(lat[lat.length - 1])}` +
        `  (${queries.length} queries, concurrency ${CONCURRENCY}, ${Math.round(queries.length / (wall / 1000))} q/s, avg ${avgHits.toFixed(0)} candidates)`,
    );
    console.log(`  vector-leg recall@10 vs brute force: ${(hits / total).toFixed(3)} (${RECALL_Q} queries)`);
    // the same queries one at a time (service time without queueing)
    const seq = [];
    for (const q of queries.slice(0, 100)) seq.push((await run(q)).ms);
    seq.sort((a, b) => a - b);
    console.log(`  sequential (concurrency 1): p50 ${fmt(pct(seq, 50))}  p95 ${fmt(pct(seq, 95))}  p99 ${fmt(pct(seq, 99))}`);
  }

  // ---- freshness: a write is searchable when upsert resolves, also after the index exists
  const fresh = { id: 'fresh', tenantId: TENANT, datasetId: 'ds0', documentId: 'docfresh', tokens: 'freshtoken', vector: dataVector(), available: true };
  t0 = performance.now();
  await idx.upsert([fresh]);
  const upsertMs = performance.now() - t0;
  const found = await idx.search({ filter: { tenantId: TENANT, datasetIds: ['ds0'] }, queryTokens: ['freshtoken'], queryVector: fresh.vector, textLimit: 5, vectorLimit: 5 });
  console.log(`\nsingle-row upsert: ${fmt(upsertMs)}; found right after: ${found[0]?.id === 'fresh'}`);
  t0 = performance.now();
  await idx.optimize();
  console.log(`optimize after 1 new row (below thresholds, skipped): ${fmt(performance.now() - t0)}`);

  await idx.deleteByIds(TENANT, ['fresh']);
  await idx.close();
  if (!KEEP && !flag('dir', '')) await rm(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
