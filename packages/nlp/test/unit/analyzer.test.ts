import { analyze, analyzeToString } from '../../src/analyzer.js';
import { countTokens } from '../../src/tokens.js';

describe('analyze', () => {
  it('emits a product code whole and in parts', () => {
    expect(analyze('PPR-9087')).toEqual(['ppr-9087', 'ppr', '9087']);
    expect(analyze('upgrade to v1.2.3')).toEqual(['upgrad', 'v1.2.3', 'v1', '2', '3']);
  });

  it('stems English words, lower-cases and drops stopwords and punctuation', () => {
    expect(analyze('The Running dogs, and the cats!')).toEqual(['run', 'dog', 'cat']);
    // A trailing period ends a sentence; it does not make the word a code.
    expect(analyze('Search engines.')).toEqual(['search', 'engin']);
  });

  it('segments Chinese with jieba and adds search sub-words of long words', () => {
    const tokens = analyze('北京大学的学生');
    expect(tokens).toEqual(expect.arrayContaining(['北京大学', '北京', '大学', '学生']));
    expect(tokens).not.toContain('的');
  });

  it('drops Chinese function words', () => {
    expect(analyze('我们的错误了吗')).toEqual(expect.not.arrayContaining(['的', '了', '吗']));
  });

  it('handles mixed Chinese and codes', () => {
    expect(analyze('错误代码PPR-9087是什么意思？')).toEqual(['错误', '代码', '错误代码', 'ppr-9087', 'ppr', '9087', '意思']);
  });

  it('normalises full-width characters (NFKC)', () => {
    expect(analyze('ＰＰＲ－９０８７')).toEqual(analyze('PPR-9087'));
    expect(analyze('ＡＢＣ１２３')).toEqual(['abc123']);
  });

  it('keeps digits and non-Latin letters', () => {
    expect(analyze('2024 café Привет')).toEqual(['2024', 'café', 'привет']);
  });

  it('is deterministic and joins with spaces', () => {
    const text = '检索增强生成 (RAG) improves answers; 版本 v2.0 released.';
    expect(analyze(text)).toEqual(analyze(text));
    expect(analyzeToString(text)).toBe(analyze(text).join(' '));
    expect(analyzeToString('')).toBe('');
  });
});

describe('countTokens', () => {
  it('counts cl100k_base tokens', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('tiktoken is great!')).toBe(6);
  });
});
