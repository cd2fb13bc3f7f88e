// CPU per page of the whole PDF parser (`parsePdf`: text layer, layout, margins, pictures) on the bench's PDFs
// (scripts/bench/corpus.mjs: pages of 40 lines of English in Helvetica), warm, in this process. Compares builds
// of packages/nlp: each argument is a dist directory (default: packages/nlp/dist), e.g. a copy of the dist built
// from an older commit. Prints CPU ms/page (user+system, this process) and pages/s; also checks that every build
// yields the same sections. Compare CPU per page rather than wall time on a shared machine.
//   node scripts/bench/pdf-parse-cpu.mjs [distDir ...] [--pages 50] [--rounds 5]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pdf, rng } from './corpus.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const PAGES = opt('pages', 50);
const ROUNDS = opt('rounds', 5);
const dists = args.length ? args : ['packages/nlp/dist'];
const file = pdf(rng(3), PAGES);
const source = { fileName: 'bench.pdf', size: file.length, stream: async () => { throw new Error('unused'); }, buffer: async () => file };
const OPTS = { maxInMemoryBytes: 100 * 1024 * 1024 };
console.log('pdf bytes', file.length, 'pages', PAGES, 'rounds', ROUNDS);

const builds = [];
for (const dir of dists) {
  const { parsePdf } = await import(pathToFileURL(resolve(dir, 'parsers/pdf.js')).href);
  builds.push({ dir, parsePdf });
}
async function parse(parsePdf) {
  const out = [];
  for await (const s of parsePdf(source, OPTS)) out.push(s);
  return out;
}
const outputs = [];
for (const b of builds) outputs.push(JSON.stringify(await parse(b.parsePdf))); // warm-up (loads the engine)
for (let i = 1; i < outputs.length; i++) console.log(builds[i].dir, outputs[i] === outputs[0] ? 'same sections as' : 'DIFFERENT sections from', builds[0].dir);
for (let round = 0; round < 2; round++) {
  for (const b of builds) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < ROUNDS; i++) await parse(b.parsePdf);
    const c = process.cpuUsage(c0);
    const pages = ROUNDS * PAGES;
    console.log(
      b.dir.padEnd(28),
      'cpu ms/page',
      ((c.user + c.system) / 1000 / pages).toFixed(2),
      'pages/s',
      (pages / ((performance.now() - t0) / 1000)).toFixed(0),
      'rss MB',
      (process.memoryUsage().rss / 1e6).toFixed(0),
    );
  }
}
