import { countTokens } from './tokens.js';
import type { ChunkDraft, ChunkerOptions, Section } from './types.js';

interface ParsedDelimiter {
  /** single-character delimiters */
  chars: Set<string>;
  /** backticked multi-character delimiters, longest first */
  custom: string[];
}

/** Some clients send RAGFlow's default delimiter as the two characters `\n`; treat escapes as what they mean. */
function unescapeDelimiter(d: string): string {
  return d.replace(/\\([ntr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\r'));
}

export function parseDelimiter(delimiter: string): ParsedDelimiter {
  const d = unescapeDelimiter(delimiter);
  const custom = new Set<string>();
  const rest = d.replace(/`([^`]+)`/g, (_, inner: string) => {
    custom.add(inner);
    return '';
  });
  return { chars: new Set(Array.from(rest)), custom: [...custom].sort((a, b) => b.length - a.length) };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Paragraph {
  text: string;
  tokens: number;
  positions: number[][] | undefined;
}

interface Building {
  parts: string[];
  tokens: number;
  positions: number[][];
}

/**
 * RAGFlow's `naive` merge, fed one section at a time so documents of any size chunk with bounded memory.
 * Output depends only on the input (chunk ids are derived from content).
 */
export class NaiveChunker {
  private readonly limit: number;
  private readonly overlap: number;
  private readonly threshold: number;
  private readonly splitter: RegExp | null;
  private readonly customMode: boolean;
  private current: Building | null = null;
  private lastText: string | null = null;
  private pendingTitles: string[] = [];
  private pendingTitlePositions: number[][] = [];

  constructor(opts: ChunkerOptions) {
    this.limit = Math.max(1, opts.chunkTokenNum);
    this.overlap = Math.min(Math.max(opts.overlappedPercent ?? 0, 0), 90);
    this.threshold = (this.limit * (100 - this.overlap)) / 100;
    const { chars, custom } = parseDelimiter(opts.delimiter);
    this.customMode = custom.length > 0;
    // With custom delimiters only they split: a `##` delimiter is meant to keep multi-line blocks together.
    const alternatives = this.customMode ? custom.map(escapeRegExp) : [...chars].map(escapeRegExp);
    this.splitter = alternatives.length ? new RegExp(alternatives.join('|'), 'u') : null;
  }

  push(section: Section): ChunkDraft[] {
    const out: ChunkDraft[] = [];
    if (section.kind === 'title') {
      const t = section.text.trim();
      if (t) {
        this.pendingTitles.push(t);
        if (section.positions) this.pendingTitlePositions.push(...section.positions);
      }
      return out;
    }
    if (section.kind === 'image' && section.image) {
      // A figure is a chunk of its own (doc_type image) in reading order; pending headings stay for the text after it.
      this.closeCurrent(out);
      const content = section.text.trim();
      out.push({ content, tokenCount: countTokens(content), positions: section.positions ?? [], docType: 'image', image: section.image });
      return out;
    }
    if (section.kind === 'table') {
      this.closeCurrent(out);
      const content = [...this.takeTitles(), section.text].join('\n');
      const positions = mergePositions([], [...this.takeTitlePositions(), ...(section.positions ?? [])]);
      if (content.trim()) out.push({ content, tokenCount: countTokens(content), positions, docType: 'table', ...(section.image ? { image: section.image } : {}) });
      return out;
    }
    for (const piece of this.split(section.text)) {
      const text = piece.trimEnd();
      if (!text.trim()) continue;
      const titles = this.takeTitles();
      const full = titles.length ? [...titles, text].join('\n') : text;
      const positions = [...this.takeTitlePositions(), ...(section.positions ?? [])];
      this.addParagraph({ text: full, tokens: countTokens(full), positions }, out);
    }
    return out;
  }

  flush(): ChunkDraft[] {
    const out: ChunkDraft[] = [];
    if (this.pendingTitles.length) {
      // A trailing heading has nothing to attach to; keep it rather than lose it.
      const text = this.takeTitles().join('\n');
      this.addParagraph({ text, tokens: countTokens(text), positions: this.takeTitlePositions() }, out);
    }
    this.closeCurrent(out);
    return out;
  }

  private split(text: string): string[] {
    return this.splitter ? text.split(this.splitter) : [text];
  }

  private takeTitles(): string[] {
    const t = this.pendingTitles;
    this.pendingTitles = [];
    return t;
  }

  private takeTitlePositions(): number[][] {
    const p = this.pendingTitlePositions;
    this.pendingTitlePositions = [];
    return p;
  }

  private addParagraph(p: Paragraph, out: ChunkDraft[]): void {
    if (this.customMode) {
      // RAGFlow: every custom-delimited segment is a chunk; size and overlap do not apply.
      this.current = { parts: [p.text], tokens: p.tokens, positions: mergePositions([], p.positions) };
      this.closeCurrent(out);
      return;
    }
    if (p.tokens > this.limit) {
      this.closeCurrent(out);
      this.current = this.start(p);
      this.closeCurrent(out);
      return;
    }
    if (this.current && this.current.tokens > this.threshold) this.closeCurrent(out);
    if (!this.current) {
      this.current = this.start(p);
      return;
    }
    this.current.parts.push(p.text);
    this.current.tokens += p.tokens;
    mergePositions(this.current.positions, p.positions);
  }

  private start(p: Paragraph): Building {
    const parts: string[] = [];
    if (this.overlap > 0 && this.lastText) {
      const prev = this.lastText;
      parts.push(prev.slice(Math.floor((prev.length * (100 - this.overlap)) / 100)), p.text);
    } else {
      parts.push(p.text);
    }
    // The carried-over overlap is not counted towards the size limit, as in RAGFlow.
    return { parts, tokens: p.tokens, positions: mergePositions([], p.positions) };
  }

  private closeCurrent(out: ChunkDraft[]): void {
    const c = this.current;
    this.current = null;
    if (!c) return;
    const content = c.parts.join('\n');
    if (!content.trim()) return;
    this.lastText = content;
    // RAGFlow's naive_merge also sums the paragraphs' counts rather than recounting the joined text
    // (the joins add at most one token per paragraph); recounting doubled the chunker's cost.
    const tokenCount = c.tokens;
    out.push({ content, tokenCount, positions: c.positions, docType: '' });
  }
}

function mergePositions(into: number[][], add: number[][] | undefined): number[][] {
  if (!add) return into;
  for (const p of add) {
    if (!into.some((q) => q.length === p.length && q.every((v, k) => v === p[k]))) into.push(p);
  }
  return into;
}

/** Chunk a stream of sections. */
export async function* chunkSections(sections: AsyncIterable<Section>, opts: ChunkerOptions): AsyncGenerator<ChunkDraft> {
  const chunker = new NaiveChunker(opts);
  for await (const s of sections) yield* chunker.push(s);
  yield* chunker.flush();
}
