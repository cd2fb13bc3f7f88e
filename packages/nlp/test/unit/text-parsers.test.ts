import iconv from 'iconv-lite';
import { Readable } from 'node:stream';
import { parseDocument } from '../../src/parsers/index.js';
import { ParseError, type ParseSource } from '../../src/types.js';
import { collect, failure, memorySource, OPTS } from './fixtures.js';

const texts = async (src: ParseSource, kind: Parameters<typeof parseDocument>[1]) =>
  (await collect(parseDocument(src, kind, OPTS))).map((s) => s.text);

describe('parseDocument', () => {
  it('rejects an empty file of any kind', async () => {
    for (const kind of ['pdf', 'docx', 'txt', 'code', 'md', 'html', 'csv', 'json'] as const) {
      const err = await failure(parseDocument(memorySource('', `empty.${kind}`), kind, OPTS));
      expect(err).toBeInstanceOf(ParseError);
      expect(err.message).toBe('File is empty');
    }
  });
});

describe('txt / code', () => {
  it('decodes GBK and normalises CRLF', async () => {
    const src = memorySource(iconv.encode('第一行：中文内容\r\n第二行，还是中文。\r\n', 'gbk'), 'a.txt', 5);
    expect((await texts(src, 'txt')).join('')).toBe('第一行：中文内容\n第二行，还是中文。\n');
  });

  it('parses source code as text', async () => {
    const code = 'def add(a, b):\n    return a + b\n';
    expect((await texts(memorySource(code, 'm.py'), 'code')).join('')).toBe(code);
  });

  it('streams a large file in bounded pieces and reports byte progress', async () => {
    const line = 'a line of text that repeats, 一行重复的文字\n';
    const block = Buffer.from(line.repeat(1000));
    const blocks = Math.floor((8 * 1024 * 1024) / block.length);
    let produced = 0;
    const src: ParseSource = {
      fileName: 'big.txt',
      size: blocks * block.length,
      async stream() {
        return Readable.from(
          (function* () {
            for (let b = 0; b < blocks; b++) {
              produced += block.length;
              yield block;
            }
          })(),
        );
      },
      buffer: () => Promise.reject(new Error('must not load the whole file')),
    };
    const fractions: number[] = [];
    let producedAtFirst = -1;
    let chars = 0;
    let maxPiece = 0;
    for await (const s of parseDocument(src, 'txt', { ...OPTS, onProgress: (p) => fractions.push(p.fraction) })) {
      if (producedAtFirst < 0) producedAtFirst = produced;
      chars += s.text.length;
      maxPiece = Math.max(maxPiece, s.text.length);
    }
    expect(producedAtFirst).toBeLessThan(1024 * 1024);
    expect(maxPiece).toBeLessThanOrEqual(256 * 1024);
    expect(chars).toBe(blocks * 1000 * line.length);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
  });

  it('rejects empty and whitespace-only files', async () => {
    for (const body of ['', ' \n\t\n']) {
      const err = await failure(parseDocument(memorySource(body, 'e.txt'), 'txt', OPTS));
      expect(err).toBeInstanceOf(ParseError);
      expect(err.message).toBe('File is empty');
    }
  });
});

describe('markdown', () => {
  it('yields headings with levels, paragraphs and tables as HTML', async () => {
    const md = '# Guide\n\nIntro text.\n\n## Setup\n\n- step one\n- step two\n\n| Name | Port |\n|---|---|\n| api | 8080 |\n';
    const sections = await collect(parseDocument(memorySource(md, 'g.md'), 'md', OPTS));
    expect(sections).toEqual([
      { kind: 'title', text: 'Guide', level: 1 },
      { kind: 'text', text: 'Intro text.' },
      { kind: 'title', text: 'Setup', level: 2 },
      { kind: 'text', text: '- step one\n- step two' },
      { kind: 'table', text: '<table><tr><th>Name</th><th>Port</th></tr><tr><td>api</td><td>8080</td></tr></table>' },
    ]);
  });
});

describe('html', () => {
  it('extracts the readable article with headings and tables', async () => {
    const filler = 'This paragraph carries the real article content about vector search and ranking. '.repeat(4);
    const html = `<!doctype html><html><head><title>Vector Search</title></head><body>
      <nav><a href="/">Home</a> | <a href="/about">About</a></nav>
      <article><h1>Vector Search</h1><p>${filler}</p><h2>Benchmarks</h2><p>${filler}</p>
      <table><tr><th>Engine</th><th>QPS</th></tr><tr><td>A</td><td>900</td></tr></table><p>${filler}</p></article>
      <footer>Copyright 2024</footer><script>var x = 1;</script></body></html>`;
    const sections = await collect(parseDocument(memorySource(html, 'p.html'), 'html', OPTS));
    expect(sections[0]).toEqual({ kind: 'title', text: 'Vector Search', level: 1 });
    expect(sections).toContainEqual({ kind: 'title', text: 'Benchmarks', level: 2 });
    expect(sections).toContainEqual({
      kind: 'table',
      text: '<table><tr><th>Engine</th><th>QPS</th></tr><tr><td>A</td><td>900</td></tr></table>',
    });
    const all = sections.map((s) => s.text).join('\n');
    expect(all).toContain('vector search and ranking');
    expect(all).not.toContain('Copyright');
    expect(all).not.toContain('var x');
  });

  it('falls back to the body text of a tiny page', async () => {
    const sections = await collect(parseDocument(memorySource('<html><body><p>Hi there</p></body></html>', 'a.html'), 'html', OPTS));
    expect(sections.map((s) => s.text)).toContain('Hi there');
  });

  it('honours a meta charset', async () => {
    const html = Buffer.concat([
      Buffer.from('<html><head><meta charset="gbk"></head><body><p>'),
      iconv.encode('网页内容使用国标编码', 'gbk'),
      Buffer.from('</p></body></html>'),
    ]);
    const sections = await collect(parseDocument(memorySource(html, 'a.html'), 'html', OPTS));
    expect(sections.map((s) => s.text)).toContain('网页内容使用国标编码');
  });
});

describe('csv', () => {
  it('turns each row into header: value sentences', async () => {
    const csv = 'name,role,city\nAlice,"Engineer, backend",Paris\nBob,,Berlin\n';
    expect(await texts(memorySource(csv, 'p.csv'), 'csv')).toEqual([
      'name: Alice; role: Engineer, backend; city: Paris',
      'name: Bob; city: Berlin',
    ]);
  });

  it('decodes GBK and uses the full-width colon for Chinese headers', async () => {
    const src = memorySource(iconv.encode('姓名,城市\n张三,北京\n李四,上海\n', 'gbk'), 'p.csv', 4);
    expect(await texts(src, 'csv')).toEqual(['姓名：张三; 城市：北京', '姓名：李四; 城市：上海']);
  });

  it('detects tab-separated files', async () => {
    expect(await texts(memorySource('a\tb\n1\t2\n', 't.tsv'), 'csv')).toEqual(['a: 1; b: 2']);
  });

  it('reports malformed CSV', async () => {
    const err = await failure(parseDocument(memorySource('a,b\n"unterminated,2\n', 'bad.csv'), 'csv', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/^Invalid CSV: /);
  });
});

describe('json', () => {
  it('splits a large document into pieces that keep their key path', async () => {
    const doc = { service: { name: 'api', endpoints: Object.fromEntries(Array.from({ length: 60 }, (_, k) => [`ep${k}`, 'x'.repeat(80)])) } };
    const pieces = await texts(memorySource(JSON.stringify(doc), 'd.json'), 'json');
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(2100);
      expect(JSON.parse(p)).toHaveProperty('service');
    }
    expect(pieces[0]).toMatch(/^\{"service": \{"name": "api", "endpoints": \{"ep0": "x+", /);
    const merged = Object.assign({}, ...pieces.map((p) => JSON.parse(p).service.endpoints ?? {}));
    expect(Object.keys(merged)).toHaveLength(60);
  });

  it('keeps a small document as one piece', async () => {
    expect(await texts(memorySource('{"a": [1, 2], "b": "中文"}', 'd.json'), 'json')).toEqual(['{"a": [1, 2], "b": "中文"}']);
  });

  it('reads JSON Lines', async () => {
    expect(await texts(memorySource('{"id": 1}\n\n{"id": 2}\n', 'rows.jsonl'), 'json')).toEqual(['{"id": 1}', '{"id": 2}']);
  });

  it('reports invalid JSON with the reason', async () => {
    const err = await failure(parseDocument(memorySource('{"a": 1,, }', 'bad.json'), 'json', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/^Invalid JSON: .+/);
    const line = await failure(parseDocument(memorySource('{"a": 1}\n{oops}\n', 'bad.jsonl'), 'json', OPTS));
    expect(line.message).toMatch(/^Invalid JSON on line 2: /);
  });

  it('reports pathological nesting instead of crashing', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const err = await failure(parseDocument(memorySource(deep, 'deep.json'), 'json', OPTS));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toBe('Invalid JSON: nested too deeply');
  });

  it('refuses a single JSON document above the in-memory limit but streams JSON Lines', async () => {
    const pretty = JSON.stringify({ a: 1, b: [1, 2, 3] }, null, 2);
    const err = await failure(parseDocument(memorySource(pretty, 'big.json'), 'json', { maxInMemoryBytes: 10 }));
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/^JSON file is too large/);
    const rows = await collect(parseDocument(memorySource('{"a": 1}\n{"a": 2}\n', 'big.json'), 'json', { maxInMemoryBytes: 10 }));
    expect(rows.map((r) => r.text)).toEqual(['{"a": 1}', '{"a": 2}']);
  });
});
