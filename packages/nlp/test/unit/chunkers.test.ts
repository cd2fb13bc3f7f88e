import { IMPLEMENTED_CHUNK_METHODS } from '@ragnest/contracts';
import { CHUNK_METHOD_IMPLEMENTATIONS, chunkDocument, chunkMethodOptions, llmFeatureNotice, llmFeatureRefusal, pageRanges, taskPageSize } from '../../src/chunkers/index.js';
import { inferColumnType, typedValue, fieldName } from '../../src/chunkers/table.js';
import type { ChunkContext } from '../../src/chunkers/types.js';
import type { ChunkDraft, FileKind, Section, SectionImage } from '../../src/types.js';
import { ParseError } from '../../src/types.js';

async function* stream(sections: Section[]): AsyncGenerator<Section> {
  for (const s of sections) yield s;
}
function ctx(kind: FileKind, pc: Record<string, unknown> = {}, language = 'English'): ChunkContext {
  return { kind, fileName: `f.${kind}`, options: chunkMethodOptions(pc, language) };
}
async function run(method: string, sections: Section[], c: ChunkContext): Promise<ChunkDraft[]> {
  const out: ChunkDraft[] = [];
  for await (const d of chunkDocument(stream(sections), method, c)) out.push(d);
  return out;
}
async function failure(method: string, sections: Section[], c: ChunkContext): Promise<Error> {
  try {
    await run(method, sections, c);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the chunk method to fail');
}
const text = (t: string, extra: Partial<Section> = {}): Section => ({ kind: 'text', text: t, ...extra });
const title = (t: string, level: number, extra: Partial<Section> = {}): Section => ({ kind: 'title', text: t, level, ...extra });
const png = (n: number): SectionImage => ({ data: Buffer.alloc(n, n), mime: 'image/png' });
const image = (t: string, img: SectionImage, extra: Partial<Section> = {}): Section => ({ kind: 'image', text: t, image: img, ...extra });
const row = (header: string[], cells: (string | number | boolean | null)[], extra: Partial<Section> = {}): Section => ({
  kind: 'text',
  text: header.map((h, k) => `${h}: ${String(cells[k])}`).join('; '),
  row: { header, cells },
  ...extra,
});

describe('parser_config → options', () => {
  it('reads chunk_token_num, delimiter, overlap and both children_delimiter spellings', () => {
    expect(chunkMethodOptions({})).toEqual({ chunkTokenNum: 512, delimiter: '\n', overlappedPercent: 0, language: 'English' });
    const o = chunkMethodOptions({ chunk_token_num: 64, delimiter: '`##`', overlapped_percent: 20, children_delimiter: '。' }, 'Chinese');
    expect(o).toEqual({ chunkTokenNum: 64, delimiter: '`##`', overlappedPercent: 20, childrenDelimiter: '。', language: 'Chinese' });
    expect(chunkMethodOptions({ parent_child: { use_parent_child: true, children_delimiter: '\n' } }).childrenDelimiter).toBe('\n');
    expect(chunkMethodOptions({ parent_child: { use_parent_child: false, children_delimiter: '\n' } }).childrenDelimiter).toBeUndefined();
  });

  it('refuses LLM features by name and leaves RAGFlow-default raptor/graphrag flags to a notice', () => {
    expect(llmFeatureRefusal('naive', { auto_keywords: 0, auto_questions: 0 })).toBeNull();
    expect(llmFeatureRefusal('naive', { auto_keywords: 3 })).toMatch(/^auto_keywords = 3 \(keyword generation\) needs a chat model \(LLM\).*Set auto_keywords to 0/);
    expect(llmFeatureRefusal('naive', { auto_questions: 2 })).toMatch(/auto_questions = 2/);
    expect(llmFeatureRefusal('knowledge_graph', {})).toBe(
      "chunk method 'knowledge_graph' (GraphRAG entity and relation extraction) needs a chat model (LLM), and none is configured for this tenant. Choose another chunk method and parse again.",
    );
    expect(llmFeatureRefusal('naive', { auto_keywords: 1, auto_questions: 2 })).toMatch(/Set auto_keywords and auto_questions to 0 and parse again\.$/);
    expect(llmFeatureNotice({ raptor: { use_raptor: true }, graphrag: { use_graphrag: false } })).toMatch(/^RAPTOR \(parser_config.raptor.use_raptor\) not run/);
    expect(llmFeatureNotice({ raptor: { use_raptor: false } })).toBeNull();
  });

  it('plans PDF page ranges by task_page_size (12, 22 for paper, whole file for one)', () => {
    expect(taskPageSize('naive', {})).toBe(12);
    expect(taskPageSize('paper', {})).toBe(22);
    expect(taskPageSize('naive', { task_page_size: 5 })).toBe(5);
    expect(taskPageSize('one', {})).toBeNull();
    expect(taskPageSize('naive', { toc_extraction: true })).toBeNull();
    expect(pageRanges(30, 12)).toEqual([[0, 12], [12, 24], [24, 30]]);
    expect(pageRanges(12, 12)).toEqual([[0, 12]]);
    // user pages are 1-based inclusive and clipped to the document
    expect(pageRanges(30, 4, { pages: [[2, 7], [29, 40]] })).toEqual([[1, 5], [5, 7], [28, 30]]);
  });
});

describe('naive', () => {
  it('keeps figures as image chunks in reading order and tables as table chunks', async () => {
    const img = png(10);
    const out = await run('naive', [text('before'), image('Figure 1: a cat', img, { positions: [[2, 1, 2, 3, 4]] }), text('after'), { kind: 'table', text: '<table><tr><td>x</td></tr></table>' }], ctx('pdf'));
    expect(out.map((d) => [d.docType, d.content])).toEqual([
      ['', 'before'],
      ['image', 'Figure 1: a cat'],
      ['', 'after'],
      ['table', '<table><tr><td>x</td></tr></table>'],
    ]);
    expect(out[1]!.image).toBe(img);
    expect(out[1]!.positions).toEqual([[2, 1, 2, 3, 4]]);
  });

  it('keeps an image without OCR text as an image chunk with empty content', async () => {
    const out = await run('naive', [image('', png(3))], ctx('docx'));
    expect(out).toHaveLength(1);
    expect(out[0]!.docType).toBe('image');
    expect(out[0]!.content).toBe('');
  });

  it('applies backticked custom delimiters: every segment is a chunk regardless of size', async () => {
    const out = await run('naive', [text('one\ntwo##three##four')], ctx('txt', { delimiter: '`##`', chunk_token_num: 512 }));
    expect(out.map((d) => d.content)).toEqual(['one\ntwo', 'three', 'four']);
  });

  it('makes children carrying their parent with children_delimiter', async () => {
    const out = await run('naive', [text('Alpha one. Beta two. Gamma three.')], ctx('txt', { chunk_token_num: 512, children_delimiter: '.' }));
    expect(out.map((d) => d.content)).toEqual(['Alpha one', 'Beta two', 'Gamma three']);
    for (const d of out) expect(d.parentContent).toBe('Alpha one. Beta two. Gamma three.');
  });

  it('overlaps consecutive chunks by overlapped_percent', async () => {
    const paras = Array.from({ length: 6 }, (_, k) => `Paragraph ${k} has a handful of words in it.`).join('\n');
    const out = await run('naive', [text(paras)], ctx('txt', { chunk_token_num: 12, overlapped_percent: 50 }));
    expect(out.length).toBeGreaterThan(2);
    const prev = out[0]!.content;
    expect(out[1]!.content.startsWith(prev.slice(Math.floor(prev.length / 2)))).toBe(true);
  });
});

describe('qa', () => {
  it('makes one pair per spreadsheet row (first two non-empty cells), keeping a header that is itself a pair', async () => {
    const out = await run('qa', [row(['What is RAG?', 'Retrieval augmented generation'], ['Who wrote it?', 'Lewis et al.']), row(['What is RAG?', 'Retrieval augmented generation'], [null, 'Q3', 'A3'])], ctx('xlsx'));
    expect(out.map((d) => d.content)).toEqual([
      'Question: What is RAG?\tAnswer: Retrieval augmented generation',
      'Question: Who wrote it?\tAnswer: Lewis et al.',
      'Question: Q3\tAnswer: A3',
    ]);
    expect(out[1]!.tokenText).toBe('Who wrote it?');
  });

  it('skips a header row of column labels and writes Chinese labels for Chinese datasets', async () => {
    const out = await run('qa', [row(['问题', '答案'], ['什么是向量检索？', '按语义相似度查找。'])], ctx('csv', {}, 'Chinese'));
    expect(out.map((d) => d.content)).toEqual(['问题：什么是向量检索？\t回答：按语义相似度查找。']);
  });

  it('reads TAB lines, Question:/Answer: blocks with continuation lines, and headings with their answers', async () => {
    const txt = await run('qa', [text('How old?\t42 years\nQuestion: Where?\nAnswer: In Paris,\nnear the river.\n问题：多少钱？\n回答：十元')], ctx('txt'));
    expect(txt.map((d) => d.content)).toEqual([
      'Question: How old?\tAnswer: 42 years',
      'Question: Where?\tAnswer: In Paris,\nnear the river.',
      'Question: 多少钱？\tAnswer: 十元',
    ]);
    const md = await run('qa', [title('FAQ', 1), title('How do I reset?', 2), text('Hold the button.'), title('Is it safe?', 2), text('Yes.')], ctx('md'));
    expect(md.map((d) => d.tokenText)).toEqual(['How do I reset?', 'Is it safe?']);
    expect(md[0]!.content).toBe('Question: How do I reset?\tAnswer: Hold the button.');
  });

  it('fails with a precise message when there is no pair', async () => {
    const e = await failure('qa', [text('just prose without any structure')], ctx('txt'));
    expect(e).toBeInstanceOf(ParseError);
    expect(e.message).toMatch(/^No question\/answer pairs found for chunk method 'qa'/);
  });

  it('refuses pictures', async () => {
    const e = await failure('qa', [image('x', png(2))], ctx('image'));
    expect(e.message).toMatch(/^Chunk method 'qa' does not support image files/);
  });
});

describe('table', () => {
  it('infers column types', () => {
    expect(inferColumnType(['1', '2', null, '3'])).toBe('int');
    expect(inferColumnType(['1', '2.5', '3'])).toBe('float');
    expect(inferColumnType(['yes', 'no', '是'])).toBe('bool');
    expect(inferColumnType(['2024-01-02', '2024/3/4 10:30'])).toBe('datetime');
    expect(inferColumnType(['apple', 'pear', '3'])).toBe('text');
    expect(typedValue('2024/3/4 10:30', 'datetime')).toBe('2024-03-04 10:30:00');
    expect(typedValue('n/a', 'int')).toBeNull();
    expect(fieldName('Price (USD)', 'float')).toBe('price_flt');
    expect(fieldName('名称', 'text')).toBe('名称_tks');
  });

  it('makes one chunk per row with "header: value" lines and typed fields', async () => {
    const h = ['Name', 'Age', 'Born', 'Member'];
    const out = await run('table', [row(h, ['Ann', 34, '1990-05-01', 'yes']), row(h, ['Bob', '7', '2017-01-02', 'no']), row(h, ['Cy', null, '', ''])], ctx('xlsx'));
    expect(out.map((d) => d.content)).toEqual(['Name: Ann\nAge: 34\nBorn: 1990-05-01\nMember: yes', 'Name: Bob\nAge: 7\nBorn: 2017-01-02\nMember: no', 'Name: Cy']);
    expect(out[1]!.fields).toEqual({ name_tks: 'Bob', age_long: 7, born_dt: '2017-01-02 00:00:00', member_kwd: false });
  });

  it('reads TAB-separated text with a header line', async () => {
    const out = await run('table', [text('city\tpop\nOslo\t700000\nBergen\t290000')], ctx('txt'));
    expect(out.map((d) => d.fields)).toEqual([{ city_tks: 'Oslo', pop_long: 700000 }, { city_tks: 'Bergen', pop_long: 290000 }]);
  });

  it('fails without data rows and refuses PDFs', async () => {
    expect((await failure('table', [text('only a header')], ctx('txt'))).message).toMatch(/^No table rows found for chunk method 'table'/);
    expect((await failure('table', [text('x')], ctx('pdf'))).message).toMatch(/^Chunk method 'table' does not support PDF files; it accepts XLSX, XLS, CSV, TXT/);
  });
});

describe('laws', () => {
  it('makes one chunk per article under its chapter and section titles', async () => {
    const out = await run(
      'laws',
      [text('中华人民共和国某某法\n第一章 总则\n第一条 为了规范管理，制定本法。\n第二条 本法适用于全国。\n第二章 管理\n第一节 一般规定\n第三条 管理应当依法进行。\n违反的，依法处理。')],
      ctx('txt'),
    );
    expect(out.map((d) => d.content)).toEqual([
      '中华人民共和国某某法',
      '第一章 总则\n第一条 为了规范管理，制定本法。',
      '第一章 总则\n第二条 本法适用于全国。',
      '第二章 管理\n第一节 一般规定\n第三条 管理应当依法进行。\n违反的，依法处理。',
    ]);
  });

  it('understands English Chapter/Section/Article structure', async () => {
    const out = await run('laws', [text('Chapter 1 General\nArticle 1 This act applies.\nArticle 2 Definitions follow.\nChapter 2 Rules\nSection 1 Scope\nArticle 3 Scope text.')], ctx('docx'));
    expect(out.map((d) => d.content)).toEqual([
      'Chapter 1 General\nArticle 1 This act applies.',
      'Chapter 1 General\nArticle 2 Definitions follow.',
      'Chapter 2 Rules\nSection 1 Scope\nArticle 3 Scope text.',
    ]);
  });
});

describe('book', () => {
  it('drops the table of contents and merges small sections under their chapter', async () => {
    const out = await run(
      'book',
      [
        text('目录\n第一章 开始 ........ 1\n第二章 结束 ........ 9'),
        text('第一章 开始\n第一节 背景\n很久以前。\n第二节 人物\n有一个人。\n第二章 结束\n故事结束了。'),
      ],
      ctx('txt'),
    );
    expect(out.map((d) => d.content)).toEqual(['第一章 开始\n第一节 背景\n很久以前。\n第二节 人物\n有一个人。', '第二章 结束\n故事结束了。']);
  });

  it('splits a long section with the naive merge, repeating its heading path on every piece', async () => {
    const body = Array.from({ length: 8 }, (_, k) => `Sentence number ${k} of the long chapter body.`).join('\n');
    const out = await run('book', [title('Chapter 1 Long', 1), text(body)], ctx('docx', { chunk_token_num: 30 }));
    expect(out.length).toBeGreaterThan(1);
    for (const d of out) expect(d.content.startsWith('Chapter 1 Long\n')).toBe(true);
    expect(out.map((d) => d.content.replace('Chapter 1 Long\n', '')).join('\n')).toBe(body);
  });
});

describe('numbered headings', () => {
  it('are short capitalised lines, not sentences that start with a number', async () => {
    const out = await run('manual', [text('2 Installation\n12 apples were sold on Monday\n3 Usage\nRun it.')], ctx('txt'));
    // "12 apples…" stays body text of section 2; sections 2 and 3 are separate top-level sections
    expect(out.map((d) => d.content)).toEqual(['2 Installation\n12 apples were sold on Monday', '3 Usage\nRun it.']);
  });
});

describe('manual', () => {
  it('follows the parser heading hierarchy and keeps tables as table chunks under their path', async () => {
    const out = await run(
      'manual',
      [title('Setup', 1), title('Install', 2), text('Run the installer.'), { kind: 'table', text: '<table><tr><td>port</td></tr></table>' }, title('Usage', 1), text('Open the app.')],
      ctx('pdf', { chunk_token_num: 8 }),
    );
    expect(out.map((d) => [d.docType, d.content])).toEqual([
      ['', 'Setup\nInstall\nRun the installer.'],
      ['table', 'Setup\nInstall\n<table><tr><td>port</td></tr></table>'],
      ['', 'Usage\nOpen the app.'],
    ]);
  });
});

describe('paper', () => {
  it('keeps the abstract whole with its keywords and groups the rest by section', async () => {
    const out = await run(
      'paper',
      [
        text('Dense Retrieval at Scale\nAda Lovelace, Alan Turing'),
        text('Abstract: We study retrieval.\nIt works well.'),
        text('1 Introduction\nRetrieval matters.\n2 Method\nWe embed text.'),
      ],
      ctx('pdf'),
    );
    expect(out[0]!.content).toBe('Dense Retrieval at Scale\nAda Lovelace, Alan Turing');
    expect(out[1]!.content).toBe('We study retrieval.\nIt works well.');
    expect(out[1]!.importantKeywords).toContain('abstract');
    expect(out.slice(2).map((d) => d.content)).toEqual(['1 Introduction\nRetrieval matters.', '2 Method\nWe embed text.']);
  });
});

describe('presentation', () => {
  it('makes one chunk per slide with its text, notes and largest picture', async () => {
    const big = png(50);
    const small = png(5);
    const out = await run(
      'presentation',
      [
        text('Title slide', { meta: { slide: '1' } }),
        text('speaker says hi', { meta: { slide: '1', notes: '1' } }),
        image('', small, { meta: { slide: '1' } }),
        image('', big, { meta: { slide: '1' } }),
        text('Second slide', { meta: { slide: '2' } }),
      ],
      ctx('pptx'),
    );
    expect(out.map((d) => [d.docType, d.content, d.positions])).toEqual([
      ['image', 'Title slide\nNotes: speaker says hi', [[1, 0, 0, 0, 0]]],
      ['image', '', [[1, 0, 0, 0, 0]]],
      ['', 'Second slide', [[2, 0, 0, 0, 0]]],
    ]);
    expect(out[0]!.image).toBe(big);
    expect(out[1]!.image).toBe(small);
  });

  it('groups PDF text by page', async () => {
    const out = await run('presentation', [text('p1 a', { positions: [[1, 0, 1, 2, 3]] }), text('p1 b', { positions: [[1, 0, 1, 5, 6]] }), text('p2', { positions: [[2, 0, 1, 2, 3]] })], ctx('pdf'));
    expect(out.map((d) => d.content)).toEqual(['p1 a\np1 b', 'p2']);
  });
});

describe('picture', () => {
  it('keeps the image and its OCR text as one image chunk', async () => {
    const img = png(9);
    const out = await run('picture', [image('HELLO WORLD', img), text('second line')], ctx('image'));
    expect(out).toEqual([{ content: 'HELLO WORLD\nsecond line', tokenCount: expect.any(Number), positions: [], docType: 'image', image: img }]);
  });

  it('refuses documents that are not pictures', async () => {
    expect((await failure('picture', [text('x')], ctx('pdf'))).message).toMatch(/^Chunk method 'picture' does not support PDF files; it accepts image/);
  });
});

describe('one', () => {
  it('puts the whole document in one chunk, text in reading order', async () => {
    const out = await run('one', [title('T', 1, { positions: [[1, 0, 1, 0, 1]] }), text('a'), { kind: 'table', text: '<table></table>' }, text('b', { positions: [[2, 0, 1, 0, 1]] })], ctx('pdf', { chunk_token_num: 1 }));
    expect(out).toHaveLength(1);
    expect(out[0]!.content).toBe('T\na\n<table></table>\nb');
    expect(out[0]!.positions).toEqual([[1, 0, 1, 0, 1], [2, 0, 1, 0, 1]]);
  });
});

describe('email', () => {
  it('merges headers and body and chunks each attachment on its own', async () => {
    const out = await run(
      'email',
      [
        text('From: a@example.com\nSubject: Report', { meta: { part: 'header' } }),
        text('Please find the report attached.', { meta: { part: 'body' } }),
        text('Quarterly numbers are up.', { meta: { part: 'attachment', filename: 'r.txt' } }),
        text('Second file text.', { meta: { part: 'attachment', filename: 's.txt' } }),
      ],
      ctx('eml'),
    );
    expect(out.map((d) => d.content)).toEqual(['From: a@example.com\nSubject: Report\nPlease find the report attached.', 'Quarterly numbers are up.', 'Second file text.']);
  });

  it('refuses files that are not e-mails', async () => {
    expect((await failure('email', [text('x')], ctx('txt'))).message).toMatch(/^Chunk method 'email' does not support TXT files; it accepts EML/);
  });
});

it('refuses unknown chunk methods by name', async () => {
  expect((await failure('resume', [text('x')], ctx('txt'))).message).toMatch(/^Chunk method 'resume' is not supported by this server/);
});

it('the contracts list of implemented methods is exactly what this package runs', () => {
  expect([...IMPLEMENTED_CHUNK_METHODS].sort()).toEqual(Object.keys(CHUNK_METHOD_IMPLEMENTATIONS).sort());
});
