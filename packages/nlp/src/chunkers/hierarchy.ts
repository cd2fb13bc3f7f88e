import { countTokens } from '../tokens.js';
import type { ChunkDraft, FileKind, Section } from '../types.js';
import { addPositions, imageDraft, positionsOf, requireKind, tableDraft } from './common.js';
import { naiveChunker } from './naive.js';
import type { ChunkContext } from './types.js';

/** A line pattern that opens a heading at `level`; `inline` headings carry their body on the same line (articles). */
export interface HeadingRule {
  re: RegExp;
  level: number;
  inline?: boolean;
}

const CN_NUM = '[零〇一二三四五六七八九十百千万两\\d]+';

/** Chinese and English statute structure: 编/Part > 章/Chapter > 节/Section > 条/Article. */
export const LAW_RULES: HeadingRule[] = [
  { re: new RegExp(`^第${CN_NUM}编`, 'u'), level: 1 },
  { re: new RegExp(`^第${CN_NUM}章`, 'u'), level: 2 },
  { re: new RegExp(`^第${CN_NUM}节`, 'u'), level: 3 },
  { re: new RegExp(`^第${CN_NUM}条`, 'u'), level: 4, inline: true },
  { re: /^(?:PART|Part|TITLE|Title)\s+[IVXLCDM\d]+\b/u, level: 1 },
  { re: /^(?:CHAPTER|Chapter)\s+[IVXLCDM\d]+\b/u, level: 2 },
  { re: /^(?:SECTION|Section)\s+\d+(?:\.\d+)*\b/u, level: 3 },
  { re: /^(?:ARTICLE|Article|Art\.)\s+\d+[a-z]?\b/u, level: 4, inline: true },
  { re: /^§\s*\d+/u, level: 4, inline: true },
];

/** Book structure: parts, chapters, sections, and numbered headings ("2.3 Title") on short lines. */
export const BOOK_RULES: HeadingRule[] = [
  { re: new RegExp(`^第${CN_NUM}(?:部分|篇|卷)`, 'u'), level: 1 },
  { re: new RegExp(`^第${CN_NUM}章`, 'u'), level: 2 },
  { re: new RegExp(`^第${CN_NUM}节`, 'u'), level: 3 },
  { re: /^(?:PART|Part)\s+[IVXLCDM\d]+\b/u, level: 1 },
  { re: /^(?:CHAPTER|Chapter)\s+[IVXLCDM\d]+\b/u, level: 2 },
];

/** Numbered headings: "3 Method", "3.2 Training", "IV. RESULTS" — only on short lines without sentence punctuation. */
const NUMBERED = /^((?:\d{1,2})(?:\.\d{1,2}){0,3})\.?\s+[\p{Lu}\p{Script=Han}]/u;
const ROMAN = /^(?:[IVX]{1,5})\.\s+[A-Z]/u;
const SENTENCE_END = /[.。;；,，:：!?！？]$/u;

function numberedLevel(line: string): number | null {
  if (line.length > 80 || SENTENCE_END.test(line) || line.split(/\s+/).length > 12) return null;
  const m = NUMBERED.exec(line);
  if (m) return 1 + m[1]!.split('.').length;
  return ROMAN.test(line) ? 2 : null;
}

const TOC_TITLE = /^(?:目\s*录|contents|table of contents)$/iu;
const TOC_ENTRY = /(?:\.{2,}|…+|·{2,}|\s{2,}|\t)\s*\d{1,4}$|\s\d{1,4}$/u;
const DOT_LEADER = /(?:\.{4,}|…{2,}|·{4,})\s*\d{1,4}$/u;
const ABSTRACT = /^(?:abstract|摘\s*要)(?=$|[\s:：.—–-])[\s:：.—–-]*/iu;
const ABSTRACT_KEYWORDS = ['abstract', '总结', '概括', 'summary', 'summarize'];

export interface HierarchyConfig {
  method: string;
  accepts: readonly FileKind[];
  rules: HeadingRule[];
  /** also treat "2.3 Title" lines as headings */
  numbered: boolean;
  /** drop the table of contents (book) */
  dropToc: boolean;
  /** small consecutive sections are merged up to chunk_token_num (book, manual, paper); laws keep one article per chunk */
  mergeSmall: boolean;
  /** detect the abstract and keep it whole (paper) */
  abstract: boolean;
}

interface Heading {
  level: number;
  text: string;
}

/**
 * Heading-aware chunking shared by `book`, `laws`, `manual` and `paper`: headings come from the parser
 * (titles with levels) or from the method's line patterns; each section's text is chunked under its heading
 * path, so every chunk carries the titles it belongs to (RAGFlow's hierarchical/tree merge).
 */
export async function* chunkHierarchy(sections: AsyncIterable<Section>, ctx: ChunkContext, cfg: HierarchyConfig): AsyncGenerator<ChunkDraft> {
  requireKind(cfg.method, ctx.kind, cfg.accepts);
  const limit = ctx.options.chunkTokenNum;
  const stack: Heading[] = [];
  let node: { heading: Heading | null; inline: boolean; body: string[]; positions: number[][]; emitted: boolean } = {
    heading: null, inline: false, body: [], positions: [], emitted: false,
  };
  let merge: { parts: string[]; tokens: number; positions: number[][]; path: string[]; root: string } | null = null;
  let abstract: { lines: string[]; positions: number[][] } | null = null;
  let inToc = false;
  const out: ChunkDraft[] = [];

  const path = (): string[] => [...stack.map((h) => h.text), ...(node.heading && !node.inline && !stack.includes(node.heading) ? [node.heading.text] : [])];
  const flushMerge = () => {
    if (!merge) return;
    const content = merge.parts.join('\n');
    out.push({ content, tokenCount: countTokens(content), positions: merge.positions, docType: '' });
    merge = null;
  };
  const emitText = (p: string[], body: string, positions: number[][]) => {
    const full = [...p, body].filter(Boolean).join('\n');
    const tokens = countTokens(full);
    if (cfg.mergeSmall && tokens <= limit) {
      const root = p[0] ?? '';
      if (merge && (merge.root !== root || merge.tokens + tokens > limit)) flushMerge();
      if (!merge) {
        merge = { parts: [full], tokens, positions: [...positions], path: p, root };
        return;
      }
      // only the headings this section does not share with the previous one
      let common = 0;
      while (common < p.length && common < merge.path.length && p[common] === merge.path[common]) common++;
      merge.parts.push([...p.slice(common), body].filter(Boolean).join('\n'));
      merge.tokens += tokens;
      addPositions(merge.positions, positions);
      merge.path = p;
      return;
    }
    flushMerge();
    if (tokens <= limit) {
      out.push({ content: full, tokenCount: tokens, positions, docType: '' });
      return;
    }
    // too long: naive merge of the body, each piece under the heading path
    const prefix = p.join('\n');
    const chunker = naiveChunker({ ...ctx.options, overlappedPercent: 0 });
    for (const d of [...chunker.push({ kind: 'text', text: body, positions }), ...chunker.flush()]) {
      const content = prefix ? `${prefix}\n${d.content}` : d.content;
      out.push({ content, tokenCount: countTokens(content), positions, docType: '' });
    }
  };
  const flushNode = (keepHeading: boolean) => {
    if (node.body.length) {
      emitText(path(), node.body.join('\n'), node.positions);
      node.emitted = true;
    }
    node.body = [];
    node.positions = [];
    if (!keepHeading && node.heading && !node.emitted) emitText(path(), '', []);
  };
  const flushAbstract = () => {
    if (!abstract) return;
    const content = abstract.lines.join('\n').trim();
    if (content) {
      flushMerge();
      out.push({ content, tokenCount: countTokens(content), positions: abstract.positions, docType: '', importantKeywords: ABSTRACT_KEYWORDS });
    }
    abstract = null;
  };
  const openHeading = (h: Heading, inline: boolean, positions: number[][], bodyLine?: string) => {
    flushAbstract();
    // a heading directly followed by a deeper one is a parent: it lives on in its children's paths
    const isParent = !!node.heading && !node.body.length && !node.emitted && !node.inline && h.level > node.heading.level;
    flushNode(isParent);
    if (node.heading && !node.inline && !stack.includes(node.heading)) stack.push(node.heading);
    while (stack.length && stack[stack.length - 1]!.level >= h.level) stack.pop();
    node = { heading: h, inline, body: bodyLine ? [bodyLine] : [], positions: bodyLine ? [...positions] : [], emitted: false };
  };
  const headingOf = (line: string): { level: number; inline: boolean } | null => {
    for (const r of cfg.rules) if (r.re.test(line)) return { level: r.level, inline: !!r.inline };
    if (cfg.numbered) {
      const n = numberedLevel(line);
      if (n !== null) return { level: n, inline: false };
    }
    return null;
  };

  for await (const s of sections) {
    const pos = positionsOf(s);
    if (s.kind === 'image') {
      if (s.image) {
        flushNode(true);
        flushMerge();
        out.push(imageDraft(s));
      }
    } else if (s.kind === 'table') {
      flushAbstract();
      flushNode(true);
      flushMerge();
      node.emitted = true;
      out.push(tableDraft(s, path().join('\n')));
    } else if (s.kind === 'title' && !(cfg.dropToc && TOC_TITLE.test(s.text.trim()))) {
      inToc = false;
      const t = s.text.trim();
      if (cfg.abstract && ABSTRACT.test(t)) {
        flushNode(true);
        flushAbstract();
        abstract = { lines: [t.replace(ABSTRACT, '')].filter(Boolean), positions: [...pos] };
      } else if (t) {
        openHeading({ level: s.level ?? 1, text: t }, false, pos);
      }
    } else {
      for (const raw of s.text.split(/\r?\n/)) {
        const line = raw.trim();
        if (!line) continue;
        if (cfg.dropToc) {
          if (TOC_TITLE.test(line)) {
            inToc = true;
            continue;
          }
          if (DOT_LEADER.test(line) || (inToc && TOC_ENTRY.test(line))) continue;
          inToc = false;
        }
        if (cfg.abstract && ABSTRACT.test(line) && !abstract) {
          flushNode(true);
          abstract = { lines: [line.replace(ABSTRACT, '')].filter(Boolean), positions: [...pos] };
          continue;
        }
        const h = headingOf(line);
        if (h) {
          openHeading({ level: h.level, text: line }, h.inline, pos, h.inline ? line : undefined);
          continue;
        }
        if (abstract) {
          abstract.lines.push(line);
          addPositions(abstract.positions, pos);
          continue;
        }
        node.body.push(line);
        addPositions(node.positions, pos);
      }
    }
    if (out.length) yield* out.splice(0);
  }
  flushAbstract();
  flushNode(false);
  flushMerge();
  yield* out;
}

const TEXT_KINDS: FileKind[] = ['pdf', 'docx', 'txt', 'md', 'html'];

export const BOOK: HierarchyConfig = { method: 'book', accepts: TEXT_KINDS, rules: BOOK_RULES, numbered: true, dropToc: true, mergeSmall: true, abstract: false };
export const LAWS: HierarchyConfig = { method: 'laws', accepts: TEXT_KINDS, rules: LAW_RULES, numbered: false, dropToc: true, mergeSmall: false, abstract: false };
export const MANUAL: HierarchyConfig = { method: 'manual', accepts: TEXT_KINDS, rules: BOOK_RULES, numbered: true, dropToc: false, mergeSmall: true, abstract: false };
export const PAPER: HierarchyConfig = { method: 'paper', accepts: TEXT_KINDS, rules: [], numbered: true, dropToc: false, mergeSmall: true, abstract: true };
