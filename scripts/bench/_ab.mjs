import { text, rng, queries } from './corpus.mjs';
import { analyze, analyzeToString, buildQuery } from '@ragnest/nlp';
import { HashingEmbedder } from '@ragnest/embedding';
const A = (await import('../../packages/search/dist-old/memory.js')).MemorySearchIndex;
const B = (await import('../../packages/search/dist/memory.js')).MemorySearchIndex;
const emb = new HashingEmbedder({ tokenize: analyze });
const N = Number(process.argv[2] ?? 40000);
const rows = [];
const r = rng(5);
for (let i = 0; i < N; i++) {
  const lang = i % 2 ? 'zh' : 'en';
  const content = text(r, lang, lang === 'zh' ? 350 : 500);
  rows.push({ id: 'c' + i, tenantId: 't', datasetId: 'd', documentId: 'doc' + (i % 500), tokens: analyzeToString(content), vector: emb.embedText(content), available: true });
}
const idx = [new A(), new B()];
for (const x of idx) for (let i = 0; i < rows.length; i += 256) x.upsertSync(rows.slice(i, i + 256));
const qs = queries(rng(7), 300).map((q) => buildQuery(q).tokens);
const same = qs.every((t) => JSON.stringify(idx[0].searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: t, queryVector: null, textLimit: 64, vectorLimit: 0 }).map((c) => c.id)) === JSON.stringify(idx[1].searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: t, queryVector: null, textLimit: 64, vectorLimit: 0 }).map((c) => c.id)));
console.log('same results', same);
for (let round = 0; round < 6; round++) {
  for (const [name, x] of [['old', idx[0]], ['new', idx[1]]]) {
    const a = performance.now();
    for (const t of qs) x.searchSync({ filter: { tenantId: 't', datasetIds: ['d'] }, queryTokens: t, queryVector: null, textLimit: 64, vectorLimit: 0 });
    process.stdout.write(`${name} ${((performance.now() - a) / qs.length).toFixed(3)}  `);
  }
  console.log();
}
