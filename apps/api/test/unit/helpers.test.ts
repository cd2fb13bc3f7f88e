import { parserConfigFor, deepMerge } from '../../src/datasets/parser-config.js';
import { chunkMethodForFile, dedupeName, suffixOf } from '../../src/documents/names.js';
import { highlight } from '../../src/chunks/chunk.view.js';
import { rowTimes, chunkTimes } from '../../src/ragflow/format.js';

describe('parser_config defaults (RAGFlow get_parser_config)', () => {
  test('naive without a client config matches the classic constant', () => {
    expect(parserConfigFor('naive', null, 'glm-4-flash@ZHIPU-AI')).toEqual({
      layout_recognize: 'DeepDOC',
      chunk_token_num: 512,
      delimiter: '\n',
      auto_keywords: 0,
      auto_questions: 0,
      html4excel: false,
      image_context_size: 0,
      table_context_size: 0,
      topn_tags: 3,
      llm_id: 'glm-4-flash@ZHIPU-AI',
      raptor: {
        use_raptor: true,
        prompt:
          'Please summarize the following paragraphs. Be careful with the numbers, do not make things up. Paragraphs as following:\n      {cluster_content}\nThe above is the content you need to summarize.',
        max_token: 256,
        threshold: 0.1,
        max_cluster: 64,
        random_seed: 0,
      },
      graphrag: { use_graphrag: true, entity_types: ['organization', 'person', 'geo', 'event', 'category'], method: 'light' },
    });
  });
  test('a client config switches raptor/graphrag to the pydantic defaults and keeps its own values', () => {
    const cfg = parserConfigFor('naive', { chunk_token_num: 128 }, '');
    expect(cfg.chunk_token_num).toBe(128);
    expect((cfg.raptor as { use_raptor: boolean }).use_raptor).toBe(false);
    expect(parserConfigFor('table', null, '')).toEqual({ table_context_size: 0, image_context_size: 0, llm_id: '' });
  });
  test('deepMerge merges nested objects and replaces arrays', () => {
    expect(deepMerge({ a: { b: 1, c: 2 }, l: [1] }, { a: { c: 3 }, l: [2] })).toEqual({ a: { b: 1, c: 3 }, l: [2] });
  });
});

describe('file names', () => {
  test('duplicates are renamed like RAGFlow', () => {
    expect(dedupeName('a.txt', new Set(['a.txt']))).toBe('a(1).txt');
    expect(dedupeName('a.txt', new Set(['a.txt', 'a(1).txt']))).toBe('a(2).txt');
    expect(dedupeName('README', new Set(['README']))).toBe('README(1)');
    expect(dedupeName('new.txt', new Set(['a.txt']))).toBe('new.txt');
  });
  test('suffix and per-file chunk method', () => {
    expect(suffixOf('Report.PDF')).toBe('pdf');
    expect(suffixOf('.bashrc')).toBe('');
    expect(chunkMethodForFile('png', 'naive')).toBe('picture');
    expect(chunkMethodForFile('pptx', 'naive')).toBe('presentation');
    expect(chunkMethodForFile('eml', 'naive')).toBe('email');
    expect(chunkMethodForFile('txt', 'qa')).toBe('qa');
  });
});

describe('formatting', () => {
  test('highlight wraps keywords case-insensitively and escapes regex characters', () => {
    expect(highlight('The Fox and the fox.', ['fox'])).toBe('The <em>Fox</em> and the <em>fox</em>.');
    expect(highlight('a+b and c', ['a+b'])).toBe('<em>a+b</em> and c');
    expect(highlight('unchanged', [' '])).toBe('unchanged');
  });
  test('RAGFlow timestamps', () => {
    const d = new Date('2025-04-28T18:40:41.123Z');
    expect(rowTimes(d)).toEqual({
      create_time: d.getTime(),
      create_date: 'Mon, 28 Apr 2025 18:40:41 GMT',
      update_time: d.getTime(),
      update_date: 'Mon, 28 Apr 2025 18:40:41 GMT',
    });
    expect(chunkTimes(d)).toEqual({ create_time: '2025-04-28 18:40:41', create_timestamp: d.getTime() / 1000 });
  });
});
