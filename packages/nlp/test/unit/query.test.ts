import { analyze } from '../../src/analyzer.js';
import { buildQuery, termSimilarity } from '../../src/query.js';

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('buildQuery', () => {
  it('normalises token weights to 1 and builds the 0.4/0.6 query dict', () => {
    const q = buildQuery('database migration failed');
    expect(q.tokens).toEqual(['databas', 'migrat', 'fail']);
    expect(sum(q.tokenWeights)).toBeCloseTo(1, 10);
    // Unknown Latin words share the default idf, so each weighs 1/3.
    expect(q.tokenWeights.get('databas')).toBeCloseTo(1 / 3, 10);
    expect(q.weights.get('databas')).toBeCloseTo(0.4 / 3, 10);
    expect(q.weights.get('databas migrat')).toBeCloseTo(0.6 / 3, 10);
    expect(q.weights.get('migrat fail')).toBeCloseTo(0.6 / 3, 10);
    expect(q.total).toBeCloseTo(0.4 + 2 * 0.2, 10);
  });

  it('doubles numbers and nearly ignores one- and two-letter words', () => {
    const q = buildQuery('ab error 404');
    const w = q.tokenWeights;
    expect(w.get('404')! / w.get('error')!).toBeCloseTo(2, 10);
    expect(w.get('ab')! / w.get('error')!).toBeCloseTo(0.01, 10);
  });

  it('uses the jieba idf table: rare words outweigh common ones', () => {
    const q = buildQuery('我们 量子纠缠');
    expect(q.tokenWeights.get('量子')! + q.tokenWeights.get('纠缠')!).toBeGreaterThan(0);
    const common = buildQuery('公司 量子').tokenWeights;
    expect(common.get('量子')!).toBeGreaterThan(common.get('公司')!);
  });
});

describe('termSimilarity', () => {
  const q = buildQuery('database migration failed');

  it('is 1 when the chunk has every token and pair, 0 when it has none', () => {
    expect(termSimilarity(q, analyze('the database migration failed yesterday'))).toBeCloseTo(1, 10);
    expect(termSimilarity(q, analyze('completely unrelated text'))).toBe(0);
  });

  it('counts tokens without their pairs', () => {
    // All three tokens (0.4) but no adjacent pair: 0.4 / 0.8
    expect(termSimilarity(q, analyze('failed: the migration of our database'))).toBeCloseTo(0.5, 10);
    // databas + migrat and their pair: (0.4·2/3 + 0.2) / 0.8
    expect(termSimilarity(q, analyze('database migration'))).toBeCloseTo((0.4 * (2 / 3) + 0.2) / 0.8, 10);
  });

  it('gives the same value for token arrays and space-joined strings', () => {
    const tokens = analyze('migration failed while the database was migrating data');
    expect(termSimilarity(q, tokens.join(' '))).toBeCloseTo(termSimilarity(q, tokens), 12);
  });

  it('returns 0 for an empty query', () => {
    expect(termSimilarity(buildQuery('the of !!!'), ['the'])).toBe(0);
  });

  it('gives the same value for ids of a term dictionary, whichever dictionary each call uses', () => {
    const tokens = analyze('migration failed while the database was migrating data, database migration failed');
    const dict = (terms: string[]) => ({ lookup: (t: string) => (terms.includes(t) ? terms.indexOf(t) : undefined) });
    const a = [...new Set(tokens)];
    const b = [...a].reverse();
    const seq = (terms: string[]) => ({ ids: Uint32Array.from(tokens, (t) => terms.indexOf(t)), dictionary: dict(terms) });
    const expected = termSimilarity(q, tokens);
    expect(expected).toBeGreaterThan(0);
    expect(termSimilarity(q, seq(a))).toBeCloseTo(expected, 12);
    // the query's id map is cached per dictionary: another dictionary must not reuse it
    expect(termSimilarity(q, seq(b))).toBeCloseTo(expected, 12);
    expect(termSimilarity(q, { ids: new Uint32Array(0), dictionary: dict(a) })).toBe(0);
  });
});
