import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { decodeBuffer, decodeTextStream } from '../encoding.js';
import { byteProgress, errorMessage, readWhole } from './common.js';
import { fileExtension } from '../detect.js';

/** RAGFlow JsonParser defaults: pieces up to 2000 characters, a new piece once one holds 1800. */
const MAX_CHARS = 2000;
const MIN_CHARS = MAX_CHARS - 200;

type Obj = Record<string, unknown>;

/** JSON as text pieces that keep the key path of what they contain (RAGFlow JsonParser by size). */
export async function* parseJson(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const ext = fileExtension(source.fileName);
  if (ext === 'jsonl' || ext === 'ndjson') {
    yield* parseJsonLines(source, opts);
    return;
  }
  if (source.size > opts.maxInMemoryBytes) {
    // Too big to load whole: only JSON Lines can be read, so a file whose first line is not a value is refused.
    yield* parseJsonLines(source, opts, `JSON file is too large to parse as a single document (${source.size} bytes)`);
    return;
  }
  const text = decodeBuffer(await readWhole(source, opts, 'JSON'));
  if (!text.trim()) throw new ParseError('File is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const lines = jsonLines(text);
    if (!lines) throw new ParseError(`Invalid JSON: ${errorMessage(e)}`);
    for (const v of lines) yield* toSections(v);
    return;
  }
  opts.onProgress?.({ fraction: 1 });
  yield* toSections(value);
}

/** Longest JSON Lines record held in memory. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

/** Every non-empty line parses on its own (JSON Lines), or null. */
function jsonLines(text: string): unknown[] | null {
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length < 2) return null;
  try {
    return lines.map((l) => JSON.parse(l) as unknown);
  } catch {
    return null;
  }
}

async function* parseJsonLines(source: ParseSource, opts: ParseOptions, firstLineError?: string): AsyncGenerator<Section> {
  const progress = byteProgress(source.size, opts);
  let carry = '';
  let lineNo = 0;
  let any = false;
  const handle = function* (line: string): Generator<Section> {
    lineNo++;
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      if (firstLineError && !any) throw new ParseError(firstLineError);
      throw new ParseError(`Invalid JSON on line ${lineNo}: ${errorMessage(e)}`);
    }
    any = true;
    yield* toSections(v);
  };
  for await (const s of decodeTextStream(await source.stream(), { onBytes: progress, signal: opts.signal })) {
    const lines = (carry + s).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) yield* handle(line);
    if (carry.length > MAX_LINE_CHARS) {
      throw new ParseError(firstLineError && !any ? firstLineError : `JSON line ${lineNo + 1} is too long`);
    }
  }
  yield* handle(carry);
  if (!any) throw new ParseError('File is empty');
}

function* toSections(value: unknown): Generator<Section> {
  let pieces: string[];
  try {
    pieces = splitJson(value);
  } catch (e) {
    // Pathologically deep nesting overflows the stack; that is a property of the file, not a transient failure.
    if (e instanceof RangeError) throw new ParseError('Invalid JSON: nested too deeply');
    throw e;
  }
  for (const text of pieces) yield { kind: 'text', text };
}

export function splitJson(value: unknown): string[] {
  if (!isContainer(value)) return value === null || value === undefined ? [] : [dumps(value)];
  const chunks: Obj[] = [{}];
  let size = 2;
  const walk = (data: Obj | unknown[], path: string[]): void => {
    for (const [key, v] of Object.entries(data)) {
      const p = [...path, key];
      const itemSize = dumps({ [key]: v }).length + path.length * 4;
      if (itemSize < MAX_CHARS - size) {
        setPath(chunks[chunks.length - 1]!, p, v);
        size += itemSize;
      } else if (isContainer(v) && Object.keys(v).length) {
        if (size >= MIN_CHARS) {
          chunks.push({});
          size = 2;
        }
        walk(v, p);
      } else {
        // A single scalar bigger than a piece cannot be split; it gets a piece of its own.
        if (size > 2) chunks.push({});
        setPath(chunks[chunks.length - 1]!, p, v);
        chunks.push({});
        size = 2;
      }
    }
  };
  walk(value, []);
  return chunks.filter((c) => Object.keys(c).length).map(dumps);
}

function isContainer(v: unknown): v is Obj | unknown[] {
  return typeof v === 'object' && v !== null;
}

function setPath(root: Obj, path: string[], value: unknown): void {
  let node = root;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    node = isContainer(next) && !Array.isArray(next) ? next : (node[k] = {});
  }
  node[path[path.length - 1]!] = value;
}

/** Python json.dumps spacing (`{"a": 1, "b": [1, 2]}`), the form RAGFlow stores. */
function dumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(dumps).join(', ')}]`;
  if (isContainer(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${dumps(x)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
