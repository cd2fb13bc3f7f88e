import type { Agent, AgentSession } from '@ragnest/db';
import type { AgentReference, ReferenceChunk } from '@ragnest/agent';
import { rowTimes } from '../ragflow/format.js';

/** RAGFlow's agent object (`user_canvas` row, §11). */
export function agentView(a: Agent) {
  return {
    id: a.id,
    avatar: a.avatar,
    user_id: a.userId,
    title: a.title,
    permission: a.permission,
    description: a.description,
    canvas_type: a.canvasType,
    canvas_category: 'agent_canvas',
    dsl: a.dsl,
    ...rowTimes(a.createdAt, a.updatedAt),
  };
}

export interface StoredMessage {
  role: 'user' | 'assistant';
  content: string;
  id?: string;
  created_at?: number;
}

/** Session-list chunk shape (classic list-sessions: id, content, document_id, document_name, dataset_id, image_id, positions). */
function listChunk(c: ReferenceChunk) {
  return { id: c.id, content: c.content, document_id: c.document_id, document_name: c.document_name, dataset_id: c.dataset_id, image_id: c.image_id, positions: c.positions };
}

/**
 * An agent session (API4Conversation, source "agent"): classic clients read `message` (singular), later ones
 * `messages`; both are sent. Assistant turns after the prologue carry their reference chunks.
 */
export function sessionView(s: AgentSession, withDsl: unknown) {
  const messages = (s.messages as unknown as StoredMessage[]) ?? [];
  const refs = (s.references as unknown as AgentReference[]) ?? [];
  let turn = 0;
  const withRefs = messages.map((m, i) => {
    if (m.role !== 'assistant' || i === 0) return m;
    const r = refs[turn++];
    return { ...m, reference: r ? r.chunks.map(listChunk) : [] };
  });
  return {
    id: s.id,
    agent_id: s.agentId,
    dialog_id: s.agentId,
    user_id: s.userId,
    name: s.name,
    source: 'agent',
    message: withRefs,
    messages: withRefs,
    reference: refs,
    ...(withDsl !== undefined ? { dsl: withDsl } : {}),
    ...rowTimes(s.createdAt, s.updatedAt),
  };
}
