import { countTokens as exact } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens } from '../../src/tokens.js';

const HAN = '知识库文档检索向量关键词语义数据集查询延迟吞吐量队列存储集群副本内存分词河流山脉港口发动机花园图书馆博物馆市场车站桥梁';

function prose(n: number): string {
  let out = '';
  let seed = 7;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const len = 20 + (seed % 60);
    let s = '';
    for (let k = 0; k < len; k++) s += HAN[(seed + k * 7) % HAN.length];
    out += `${s}。`;
  }
  return out;
}

describe('countTokens', () => {
  test('is exact where there are no long Han runs', () => {
    for (const t of ['', 'Hello world, this is RagNest.', '混合检索，结合关键词。', 'PPR-9087 v1.2.3 knowledge 知识']) {
      expect(countTokens(t)).toBe(exact(t));
    }
  });

  // (its speed is the benchmark's business, not a test's)
  test('long unpunctuated Chinese stays within 5% of the exact count', () => {
    const text = prose(3000);
    const fast = countTokens(text);
    const slow = exact(text);
    expect(Math.abs(fast - slow) / slow).toBeLessThan(0.05);
  });
});

test('error on real-looking Chinese prose with punctuation and Latin words', () => {
  const text = '混合检索结合关键词检索和向量检索，提高召回率。用户上传文档以后，系统会解析、切分并建立索引。RagNest 支持 PDF 和 DOCX 文件，也支持中文分词。'.repeat(50);
  const diff = Math.abs(countTokens(text) - exact(text)) / exact(text);
  expect(diff).toBeLessThan(0.05);
});
