import { createEmbeddingProvider, HashingEmbedder } from '../../src/index.js';

/** Latin words (no stemming, so inflection is left to the embedder's n-grams); Han runs unsegmented. */
const simpleTokenize = (t: string): string[] => t.toLowerCase().match(/\p{Script=Han}+|[\p{L}\p{N}]+/gu) ?? [];

/** A jieba-like forward-maximum-matching segmenter over a small dictionary, for Chinese tests. */
const DICT = new Set([
  '机器', '学习', '机器学习', '人工智能', '领域', '分支', '重要', '非常', '一个', '今天', '天气', '我们', '公园', '散步',
  '数据库', '索引', '查询', '速度', '文档', '检索', '提高', '可以', '建立', '向量', '模型', '训练', '需要', '大量', '数据',
  '红烧肉', '做法', '猪肉', '冰糖', '酱油',
]);
function fmmTokenize(text: string): string[] {
  const out: string[] = [];
  for (const run of text.toLowerCase().match(/\p{Script=Han}+|[\p{L}\p{N}]+/gu) ?? []) {
    if (!/\p{Script=Han}/u.test(run)) {
      out.push(run);
      continue;
    }
    let i = 0;
    while (i < run.length) {
      let len = Math.min(4, run.length - i);
      while (len > 1 && !DICT.has(run.slice(i, i + len))) len--;
      out.push(run.slice(i, i + len));
      i += len;
    }
  }
  return out;
}

const cos = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};
const norm = (a: Float32Array): number => Math.sqrt(cos(a, a));

describe('HashingEmbedder', () => {
  const emb = new HashingEmbedder({ tokenize: simpleTokenize });
  const zh = new HashingEmbedder({ tokenize: fmmTokenize });
  const one = async (e: HashingEmbedder, t: string): Promise<Float32Array> => (await e.embed([t]))[0] as Float32Array;

  test('identifies itself honestly and reports its dimension', async () => {
    expect(emb.modelId).toBe('ragnest-hashing-v1@Builtin');
    expect(await emb.dimension()).toBe(384);
    const small = new HashingEmbedder({ tokenize: simpleTokenize, dimension: 128 });
    expect(await small.dimension()).toBe(128);
    const [v] = await small.embed(['dimension is respected']);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v?.length).toBe(128);
    expect(() => new HashingEmbedder({ tokenize: simpleTokenize, dimension: 0 })).toThrow(RangeError);
    expect(() => new HashingEmbedder({ tokenize: simpleTokenize, dimension: 10.5 })).toThrow(RangeError);
  });

  test('is deterministic across instances and calls, and batch == single', async () => {
    const texts = ['Hello world', '机器学习是人工智能的一个分支', 'mixed 中文 and English 123'];
    const a = await emb.embed(texts);
    const b = await new HashingEmbedder({ tokenize: simpleTokenize }).embed(texts);
    for (let i = 0; i < texts.length; i++) {
      expect(Array.from(a[i] as Float32Array)).toEqual(Array.from(b[i] as Float32Array));
      expect(Array.from(await one(emb, texts[i] as string))).toEqual(Array.from(a[i] as Float32Array));
      expect(Array.from(emb.embedText(texts[i] as string))).toEqual(Array.from(a[i] as Float32Array));
    }
  });

  test('v1 output is frozen (stored vectors must stay comparable)', async () => {
    // If this fails, the hashing scheme changed: ship it under a new model id instead.
    const v = await one(emb, 'RagNest stores documents; 检索增强生成 works offline.');
    let fingerprint = 0;
    v.forEach((x, i) => (fingerprint += x * ((i % 7) + 1)));
    expect(fingerprint).toBeCloseTo(FROZEN_FINGERPRINT, 4);
    expect(v.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0)).toBe(FROZEN_NONZERO);
  });

  test('vectors are unit length, including for odd inputs', async () => {
    const texts = ['a', 'The', 'x'.repeat(10_000), '🙂 emoji only 🙂', '数', 'Ünïcödé façade naïve', '12345 67890'];
    for (const v of await emb.embed(texts)) expect(norm(v)).toBeCloseTo(1, 5);
  });

  test('empty input gives a fixed unit vector, never a zero vector', async () => {
    const [e1, e2, e3] = await emb.embed(['', '   \n\t', '!!! ... ，。']);
    expect(norm(e1 as Float32Array)).toBeCloseTo(1, 5);
    expect(Array.from(e2 as Float32Array)).toEqual(Array.from(e1 as Float32Array));
    expect(Array.from(e3 as Float32Array)).toEqual(Array.from(e1 as Float32Array));
    const real = await one(emb, 'some real text');
    expect(Number.isFinite(cos(e1 as Float32Array, real))).toBe(true);
    expect(Math.abs(cos(e1 as Float32Array, real))).toBeLessThan(0.5);
  });

  test('same topic in different words and inflections is closer than unrelated text (English)', async () => {
    const a = await one(emb, 'The database indexes documents for faster retrieval.');
    const b = await one(emb, 'Indexing a document database speeds up retrieving it.');
    const c = await one(emb, 'My cat enjoys sleeping in the warm afternoon sun.');
    const d = await one(emb, 'Running marathons requires endurance training.');
    expect(cos(a, b)).toBeGreaterThan(0.2);
    expect(cos(a, b)).toBeGreaterThan(cos(a, c) + 0.15);
    expect(cos(a, b)).toBeGreaterThan(cos(a, d) + 0.15);
    expect(cos(b, c)).toBeLessThan(0.1);
  });

  test('morphological variants share character n-grams', async () => {
    const connections = await one(emb, 'connections');
    const connected = await one(emb, 'connected');
    const elephant = await one(emb, 'elephant');
    expect(cos(connections, connected)).toBeGreaterThan(0.15);
    expect(cos(connections, connected)).toBeGreaterThan(cos(connections, elephant) + 0.15);
  });

  test('Chinese sentences sharing words are closer than unrelated ones (segmented input)', async () => {
    const a = await one(zh, '机器学习是人工智能的一个分支');
    const b = await one(zh, '在人工智能领域中机器学习非常重要');
    const c = await one(zh, '今天天气很好我们去公园散步');
    expect(cos(a, b)).toBeGreaterThan(0.3);
    expect(cos(a, b)).toBeGreaterThan(cos(a, c) + 0.25);
  });

  test('unsegmented Chinese still overlaps through character bigrams', async () => {
    const a = await one(emb, '机器学习是人工智能的一个分支');
    const b = await one(emb, '人工智能领域中机器学习非常重要');
    const c = await one(emb, '今天天气很好，我们去公园散步');
    expect(cos(a, b)).toBeGreaterThan(0.2);
    expect(cos(a, b)).toBeGreaterThan(cos(a, c) + 0.15);
    // the same sentence segmented and unsegmented lands close together
    const seg = await one(zh, '机器学习是人工智能的一个分支');
    expect(cos(a, seg)).toBeGreaterThan(0.4);
  });

  test('a query ranks the relevant passage first (English and Chinese)', async () => {
    const docs = [
      'To speed up queries, create an index on the column used for filtering.',
      'Braised pork belly needs soy sauce, rock sugar and two hours of simmering.',
      'The model was trained on a large dataset of labelled images.',
      '建立数据库索引可以提高查询速度',
      '红烧肉的做法需要猪肉冰糖和酱油',
      '训练向量模型需要大量数据',
    ];
    const dv = await zh.embed(docs);
    const best = async (q: string): Promise<number> => {
      const qv = await one(zh, q);
      const scores = dv.map((d) => cos(qv, d));
      return scores.indexOf(Math.max(...scores));
    };
    expect(await best('how do I make queries faster with an index')).toBe(0);
    expect(await best('recipe for braised pork with soy sauce')).toBe(1);
    expect(await best('如何提高数据库查询速度')).toBe(3);
    expect(await best('红烧肉怎么做')).toBe(4);
    expect(await best('模型训练数据')).toBe(5);
  });

  test('honours an aborted signal', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(emb.embed(['x'], ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });

  test('createEmbeddingProvider builds the built-in model', async () => {
    const p = createEmbeddingProvider({ provider: 'builtin', dimension: 64, tokenize: simpleTokenize });
    expect(p).toBeInstanceOf(HashingEmbedder);
    expect(await p.dimension()).toBe(64);
    expect(p.modelId).toBe('ragnest-hashing-v1@Builtin');
  });
});

const FROZEN_FINGERPRINT = 2.4947809651494026;
const FROZEN_NONZERO = 51;

describe('embedChunks with stored analyzer tokens', () => {
  test('gives the same vectors as embedding the text, and falls back to text for tables and questions', async () => {
    const { analyze, analyzeToString } = await import('@ragnest/nlp');
    const { embedChunks, HashingEmbedder } = await import('../../src/index.js');
    const provider = new HashingEmbedder({ tokenize: analyze });
    const chunks = [
      { content: 'The harbor engine was repaired in 2024 (PPR-9087).', questions: [] },
      { content: '知识库检索的向量与关键词混合。', questions: [] },
      { content: '<table><tr><td>cell</td></tr></table>', questions: [] },
      { content: 'about lighthouses', questions: ['Where is the lighthouse?'] },
      { content: '   ', questions: [] },
    ];
    const plain = await embedChunks(provider, chunks, 'Manual.pdf', 0.1);
    const withTokens = await embedChunks(provider, chunks.map((c) => ({ ...c, contentTokens: analyzeToString(c.content) })), 'Manual.pdf', 0.1);
    expect(withTokens).toHaveLength(chunks.length);
    withTokens.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(plain[i]!)));
    // a wrong token list would change the vector: the stored tokens are really used
    const spoofed = await embedChunks(provider, [{ ...chunks[0]!, contentTokens: 'entirely different words' }], 'Manual.pdf', 0.1);
    expect(Array.from(spoofed[0]!)).not.toEqual(Array.from(plain[0]!));
  });
});
