import { analyze, analyzeToString, buildQuery, termSimilarity } from '@ragnest/nlp';
import { ChunkTerms, CitationStream, stripMarkers } from '../../src/completions/citations.js';
import { extractiveAnswer, EXTRACTIVE_NOTE, EXTRACTIVE_NOTHING } from '@ragnest/llm';
import { fitMessages, knowledgeBlocks, parseNumberedList, systemPrompt } from '../../src/completions/prompt.js';
import { ThinkSplitter, stripThink } from '../../src/completions/think.js';
import { classicPatch, checkParameters } from '../../src/chats/chat.input.js';
import { defaultPromptConfig } from '../../src/chats/chat.model.js';

const chunks = [
  'Foxes are small omnivorous mammals that eat rodents, fruit and insects.',
  'Lake Baikal in Siberia is the deepest lake in the world.',
].map((c) => ({ tokens: analyzeToString(c) }));

/** Feeds pieces one by one and checks that the committed text only ever grows. */
function run(cs: CitationStream, pieces: string[]): { text: string; emitted: string[] } {
  const emitted: string[] = [];
  for (const p of pieces) emitted.push(cs.push(p));
  emitted.push(cs.finish());
  expect(emitted.join('')).toBe(cs.text);
  return { text: cs.text, emitted };
}

describe('CitationStream', () => {
  test('normalises model markers split across pieces, in both styles', () => {
    const pieces = ['Foxes eat rodents [I', 'D:0]. Baikal is deep (ID: 1', ') and ##0$', '$ again.'];
    expect(run(new CitationStream(chunks, 'hash', true), pieces).text).toBe('Foxes eat rodents ##0$$. Baikal is deep ##1$$ and ##0$$ again.');
    const id = new CitationStream(chunks, 'id', true);
    expect(run(id, pieces).text).toBe('Foxes eat rodents [ID:0]. Baikal is deep [ID:1] and [ID:0] again.');
    expect([...id.cited].sort()).toEqual([0, 1]);
  });

  test('a marker naming no retrieved chunk is dropped', () => {
    expect(run(new CitationStream(chunks, 'id', true), ['True [ID:7].']).text).toBe('True .');
  });

  test('holds back only what may become a marker', () => {
    const cs = new CitationStream(chunks, 'hash', true);
    expect(cs.push('Hello [')).toBe('Hello ');
    expect(cs.push('world]')).toBe('[world]');
  });

  test('without model markers, citations are appended after matching sentences', () => {
    const { text } = run(new CitationStream(chunks, 'hash', true), ['Foxes are small omnivorous ', 'mammals that eat rodents. ', 'Lake Baikal in Siberia is the deepest lake. ', 'Thanks for asking.']);
    expect(text).toBe('Foxes are small omnivorous mammals that eat rodents. ##0$$ Lake Baikal in Siberia is the deepest lake. ##1$$ Thanks for asking.');
  });

  test('CJK sentences are cited too; each chunk at most once', () => {
    const zh = [{ tokens: analyzeToString('混合检索结合关键词检索和向量检索，提高召回率。') }];
    const { text } = run(new CitationStream(zh, 'id', true), ['混合检索结合关键词检索', '和向量检索。混合检索结合关键词检索和向量检索。']);
    expect(text).toBe('混合检索结合关键词检索和向量检索。 [ID:0]混合检索结合关键词检索和向量检索。');
  });

  test('when no sentence reaches 0.63 the threshold is lowered and the citation goes at the end', () => {
    const { text } = run(new CitationStream(chunks, 'hash', true), ['Small foxes eat rodents and insects, people say. ', 'That is all.']);
    expect(text).toBe('Small foxes eat rodents and insects, people say. That is all. ##0$$');
  });

  test('quote off or nothing retrieved: text passes through untouched', () => {
    expect(run(new CitationStream(chunks, 'hash', false), ['a [ID:0] b.']).text).toBe('a [ID:0] b.');
  });

  test('sentence-to-chunk similarity is termSimilarity, for every chunk at once', () => {
    const many = [
      ...chunks,
      { tokens: analyzeToString('Rodents and insects: what small foxes eat, and fruit in autumn.') },
      { tokens: analyzeToString('狐狸是小型杂食性哺乳动物，吃啮齿动物、水果和昆虫。贝加尔湖是世界上最深的湖。') },
      { tokens: '' },
    ];
    const terms = new ChunkTerms(many);
    // (repeated tokens and pairs count at each occurrence, as buildQuery accumulates them)
    for (const sentence of ['Foxes eat rodents and fruit.', 'The deepest lake is in Siberia, Baikal.', '狐狸吃水果和昆虫。', 'Nothing matches here at all.', 'Foxes eat, foxes eat fruit fruit and rodents.']) {
      const q = buildQuery(sentence);
      const got = terms.similaritiesOf(analyze(sentence));
      const want = many.map((c) => termSimilarity(q, c.tokens));
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
      expect(want.some((w) => w > 0) || sentence.startsWith('Nothing')).toBe(true);
    }
  });

  test('stripMarkers removes both styles', () => {
    expect(stripMarkers('A ##0$$ b [ID:1]. c')).toBe('A b . c');
  });
});

describe('extractive answers', () => {
  test('marked as extractive, best sentences with citations', () => {
    const r = extractiveAnswer('How deep is Lake Baikal?', [{ content: 'Lake Baikal is in Siberia. It is the deepest lake in the world. Many tourists visit it.' }], true, 'hash');
    expect(r.text.startsWith(EXTRACTIVE_NOTE)).toBe(true);
    expect(r.text).toContain('Lake Baikal is in Siberia.');
    expect(r.text).toMatch(/##0\$\$$/);
    expect(r.cited).toEqual([0]);
    expect(extractiveAnswer('q', [], true, 'hash').text).toBe(EXTRACTIVE_NOTHING);
    expect(extractiveAnswer('How deep is Lake Baikal?', [{ content: 'Lake Baikal.' }], false, 'hash').text).not.toContain('##');
  });
});

describe('prompt', () => {
  test('knowledge blocks replace {knowledge}; citation rules only with quotes', () => {
    const blocks = knowledgeBlocks([{ content: 'alpha', document_name: 'a.txt' }]);
    expect(blocks).toEqual(['ID: 0\n├── Title: a.txt\n└── Content:\nalpha']);
    const pc = defaultPromptConfig();
    const s = systemPrompt(pc, blocks, {}, true);
    expect(s).toContain('\n------\nID: 0');
    expect(s).not.toContain('{knowledge}');
    expect(s).toContain('[ID:i]');
    expect(systemPrompt(pc, blocks, {}, false)).not.toContain('[ID:i]');
    expect(systemPrompt({ ...pc, system: 'No placeholder.' }, blocks, {}, false)).toContain('No placeholder.\n\n------\nID: 0');
  });

  test('variables come from the request; a missing required one is an error', () => {
    const pc = { ...defaultPromptConfig(), system: 'Speak {lang}. {knowledge}', parameters: [{ key: 'knowledge', optional: false }, { key: 'lang', optional: false }] };
    expect(systemPrompt(pc, [], { lang: 'French' }, false)).toBe('Speak French. ');
    expect(() => systemPrompt(pc, [], {}, false)).toThrow('Miss parameter: lang');
  });

  test('fitMessages drops the middle of a long history', () => {
    const long = 'word '.repeat(5000);
    const msgs = [
      { role: 'system' as const, content: 'sys' },
      { role: 'user' as const, content: long },
      { role: 'assistant' as const, content: long },
      { role: 'user' as const, content: 'last question' },
    ];
    expect(fitMessages(msgs)).toEqual([msgs[0], msgs[3]]);
  });

  test('numbered lists', () => {
    expect(parseNumberedList('Here:\n1. a b\n2) c\n3、d\nnot a line')).toEqual(['a b', 'c', 'd']);
  });
});

describe('classic chat body mapping', () => {
  test('renames and the keywords_similarity_weight inversion', () => {
    const p = classicPatch({ name: 'n', llm: { model_name: 'm@F', temperature: 0.5 }, prompt: { keywords_similarity_weight: 0.7, opener: 'hi', show_quote: false, variables: [{ key: 'knowledge', optional: true }], top_n: 3, empty_response: null } });
    expect(p).toMatchObject({ name: 'n', llmId: 'm@F', vectorSimilarityWeight: 0.7, topN: 3 });
    expect(p.llmSetting).toMatchObject({ temperature: 0.5, top_p: 0.3 });
    expect(p.promptConfig).toMatchObject({ prologue: 'hi', quote: false, parameters: [{ key: 'knowledge', optional: true }], empty_response: 'Sorry! No relevant content was found in the knowledge base!' });
    expect(p.kbIds).toBeUndefined();
  });

  test('validation messages', () => {
    expect(() => classicPatch({ prompt: { similarity_threshold: 2 } })).toThrow('`similarity_threshold` should be between 0 and 1');
    expect(() => classicPatch({ llm: 'x' })).toThrow('`llm` should be an object');
    expect(() => checkParameters({ ...defaultPromptConfig(), system: 'none' })).toThrow("Parameter 'knowledge' is not used");
  });
});

describe('think blocks', () => {
  test('split across pieces, tags removed', () => {
    const t = new ThinkSplitter();
    const segs = [...t.push('<thi'), ...t.push('nk>Let me'), ...t.push(' think.</th'), ...t.push('ink>\n\nAnswer <b>x</b>'), ...t.finish()];
    expect(segs.filter((x) => x.reasoning).map((x) => x.text).join('')).toBe('Let me think.');
    expect(segs.filter((x) => !x.reasoning).map((x) => x.text).join('')).toBe('\n\nAnswer <b>x</b>');
    expect(stripThink('<think>a\nb</think>\n\nAnswer')).toBe('Answer');
  });
});
