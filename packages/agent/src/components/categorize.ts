import { AgentRunError } from '../types.js';
import { BARE_REF, interpolateText, stringify, valueText } from '../variables.js';
import { list, num, str, type ComponentImpl } from './types.js';

interface Category {
  name: string;
  description: string;
  examples: string[];
  to: string[];
}

function categories(params: Record<string, unknown>): Category[] {
  const desc = (params.category_description ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(desc).map(([name, v]) => ({
    name,
    description: str(v.description),
    examples: Array.isArray(v.examples) ? v.examples.map((e) => (typeof e === 'string' ? e : stringify((e as { value?: unknown })?.value ?? e))) : str(v.examples).split('\n').filter(Boolean),
    to: list(v.to),
  }));
}

/** The category the model named: an exact answer first, else the longest category name it mentions. */
export function pickCategory(reply: string, cats: Category[]): Category | undefined {
  const r = reply.trim().replace(/^["'`*]+|["'`*.。]+$/g, '').toLowerCase();
  const exact = cats.find((c) => c.name.toLowerCase() === r);
  if (exact) return exact;
  return [...cats].sort((a, b) => b.name.length - a.name.length).find((c) => r.includes(c.name.toLowerCase()));
}

/**
 * Categorize: the chat model puts the query into one of `category_description`'s categories; the run goes on
 * with that category's `to`. A reply naming no category takes the last category, as RAGFlow does.
 */
export const categorize: ComponentImpl = async (c, ctx) => {
  const cats = categories(c.params);
  if (!cats.length) throw new AgentRunError(`Categorize component "${c.id}" has no categories.`, c.id);
  const rawQuery = c.params.query === undefined || c.params.query === '' ? 'sys.query' : c.params.query;
  const query =
    typeof rawQuery === 'string' ? (BARE_REF.test(rawQuery) ? await valueText(ctx.lookup(rawQuery)) : await interpolateText(rawQuery, ctx)) : ctx.input.query;
  const model = await ctx.deps.models.resolve(str(c.params.llm_id) || undefined);
  if (!model) throw new AgentRunError(`Categorize component "${c.id}" needs a chat model, and no LLM is configured for this tenant.`, c.id);
  const window = Math.max(0, Math.floor(num(c.params.message_history_window_size, 1)) - 1);
  const context = window > 0 ? ctx.input.history.slice(-window).map((m) => `${m.role.toUpperCase()}: ${m.content}`).join('\n') : '';
  const system = [
    'You are a text classifier. Put the user input into exactly one of these categories:',
    ...cats.map(
      (k) => `- ${k.name}${k.description ? `: ${k.description}` : ''}${k.examples.length ? `\n  Examples: ${k.examples.map((e) => JSON.stringify(e)).join('; ')}` : ''}`,
    ),
    'Reply with the category name only, nothing else.',
    ...(context ? ['', 'Earlier conversation:', context] : []),
  ].join('\n');
  const res = await model.complete(
    [
      { role: 'system', content: system },
      { role: 'user', content: query },
    ],
    { temperature: 0 },
    ctx.signal,
  );
  ctx.addUsage(res.usage);
  const chosen = pickCategory(res.text, cats) ?? cats[cats.length - 1]!;
  return { outputs: { category_name: chosen.name, _next: chosen.to }, next: chosen.to };
};
