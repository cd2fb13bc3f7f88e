import iconv from 'iconv-lite';
import { detectFileType, SUPPORTED_SUFFIXES } from '../../src/detect.js';
import { decodeBuffer, decodeTextStream, detectEncoding } from '../../src/encoding.js';
import { makeDocx, makePdf, makeZip, memorySource } from './fixtures.js';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

describe('detectFileType', () => {
  it('trusts magic bytes over the file name', () => {
    expect(detectFileType(makePdf([[{ x: 1, y: 1, text: 'x' }]]), 'report.txt')).toEqual({
      kind: 'pdf',
      mime: 'application/pdf',
      docType: 'pdf',
    });
    expect(detectFileType(makeDocx(), 'noext')).toEqual({ kind: 'docx', mime: DOCX, docType: 'doc' });
  });

  it('recognises an XLSX whose workbook part comes after large worksheets (SheetJS order)', () => {
    // cell values that do not compress away, so the worksheet fills the head
    let seed = 7;
    const value = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31).toString(36);
    const sheet = `<worksheet>${Array.from({ length: 20_000 }, () => `<row><c t="inlineStr"><is><t>${value()}</t></is></c></row>`).join('')}</worksheet>`;
    const zip = makeZip({
      'xl/_rels/workbook.xml.rels': '<Relationships/>',
      'xl/worksheets/sheet1.xml': sheet,
      'xl/workbook.xml': '<workbook/>',
      '[Content_Types].xml': '<Types/>',
    });
    const head = zip.subarray(0, 64 * 1024);
    expect(head.includes('xl/workbook.xml')).toBe(false);
    expect(detectFileType(head, 'ledger')?.kind).toBe('xlsx');
    expect(detectFileType(head, 'ledger.csv')?.kind).toBe('xlsx');
    // an ordinary archive with the same layout is still not an Office file
    expect(detectFileType(makeZip({ 'data/sheet1.xml': sheet, 'readme.txt': 'x' }).subarray(0, 64 * 1024), 'a.xlsx')).toBeNull();
  });

  it('rejects binaries it cannot parse', () => {
    expect(detectFileType(makeZip({ 'a.txt': 'hello' }), 'archive.docx')).toBeNull();
    const exe = Buffer.alloc(512);
    exe.write('MZ');
    expect(detectFileType(exe, 'tool.txt')).toBeNull();
  });

  it('recognises text formats by content, using the extension to break ties', () => {
    expect(detectFileType(Buffer.from('{"a": 1}'), 'data')).toMatchObject({ kind: 'json', mime: 'application/json' });
    expect(detectFileType(Buffer.from('{"a": 1}\n{"a": 2}\n'), 'rows.txt')).toMatchObject({ kind: 'json' });
    expect(detectFileType(Buffer.from('<!DOCTYPE html><html><body>x</body></html>'), 'page.txt')).toMatchObject({
      kind: 'html',
      mime: 'text/html',
    });
    expect(detectFileType(Buffer.from('<div>fragment</div>'), 'snippet')).toMatchObject({ kind: 'html' });
    expect(detectFileType(Buffer.from('# Title\n\ntext'), 'notes.md')).toMatchObject({ kind: 'md', mime: 'text/markdown' });
    expect(detectFileType(Buffer.from('a,b\n1,2\n'), 'table.csv')).toMatchObject({ kind: 'csv', mime: 'text/csv' });
    expect(detectFileType(Buffer.from('def f():\n    return 1\n'), 'f.py')).toMatchObject({ kind: 'code', mime: 'text/x-python' });
    expect(detectFileType(Buffer.from('just words'), 'readme')).toEqual({
      kind: 'txt',
      mime: 'text/plain; charset=utf-8',
      docType: 'doc',
      encoding: 'utf-8',
    });
    // A log line starting with "[" is not JSON when the extension says text.
    expect(detectFileType(Buffer.from('[2024-01-01] started\n'), 'app.log')).toMatchObject({ kind: 'txt' });
  });

  it('names the charset of non-UTF-8 text', () => {
    const gbk = iconv.encode('这是一个用中文写的文本文件，用来测试编码检测是否正确。'.repeat(3), 'gbk');
    expect(detectFileType(gbk, 'a.txt')).toMatchObject({ kind: 'txt', mime: 'text/plain; charset=gb18030' });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello text', 'utf16le')]);
    expect(detectFileType(utf16, 'u.txt')).toMatchObject({ kind: 'txt', mime: 'text/plain; charset=utf-16le' });
  });

  it('lists upload suffixes in lower case without dots', () => {
    for (const s of ['pdf', 'docx', 'txt', 'md', 'markdown', 'html', 'csv', 'json', 'py', 'ts', 'rs']) {
      expect(SUPPORTED_SUFFIXES).toContain(s);
    }
    expect(SUPPORTED_SUFFIXES.every((s) => s === s.toLowerCase() && !s.startsWith('.'))).toBe(true);
    expect(SUPPORTED_SUFFIXES).not.toContain('exe');
  });
});

describe('text decoding', () => {
  const zh = '中文编码检测：简体中文文本，包含标点符号。';

  it('detects BOMs, UTF-8, bom-less UTF-16, GB18030 and Big5', () => {
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('utf-8');
    expect(detectEncoding(Buffer.from([0xfe, 0xff, 0, 0x61]))).toBe('utf-16be');
    expect(detectEncoding(Buffer.from(zh))).toBe('utf-8');
    expect(detectEncoding(Buffer.from('plain ascii text', 'utf16le'))).toBe('utf-16le');
    expect(detectEncoding(iconv.encode(zh.repeat(4), 'gbk'))).toBe('gb18030');
    expect(detectEncoding(iconv.encode('繁體中文的文本內容，臺灣使用的編碼。'.repeat(4), 'big5'))).toBe('big5');
    expect(decodeBuffer(Buffer.from('Café crème brûlée', 'latin1'))).toBe('Café crème brûlée');
  });

  it('treats a UTF-8 sample cut inside a character as UTF-8', () => {
    const bytes = Buffer.from(zh);
    expect(detectEncoding(bytes.subarray(0, bytes.length - 1))).toBe('utf-8');
  });

  it('stream-decodes GBK split across chunk boundaries', async () => {
    let out = '';
    for await (const s of decodeTextStream(await memorySource(iconv.encode(zh.repeat(4), 'gbk'), 'a.txt', 3).stream())) out += s;
    expect(out).toBe(zh.repeat(4));
  });
});
