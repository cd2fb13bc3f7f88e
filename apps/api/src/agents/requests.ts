import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import type { LlmMessage } from '@ragnest/llm';

export const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/** OpenAI message content: a string or a list of parts, of which the text parts count. */
function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (p && typeof p === 'object' && (p as { type?: unknown }).type === 'text' ? text((p as { text?: unknown }).text) : '')).join('');
  return text(c);
}

/**
 * An OpenAI-style request to an agent (§10, agent variant), checked with RAGFlow's messages: the question is the
 * last (user) message, earlier user/assistant messages are the history (system ones dropped, leading assistant
 * ones skipped), the session comes from `session_id`, `id` or `metadata.id`.
 */
export function openaiTurn(body: Record<string, unknown>): { question: string; history: LlmMessage[]; sessionId: string } {
  const missing = ['model', 'messages'].filter((k) => body[k] === undefined || body[k] === null);
  if (missing.length) throw new DomainError(RetCode.ARGUMENT_ERROR, `required argument are missing: ${missing.join(',')}; `, null);
  if (!Array.isArray(body.messages) || !body.messages.length) throw dataError('You have to provide messages.');
  const msgs = (body.messages as unknown[]).map((m) => (m && typeof m === 'object' ? (m as Record<string, unknown>) : {}));
  const last = msgs[msgs.length - 1]!;
  if (last.role !== 'user') throw dataError('The last content of this conversation is not from user.');
  const history: LlmMessage[] = [];
  for (const m of msgs.slice(0, -1)) {
    if (m.role !== 'user' && m.role !== 'assistant') continue;
    if (!history.length && m.role === 'assistant') continue;
    history.push({ role: m.role, content: contentText(m.content) });
  }
  const meta = body.metadata && typeof body.metadata === 'object' ? (body.metadata as Record<string, unknown>) : {};
  return { question: contentText(last.content), history, sessionId: text(body.session_id ?? body.id ?? meta.id) };
}
