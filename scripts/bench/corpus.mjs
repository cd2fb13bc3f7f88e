// Deterministic synthetic corpus for the benchmark: English and Chinese prose in txt, md, html and pdf, drawn
// uniformly from a ~70-word vocabulary per language; and (zipfText / zipfQueries) English-like text drawn from a
// 50,000-word vocabulary with Zipf's law, as word frequencies of real prose are.

const EN = (
  'retrieval index chunk document parser embedding vector search hybrid keyword semantic knowledge ' +
  'dataset query latency throughput worker queue storage cluster replica memory token analyzer language ' +
  'river mountain harbor engine garden library museum market station bridge forest valley desert island ' +
  'contract invoice policy report budget audit revenue customer supplier warehouse shipment schedule ' +
  'protein enzyme neuron galaxy planet comet satellite telescope climate rainfall glacier volcano ' +
  'algorithm compiler database network protocol kernel thread process socket packet router firewall'
).split(' ');
const ZH = (
  '知识库 文档 检索 向量 关键词 语义 数据集 查询 延迟 吞吐量 队列 存储 集群 副本 内存 分词 ' +
  '河流 山脉 港口 发动机 花园 图书馆 博物馆 市场 车站 桥梁 森林 山谷 沙漠 岛屿 合同 发票 政策 ' +
  '报告 预算 审计 收入 客户 供应商 仓库 物流 计划 蛋白质 神经元 星系 行星 卫星 望远镜 气候 冰川 火山 ' +
  '算法 编译器 数据库 网络 协议 内核 线程 进程 路由器 防火墙'
).split(' ');

/** Small seeded PRNG so runs are comparable. */
export function rng(seed = 42) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (r, arr) => arr[Math.floor(r() * arr.length)];

export function englishSentence(r) {
  const n = 8 + Math.floor(r() * 12);
  const words = Array.from({ length: n }, () => pick(r, EN));
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return words.join(' ') + '.';
}

export function chineseSentence(r) {
  const n = 6 + Math.floor(r() * 10);
  return Array.from({ length: n }, () => pick(r, ZH)).join('') + '。';
}

export function paragraph(r, lang, sentences = 4 + Math.floor(r() * 4)) {
  const f = lang === 'zh' ? chineseSentence : englishSentence;
  return Array.from({ length: sentences }, () => f(r)).join(lang === 'zh' ? '' : ' ');
}

/** Text of roughly `bytes` UTF-8 bytes, in paragraphs. */
export function text(r, lang, bytes) {
  const out = [];
  let size = 0;
  while (size < bytes) {
    const p = paragraph(r, lang);
    out.push(p);
    size += Buffer.byteLength(p) + 2;
  }
  return out.join('\n\n');
}

export function markdown(r, lang, bytes) {
  const out = [];
  let size = 0;
  let h = 1;
  while (size < bytes) {
    const head = `## ${lang === 'zh' ? '章节' : 'Section'} ${h++}`;
    const body = [paragraph(r, lang), paragraph(r, lang)].join('\n\n');
    out.push(`${head}\n\n${body}`);
    size += Buffer.byteLength(head) + Buffer.byteLength(body) + 4;
  }
  return `# ${lang === 'zh' ? '基准文档' : 'Benchmark document'}\n\n${out.join('\n\n')}`;
}

export function html(r, lang, bytes) {
  const out = [];
  let size = 0;
  while (size < bytes) {
    const p = `<h2>${pick(r, lang === 'zh' ? ZH : EN)}</h2><p>${paragraph(r, lang)}</p><p>${paragraph(r, lang)}</p>`;
    out.push(p);
    size += Buffer.byteLength(p);
  }
  return `<!doctype html><html><head><title>bench</title></head><body><nav><a href="/">Home</a> <a href="/about">About</a></nav><article>${out.join('\n')}</article><footer>footer</footer></body></html>`;
}

/** A text PDF (Helvetica; English only: a CJK PDF needs embedded CID fonts) with `pages` pages. */
export function pdf(r, pages) {
  const objs = [];
  const add = (s) => objs.push(s) && objs.length;
  const catalog = add('');
  const pagesObj = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids = [];
  for (let p = 0; p < pages; p++) {
    const lines = [];
    for (let i = 0; i < 40; i++) lines.push(englishSentence(r).slice(0, 95));
    const content = ['BT', '/F1 10 Tf', '12 TL', '50 760 Td', ...lines.map((l) => `(${l.replace(/[()\\]/g, '')}) Tj T*`), 'ET'].join('\n');
    const stream = add(`<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`);
    kids.push(add(`<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${stream} 0 R >>`));
  }
  objs[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objs[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let body = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(body));
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body);
  body += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objs.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

export function queries(r, n) {
  return Array.from({ length: n }, (_, i) =>
    i % 2 === 0 ? Array.from({ length: 3 }, () => pick(r, EN)).join(' ') : Array.from({ length: 2 }, () => pick(r, ZH)).join(''),
  );
}

// ---------------------------------------------------------------- Zipfian English-like text
const CONSONANTS = 'bcdfghjklmnprstvwz';
const VOWELS = 'aeiou';
const SYLLABLES = [...CONSONANTS].flatMap((c) => [...VOWELS].map((v) => c + v));
const ZIPF_WORDS = 50_000;
let zipf;

/** The vocabulary (pronounceable pseudo-words, each distinct) and its cumulative Zipf–Mandelbrot weights. */
function zipfVocabulary() {
  if (zipf) return zipf;
  const words = [];
  for (let i = 0; i < ZIPF_WORDS; i++) {
    // at least two syllables: base-90 digits of i + 90
    let n = i + SYLLABLES.length;
    let w = '';
    while (n > 0) {
      w = SYLLABLES[n % SYLLABLES.length] + w;
      n = Math.floor(n / SYLLABLES.length);
    }
    words.push(w);
  }
  // p(rank k) ∝ 1 / (k + 2.7): the most frequent words act as stop words, most words are rare
  const cdf = new Float64Array(ZIPF_WORDS);
  let sum = 0;
  for (let k = 0; k < ZIPF_WORDS; k++) cdf[k] = sum += 1 / (k + 1 + 2.7);
  zipf = { words, cdf, sum };
  return zipf;
}

/** A word rank drawn with Zipf's law, at or past `from`. */
function zipfRank(r, from = 0) {
  const { cdf, sum } = zipfVocabulary();
  const lo0 = from ? cdf[from - 1] : 0;
  const x = lo0 + r() * (sum - lo0);
  let lo = from;
  let hi = ZIPF_WORDS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** English-like text of roughly `bytes` bytes whose word frequencies follow Zipf's law, in paragraphs. */
export function zipfText(r, bytes) {
  const { words } = zipfVocabulary();
  const out = [];
  let size = 0;
  while (size < bytes) {
    const sentences = [];
    for (let s = 4 + Math.floor(r() * 4); s > 0; s--) {
      const n = 8 + Math.floor(r() * 12);
      const ws = Array.from({ length: n }, () => words[zipfRank(r)]);
      ws[0] = ws[0][0].toUpperCase() + ws[0].slice(1);
      sentences.push(ws.join(' ') + '.');
    }
    const p = sentences.join(' ');
    out.push(p);
    size += p.length + 2;
  }
  return out.join('\n\n');
}

/** Queries of three content words (Zipf-drawn past the 100 most frequent words, as search terms are). */
export function zipfQueries(r, n) {
  const { words } = zipfVocabulary();
  return Array.from({ length: n }, () => Array.from({ length: 3 }, () => words[zipfRank(r, 100)]).join(' '));
}
