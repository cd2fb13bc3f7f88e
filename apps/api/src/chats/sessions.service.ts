import { Injectable } from '@nestjs/common';
import { dataError } from '@ragnest/contracts';
import { newId, statement, type ChatSession, type HotReads, type Prisma, type PrismaClient } from '@ragnest/db';
import { InjectDb, InjectHotReads } from '@ragnest/runtime';
import { rowTimes } from '../ragflow/format.js';
import type { ListQuery } from './chats.service.js';

/** One stored message (RAGFlow conversation `message` entries). */
export interface StoredMessage {
  role: 'user' | 'assistant';
  content: string;
  id?: string;
  created_at?: number;
  [k: string]: unknown;
}

/** One stored per-turn reference (internal shape: formatted chunks, doc_aggs, total). */
export interface StoredReference {
  total: number;
  chunks: Record<string, unknown>[];
  doc_aggs: { doc_name: string; doc_id: string; count: number }[];
}

/** A turn's two messages and its reference, appended in one statement (every chat turn runs it). */
const APPEND_TURN = statement(
  'chat_session_append_turn',
  'UPDATE chat_session SET messages = messages || $1::jsonb, reference = reference || $2::jsonb, updated_at = now() WHERE id = $3',
);

const EMPTY_REFERENCE: StoredReference = { total: 0, chunks: [], doc_aggs: [] };

/** Sessions (RAGFlow conversations) of a chat assistant; messages and references live in JSONB columns. */
@Injectable()
export class SessionsService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectHotReads() private readonly hot: HotReads,
  ) {}

  /** Starts a session whose first message is the assistant's opener (with an empty reference entry). */
  create(chatId: string, name: string, userId: string, prologue: string): Promise<ChatSession> {
    const messages: StoredMessage[] = prologue ? [{ role: 'assistant', content: prologue }] : [];
    return this.db.chatSession.create({
      data: {
        id: newId(),
        chatId,
        name,
        userId,
        messages: messages as unknown as Prisma.InputJsonValue,
        reference: (prologue ? [EMPTY_REFERENCE] : []) as unknown as Prisma.InputJsonValue,
      },
    });
  }

  find(chatId: string, sessionId: string): Promise<ChatSession | null> {
    return this.db.chatSession.findFirst({ where: { id: sessionId, chatId } });
  }

  rename(sessionId: string, name: string): Promise<ChatSession> {
    return this.db.chatSession.update({ where: { id: sessionId }, data: { name } });
  }

  /** Appends one question/answer turn atomically (concurrent turns on one session never overwrite each other). */
  async appendTurn(sessionId: string, user: StoredMessage, assistant: StoredMessage, reference: StoredReference): Promise<void> {
    await this.hot.run(APPEND_TURN, [JSON.stringify([user, assistant]), JSON.stringify([reference]), sessionId]);
  }

  async list(chatId: string, q: ListQuery & { userId?: string }): Promise<ChatSession[]> {
    const order = q.orderBy === 'update_time' ? 'updatedAt' : q.orderBy === 'name' ? 'name' : 'createdAt';
    return this.db.chatSession.findMany({
      where: { chatId, ...(q.id ? { id: q.id } : {}), ...(q.name ? { name: q.name } : {}), ...(q.userId ? { userId: q.userId } : {}) },
      orderBy: [{ [order]: q.desc ? 'desc' : 'asc' }, { id: 'asc' }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
    });
  }

  /** Classic delete: null/absent/[] delete all sessions of the chat; unknown ids are reported. */
  async remove(chatId: string, ids: string[] | null): Promise<{ success_count: number; errors: string[] } | null> {
    if (ids === null) {
      await this.db.chatSession.deleteMany({ where: { chatId } });
      return null;
    }
    if (!ids.length) return null;
    const unique = [...new Set(ids)];
    const owned = new Set((await this.db.chatSession.findMany({ where: { chatId, id: { in: unique } }, select: { id: true } })).map((s) => s.id));
    const errors = unique.filter((id) => !owned.has(id)).map((id) => `The chat doesn't own the session ${id}`);
    if (!owned.size) throw dataError(errors.join('; '));
    await this.db.chatSession.deleteMany({ where: { chatId, id: { in: [...owned] } } });
    return errors.length ? { success_count: owned.size, errors } : null;
  }
}

/**
 * The session object (§8). `chat_id` is always present (ragflow-sdk decides chat vs agent session by it).
 * With `withReferences`, every non-user message gets `reference` built from the stored per-turn references,
 * and stored debug `prompt` texts are dropped, as RAGFlow's list does.
 */
export function sessionView(s: ChatSession, withReferences: boolean) {
  const messages = (s.messages as unknown as StoredMessage[]).map((m) => {
    const { prompt: _prompt, ...rest } = m;
    return rest;
  });
  if (withReferences) {
    const refs = s.reference as unknown as StoredReference[];
    let r = 0;
    for (const m of messages) {
      if (r >= refs.length) break;
      if (m.role === 'user') continue;
      m.reference = (refs[r]?.chunks ?? []).map((c) => ({
        id: c.id,
        content: c.content,
        document_id: c.document_id,
        document_name: c.document_name,
        dataset_id: c.dataset_id,
        image_id: c.image_id,
        positions: c.positions,
      }));
      r++;
    }
  }
  return { id: s.id, chat_id: s.chatId, name: s.name, messages, user_id: s.userId, ...rowTimes(s.createdAt, s.updatedAt) };
}
