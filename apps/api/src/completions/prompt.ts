import { DomainError, RetCode } from '@ragnest/contracts';
import type { LlmMessage } from '@ragnest/llm';
import { countTokens } from '@ragnest/nlp';
import type { PromptConfig } from '../chats/chat.model.js';

/** The model's context size assumed for fitting (RAGFlow's default when a model declares none). */
export const CONTEXT_TOKENS = 8192;

export interface KnowledgeChunk {
  content: string;
  document_name: string;
}

/**
 * RAGFlow's knowledge block (kb_prompt): one block per chunk, `ID: i` / title / content, joined by separators,
 * cut once the blocks pass 97% of the context.
 */
export function knowledgeBlocks(chunks: KnowledgeChunk[], contextTokens = CONTEXT_TOKENS): string[] {
  const all = chunks.map((c, i) => `ID: ${i}\n├── Title: ${c.document_name}\n└── Content:\n${c.content}`);
  // a token spans at least one UTF-8 byte: when the bytes fit, the tokens do
  if (all.reduce((n, b) => n + Buffer.byteLength(b), 0) <= contextTokens * 0.97) return all;
  const blocks: string[] = [];
  let used = 0;
  for (const [i, c] of chunks.entries()) {
    const block = `ID: ${i}\n├── Title: ${c.document_name}\n└── Content:\n${c.content}`;
    used += countTokens(block);
    if (used > contextTokens * 0.97 && blocks.length) break;
    blocks.push(block);
  }
  return blocks;
}

/** What the model is told about citations when quotes are on (our wording of RAGFlow's citation rules). */
export const CITATION_PROMPT = `

# Citations
- Cite the knowledge you use with markers of the form [ID:i], where i is the ID of the knowledge block.
- Put a marker at the end of the sentence it supports, before the punctuation; at most 4 markers per sentence.
- Cite only IDs that appear in the knowledge above; never invent one.
- Numbers, dates, names and causal claims taken from the knowledge must be cited.
- Do not cite when your sentence does not come from the knowledge.`;

/**
 * The system message: `{knowledge}` becomes the blocks (appended when the template lacks it), other
 * `{variables}` come from the request; a required variable that is missing is an error (RAGFlow "Miss parameter").
 */
export function systemPrompt(pc: PromptConfig, blocks: string[] | null, vars: Record<string, unknown>, quote: boolean): string {
  let system = pc.system;
  for (const p of pc.parameters) {
    if (p.key === 'knowledge') continue;
    const v = vars[p.key];
    if (v === undefined || v === null) {
      if (!p.optional) throw new DomainError(RetCode.DATA_ERROR, `Miss parameter: ${p.key}`);
      system = system.split(`{${p.key}}`).join(' ');
    } else system = system.split(`{${p.key}}`).join(typeof v === 'string' ? v : JSON.stringify(v));
  }
  const knowledge = blocks && blocks.length ? `\n------\n${blocks.join('\n\n------\n\n')}` : '';
  if (system.includes('{knowledge}')) system = system.split('{knowledge}').join(knowledge);
  else if (knowledge) system += `\n${knowledge}`;
  if (quote && blocks && blocks.length) system += CITATION_PROMPT;
  return system;
}

/**
 * Keeps the conversation within 95% of the context: drops the middle of the history first, then truncates
 * the system prompt (when it is most of the budget) or the last message (RAGFlow's message_fit_in).
 */
export function fitMessages(msgs: LlmMessage[], contextTokens = CONTEXT_TOKENS): LlmMessage[] {
  const budget = Math.floor(contextTokens * 0.95);
  const total = (m: LlmMessage[]) => m.reduce((n, x) => n + countTokens(x.content), 0);
  if (msgs.reduce((n, x) => n + Buffer.byteLength(x.content), 0) <= budget || total(msgs) <= budget) return msgs;
  const system = msgs.filter((m) => m.role === 'system');
  const last = msgs[msgs.length - 1]!;
  let kept = [...system, last];
  if (total(kept) <= budget) return kept;
  const sysTokens = total(system);
  const cut = (text: string, tokens: number) => text.slice(0, Math.max(0, Math.floor((text.length * tokens) / Math.max(1, countTokens(text)))));
  if (system.length && sysTokens > budget * 0.8) {
    kept = [{ role: 'system', content: cut(system[0]!.content, budget - countTokens(last.content)) }, last];
  } else {
    kept = [...system, { ...last, content: cut(last.content, budget - sysTokens) }];
  }
  return kept;
}

/** Asks the model to rewrite the recent turns into one standalone question (refine_multiturn). */
export function refineQuestionMessages(turns: LlmMessage[], today: string): LlmMessage[] {
  const convo = turns.map((m) => `${m.role === 'user' ? 'USER' : 'ASSISTANT'}: ${m.content}`).join('\n');
  return [
    {
      role: 'system',
      content:
        'Rewrite the last USER question of the conversation into one standalone question that can be understood without the conversation. ' +
        'Resolve pronouns and references from earlier turns, and turn relative dates into absolute ones ' +
        `(today is ${today}). Answer with the rewritten question only, in the language of the question. ` +
        'If the question is already standalone, repeat it unchanged.',
    },
    { role: 'user', content: convo },
  ];
}

/** Asks the model for related search queries (related_questions). */
export function relatedQuestionsMessages(question: string, industry: string): LlmMessage[] {
  return [
    {
      role: 'system',
      content:
        'Suggest 5 to 10 search queries closely related to the user\'s query, useful for finding more information on the same subject. ' +
        (industry ? `The user works in this industry: ${industry}. ` : '') +
        'Write them in the language of the query, one per line, numbered "1. ", "2. " and so on, and nothing else.',
    },
    { role: 'user', content: question },
  ];
}

/** Parses a numbered list answer into its items. */
export function parseNumberedList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*\d+[.)、]\s*(.+?)\s*$/.exec(l)?.[1])
    .filter((s): s is string => !!s);
}
