import type { ChunkMethodOptions } from './types.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

function positiveInt(v: unknown): number | undefined {
  const n = Number(v);
  return v !== null && v !== '' && Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

/** Chunking settings from a document's parser_config (RAGFlow's defaults where a key is missing). */
export function chunkMethodOptions(parserConfig: unknown, language = 'English'): ChunkMethodOptions {
  const pc = obj(parserConfig);
  const overlap = Number(pc.overlapped_percent);
  const parentChild = obj(pc.parent_child);
  // v0.25+ nests it under parent_child {use_parent_child, children_delimiter}; older clients send it flat.
  const nested = parentChild.use_parent_child === true && typeof parentChild.children_delimiter === 'string' ? parentChild.children_delimiter : '';
  const flat = typeof pc.children_delimiter === 'string' ? pc.children_delimiter : '';
  const children = flat || nested;
  return {
    chunkTokenNum: positiveInt(pc.chunk_token_num) ?? 512,
    delimiter: typeof pc.delimiter === 'string' && pc.delimiter.length ? pc.delimiter : '\n',
    overlappedPercent: Number.isFinite(overlap) && overlap > 0 ? Math.min(overlap, 90) : 0,
    ...(children ? { childrenDelimiter: children } : {}),
    language,
  };
}

/**
 * Features that need a chat model (LLM). This server has none per tenant yet, so a parse that asks for one
 * is refused with this message instead of silently skipping the feature. Returns null when none is asked for.
 */
export function llmFeatureRefusal(chunkMethod: string, parserConfig: unknown): string | null {
  const pc = obj(parserConfig);
  const wanted: string[] = [];
  if (chunkMethod === 'knowledge_graph') wanted.push("chunk method 'knowledge_graph' (GraphRAG entity and relation extraction)");
  const kw = positiveInt(pc.auto_keywords);
  if (kw) wanted.push(`auto_keywords = ${kw} (keyword generation)`);
  const qs = positiveInt(pc.auto_questions);
  if (qs) wanted.push(`auto_questions = ${qs} (question generation)`);
  if (!wanted.length) return null;
  const fixes = [
    ...(chunkMethod === 'knowledge_graph' ? ['choose another chunk method'] : []),
    ...(kw || qs ? [`set ${[kw ? 'auto_keywords' : '', qs ? 'auto_questions' : ''].filter(Boolean).join(' and ')} to 0`] : []),
  ];
  const fix = fixes.join(' and ');
  return `${wanted.join(' and ')} needs a chat model (LLM), and none is configured for this tenant. ${fix[0]!.toUpperCase()}${fix.slice(1)} and parse again.`;
}

/**
 * RAPTOR and GraphRAG are switched on by RAGFlow's own default parser_config (a dataset created without a
 * parser_config has use_raptor/use_graphrag true), so refusing them would fail every default dataset.
 * They are reported on the document instead: the line names what was not run and why.
 */
export function llmFeatureNotice(parserConfig: unknown): string | null {
  const pc = obj(parserConfig);
  const skipped: string[] = [];
  if (obj(pc.raptor).use_raptor === true) skipped.push('RAPTOR (parser_config.raptor.use_raptor)');
  if (obj(pc.graphrag).use_graphrag === true) skipped.push('GraphRAG (parser_config.graphrag.use_graphrag)');
  if (!skipped.length) return null;
  return `${skipped.join(' and ')} not run: ${skipped.length > 1 ? 'they need' : 'it needs'} a chat model (LLM), and none is configured for this tenant.`;
}

/** RAGFlow: PDFs are parsed in tasks of task_page_size pages (12; 22 for paper); these methods need the whole file in one task. */
const WHOLE_FILE_METHODS = new Set(['one', 'knowledge_graph', 'picture', 'email', 'qa', 'table', 'tag']);

/** Pages per parse task for a PDF, or null when the document must be parsed in one task. */
export function taskPageSize(chunkMethod: string, parserConfig: unknown): number | null {
  const pc = obj(parserConfig);
  if (WHOLE_FILE_METHODS.has(chunkMethod) || pc.toc_extraction === true) return null;
  return positiveInt(pc.task_page_size) ?? (chunkMethod === 'paper' ? 22 : 12);
}

/**
 * Page ranges (0-based, [from, to)) a PDF of `pages` pages is parsed in: parser_config.pages (1-based inclusive
 * [from, to] pairs, as RAGFlow takes them) clipped to the document, each split into `size`-page tasks.
 */
export function pageRanges(pages: number, size: number, parserConfig?: unknown): [number, number][] {
  const pc = obj(parserConfig);
  const user = Array.isArray(pc.pages)
    ? (pc.pages as unknown[])
        .filter((p): p is [unknown, unknown] => Array.isArray(p) && p.length === 2)
        .map(([a, b]) => [Math.max(0, Number(a) - 1), Math.min(pages, Number(b))] as [number, number])
        .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && b > a)
    : [];
  const ranges = user.length ? user : [[0, pages] as [number, number]];
  const out: [number, number][] = [];
  for (const [from, to] of ranges) for (let p = from; p < to; p += size) out.push([p, Math.min(to, p + size)]);
  return out;
}
