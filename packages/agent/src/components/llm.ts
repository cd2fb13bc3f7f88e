import { extractiveAnswer, LlmError, type ChatModel, type LlmMessage, type LlmParams } from '@ragnest/llm';
import type { LoadedComponent } from '../dsl.js';
import type { RunContext } from '../context.js';
import { CITATION_PROMPT } from '../knowledge.js';
import { LazyText } from '../lazy-text.js';
import { AgentRunError } from '../types.js';
import { interpolateText, valueText, type Scope } from '../variables.js';
import { num, str, type ComponentImpl } from './types.js';

const PARAM_KEYS = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'max_tokens'] as const;
const ENABLED_FLAG: Record<(typeof PARAM_KEYS)[number], string> = {
  temperature: 'temperatureEnabled',
  top_p: 'topPEnabled',
  presence_penalty: 'presencePenaltyEnabled',
  frequency_penalty: 'frequencyPenaltyEnabled',
  max_tokens: 'maxTokensEnabled',
};

function llmParams(p: Record<string, unknown>): LlmParams {
  const out: LlmParams = {};
  for (const k of PARAM_KEYS) {
    if (p[ENABLED_FLAG[k]] === false) continue; // the UI's switch for "do not send this one"
    const v = num(p[k], NaN);
    if (Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** Legacy Generate prompts also name `{input}` (the upstream outputs, joined) and `{key}` of `params.parameters`. */
async function legacyScope(c: LoadedComponent, ctx: RunContext, from: string | undefined): Promise<Scope> {
  const params = new Map<string, string>();
  if (Array.isArray(c.params.parameters)) {
    for (const p of c.params.parameters) {
      const { key, component_id } = (p ?? {}) as { key?: unknown; component_id?: unknown };
      if (typeof key === 'string' && typeof component_id === 'string') params.set(key, component_id);
    }
  }
  const ups = c.upstream.filter((u) => ctx.outputs.has(u));
  const inputParts: string[] = [];
  for (const u of ups.length ? ups : from ? [from] : []) {
    const t = await valueText(ctx.mainOutput(u));
    if (t) inputParts.push(t);
  }
  const input = inputParts.join('\n');
  return {
    lookup(ref) {
      if (ref === 'input') return input;
      const cid = params.get(ref);
      return ctx.lookup(cid ?? ref);
    },
  };
}

/**
 * Generate (legacy) / LLM (current): builds the messages from the component's prompts, streams the model's
 * answer as a LazyText. With no model configured for the tenant it answers extractively from the run's
 * retrieved chunks (marked as such); with nothing retrieved and an `empty_response`, it says that.
 */
export const llm: ComponentImpl = async (c, ctx, from) => {
  const p = c.params;
  const legacy = c.name === 'Generate';
  const scope: Scope = legacy ? await legacyScope(c, ctx, from) : ctx;

  const emptyResponses = [...ctx.outputs.entries()]
    .filter(([id, o]) => ctx.component(id)?.name === 'Retrieval' && typeof o.empty_response === 'string')
    .map(([, o]) => o.empty_response as string);
  if (!ctx.reference.chunks.length && emptyResponses.length) return { outputs: { content: LazyText.of(emptyResponses[0]!) } };

  let system = await interpolateText(legacy ? str(p.prompt) : str(p.sys_prompt), scope);
  const cite = p.cite !== false && ctx.reference.chunks.length > 0;
  if (cite) system += `\n${CITATION_PROMPT}`;
  const window = Math.max(0, Math.floor(num(p.message_history_window_size, 12)));
  const history = window > 0 ? ctx.input.history.slice(-window) : [];
  const turn: LlmMessage[] = [];
  if (!legacy && Array.isArray(p.prompts) && p.prompts.length) {
    for (const m of p.prompts) {
      const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
      turn.push({ role: role === 'assistant' ? 'assistant' : 'user', content: await interpolateText(str(content), scope) });
    }
  } else {
    turn.push({ role: 'user', content: ctx.input.query });
  }
  const messages: LlmMessage[] = [...(system.trim() ? [{ role: 'system' as const, content: system }] : []), ...history, ...turn];

  let model: ChatModel | null;
  try {
    model = await ctx.deps.models.resolve(str(p.llm_id) || undefined);
  } catch (e) {
    if (e instanceof LlmError) throw new AgentRunError(`${c.name} component "${c.id}": ${e.message}`, c.id);
    throw e;
  }
  if (!model) {
    // the chat assistants' extractive answer; its [ID:n] markers are the run's reference positions
    const { text } = extractiveAnswer(ctx.input.query, ctx.reference.chunks, cite, 'id');
    return { outputs: { content: LazyText.of(text), extractive: true } };
  }
  const params = llmParams(p);
  const chat = model;
  const content = new LazyText(async function* () {
    try {
      for await (const d of chat.stream(messages, params, ctx.signal)) {
        if (d.type === 'text') yield d.text;
        else ctx.addUsage(d.usage);
      }
    } catch (e) {
      if (e instanceof LlmError) throw new AgentRunError(`${c.name} component "${c.id}": ${e.message}`, c.id);
      throw e;
    }
  });
  return { outputs: { content } };
};
