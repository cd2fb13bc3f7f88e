import { chunkSections, NaiveChunker } from '../../src/chunker.js';
import { countTokens } from '../../src/tokens.js';
import type { ChunkDraft, ChunkerOptions, Section } from '../../src/types.js';

function chunk(sections: Section[], opts: ChunkerOptions): ChunkDraft[] {
  const c = new NaiveChunker(opts);
  return [...sections.flatMap((s) => c.push(s)), ...c.flush()];
}
const text = (t: string, positions?: number[][]): Section => ({ kind: 'text', text: t, ...(positions ? { positions } : {}) });

// Ten paragraphs of 10 tokens each (checked below).
const para = (k: number) => `Paragraph number ${k} talks about retrieval quality today.`;
const paras = Array.from({ length: 10 }, (_, k) => para(k + 1)).join('\n');

describe('NaiveChunker', () => {
  it('groups paragraphs until the running count exceeds the limit, allowing one overflow', () => {
    expect(countTokens(para(1))).toBe(10);
    const chunks = chunk([text(paras)], { chunkTokenNum: 25, delimiter: '\n' });
    // 10 → 20 → (≤25, add) 30 → (>25, close)
    expect(chunks.map((c) => c.content.split('\n').length)).toEqual([3, 3, 3, 1]);
    expect(chunks[0]!.content).toBe([para(1), para(2), para(3)].join('\n'));
    for (const c of chunks) expect(c.tokenCount).toBe(countTokens(c.content));
    expect(chunks.every((c) => c.docType === '')).toBe(true);
  });

  it('treats the escaped "\\n" delimiter like a real newline', () => {
    const a = chunk([text(paras)], { chunkTokenNum: 25, delimiter: '\\n' });
    const b = chunk([text(paras)], { chunkTokenNum: 25, delimiter: '\n' });
    expect(a).toEqual(b);
  });

  it('splits on every delimiter character and drops the delimiters', () => {
    const chunks = chunk([text('第一句。第二句！第三句')], { chunkTokenNum: 1, delimiter: '。！' });
    expect(chunks.map((c) => c.content)).toEqual(['第一句', '第二句', '第三句']);
  });

  it('puts a paragraph longer than the limit in a chunk of its own', () => {
    const long = 'word '.repeat(60).trim();
    const chunks = chunk([text(`short one\n${long}\nshort two`)], { chunkTokenNum: 20, delimiter: '\n' });
    expect(chunks.map((c) => c.content)).toEqual(['short one', long, 'short two']);
  });

  it('makes every custom-delimited segment a chunk and ignores the token limit', () => {
    const chunks = chunk([text('intro line\nsecond line##part two##part three\nmore')], {
      chunkTokenNum: 1,
      delimiter: '\n`##`',
    });
    expect(chunks.map((c) => c.content)).toEqual(['intro line\nsecond line', 'part two', 'part three\nmore']);
  });

  it('prepends the last overlap% of the previous chunk', () => {
    const chunks = chunk([text(paras)], { chunkTokenNum: 25, delimiter: '\n', overlappedPercent: 50 });
    // The threshold drops to 25·50% = 12.5, so two paragraphs fill a chunk; the overlap does not count towards it.
    expect(chunks[0]!.content).toBe([para(1), para(2)].join('\n'));
    const prev = chunks[0]!.content;
    const tail = prev.slice(Math.floor(prev.length * 0.5));
    expect(chunks[1]!.content).toBe([tail, para(3), para(4)].join('\n'));
  });

  it('keeps tables as their own chunks and attaches headings to what follows', () => {
    const chunks = chunk(
      [
        { kind: 'title', text: 'Intro', level: 1 },
        text('Body text.'),
        { kind: 'title', text: 'Numbers', level: 2 },
        { kind: 'table', text: '<table><tr><td>1</td></tr></table>' },
        text('After the table.'),
        { kind: 'title', text: 'Appendix', level: 1 },
      ],
      { chunkTokenNum: 512, delimiter: '\n' },
    );
    expect(chunks.map((c) => [c.docType, c.content])).toEqual([
      ['', 'Intro\nBody text.'],
      ['table', 'Numbers\n<table><tr><td>1</td></tr></table>'],
      ['', 'After the table.\nAppendix'],
    ]);
  });

  it('emits a trailing heading on its own only when nothing else is left', () => {
    const chunks = chunk([{ kind: 'title', text: 'Lonely heading', level: 1 }], { chunkTokenNum: 128, delimiter: '\n' });
    expect(chunks.map((c) => c.content)).toEqual(['Lonely heading']);
  });

  it('merges the positions of the paragraphs in a chunk', () => {
    const chunks = chunk(
      [text('first', [[1, 10, 100, 20, 30]]), text('second', [[1, 10, 100, 40, 50]]), text('third', [[1, 10, 100, 40, 50]])],
      { chunkTokenNum: 128, delimiter: '\n' },
    );
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.positions).toEqual([
      [1, 10, 100, 20, 30],
      [1, 10, 100, 40, 50],
    ]);
  });

  it('drops whitespace-only pieces', () => {
    expect(chunk([text('\n\n   \n\t\n')], { chunkTokenNum: 128, delimiter: '\n' })).toEqual([]);
  });

  it('chunks an async stream of sections deterministically', async () => {
    async function* gen() {
      yield text(paras);
      yield { kind: 'table' as const, text: '<table></table>' };
    }
    const run = async () => {
      const out: ChunkDraft[] = [];
      for await (const c of chunkSections(gen(), { chunkTokenNum: 25, delimiter: '\n' })) out.push(c);
      return out;
    };
    const first = await run();
    expect(first).toHaveLength(5);
    expect(await run()).toEqual(first);
  });
});
