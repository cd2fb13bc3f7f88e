import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AppConfig } from '@ragnest/config';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import type { Chat, ChatSession, Prisma } from '@ragnest/db';
import { LlmError, type LlmMessage } from '@ragnest/llm';
import { getLogger } from '@ragnest/logger';
import { InjectConfig } from '@ragnest/runtime';
import { DEFAULT_LLM_SETTING, defaultPromptConfig, promptConfigOf } from '../chats/chat.model.js';
import { RetrievalService } from '../retrieval/retrieval.service.js';
import { ChatsService } from '../chats/chats.service.js';
import { SessionsService, type StoredMessage } from '../chats/sessions.service.js';
import { AnswerService, type AnswerEvent } from './answer.service.js';
import { JsonText, SseResponse } from './sse.js';

/** A failure after the stream started, as the text a client may see (LLM and domain messages are safe; others get an id). */
export function safeMessage(err: unknown): { code: number; message: string } {
  if (err instanceof LlmError) return { code: 500, message: err.message };
  if (err instanceof DomainError) return { code: err.code, message: err.message };
  const errorId = randomUUID();
  getLogger().error({ errorId, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'chat completion failed');
  return { code: 500, message: `Internal server error (error id ${errorId})` };
}

/** No doc_ids / metadata_condition filter in a request (absent, null, empty). */
const noFilter = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

const truthy = (v: unknown) => v === true || v === 'true' || v === 'True' || v === 1;

/**
 * `POST /api/v1/chats/{chat_id}/completions` (§9). Classic default: cumulative answers with `##n$$` markers and
 * the reference on the last content event (seed 002); `RAGFLOW_COMPAT=current` (or `"legacy": false` per
 * request) sends deltas and a `final` event with `[ID:n]` markers; `"legacy": true` asks for cumulative answers.
 */
@Injectable()
export class CompletionsService {
  constructor(
    private readonly chats: ChatsService,
    private readonly sessions: SessionsService,
    private readonly answers: AnswerService,
    private readonly retrieval: RetrievalService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * `POST /api/v1/sessions/ask` (§13): one question over the given datasets with the tenant's model, no
   * assistant and no session; cumulative `{answer, reference}` events, then `data: true`.
   */
  async ask(tenantId: string, body: Record<string, unknown>, req: Request, res: Response): Promise<void> {
    const question = typeof body.question === 'string' ? body.question : '';
    if (!question.trim()) throw dataError('`question` is required.');
    if (!Array.isArray(body.dataset_ids) || !body.dataset_ids.length) throw dataError('`dataset_ids` is required.');
    const datasetIds = body.dataset_ids.map(String);
    await this.retrieval.checkScope(tenantId, datasetIds, []);
    const now = new Date();
    // an ad-hoc assistant with the defaults of a new chat, over the given datasets
    const chat: Chat = {
      id: '',
      tenantId,
      name: 'ask',
      description: '',
      avatar: '',
      language: 'English',
      llmId: '',
      llmSetting: { ...DEFAULT_LLM_SETTING } as Prisma.JsonObject,
      promptConfig: { ...defaultPromptConfig() } as unknown as Prisma.JsonObject,
      promptType: 'simple',
      kbIds: datasetIds,
      topN: 12,
      topK: 1024,
      similarityThreshold: 0.1,
      vectorSimilarityWeight: 0.3,
      rerankId: '',
      doRefer: '1',
      metaDataFilter: {},
      createdAt: now,
      updatedAt: now,
    };
    const current = this.config.compat === 'current';
    const sse = new SseResponse(req, res);
    const events = this.answers.answer({ tenantId, chat, messages: [{ role: 'user', content: question }], quote: true, style: current ? 'id' : 'hash', variables: {}, signal: sse.signal });
    sse.open();
    const answer = new JsonText();
    const head = 'data:{"code":0,"message":"","data":{"answer":"';
    let closing = '';
    try {
      for await (const ev of events) {
        if (ev.type === 'delta') {
          // reasoning is not part of this route's answer
          if (ev.reasoning) continue;
          answer.append(ev.text);
          const json = answer.json;
          sse.offer(() => `${head}${json}","reference":{}}}\n\n`);
        } else {
          closing = `data:${JSON.stringify({ code: 0, message: '', data: { answer: answer.text, reference: ev.reference } })}\n\n`;
        }
      }
    } catch (err) {
      if (sse.signal.aborted) {
        sse.end();
        return;
      }
      const { message } = safeMessage(err);
      closing = `data:${JSON.stringify({ code: 500, message, data: { answer: `**ERROR**: ${message}`, reference: [] } })}\n\n`;
    }
    sse.end(`${closing}data:{"code": 0, "message": "", "data": true}\n\n`);
  }

  async complete(tenantId: string, chatId: string, body: Record<string, unknown>, req: Request, res: Response): Promise<unknown> {
    const current = this.config.compat === 'current';
    const sessionId = body.session_id !== undefined && body.session_id !== null && body.session_id !== '' ? String(body.session_id) : undefined;
    // a plain question of a session: its retrieval starts now, on the chat's last plan, while the chat loads
    const plain = typeof body.question === 'string' && (sessionId !== undefined || current) && noFilter(body.doc_ids) && noFilter(body.metadata_condition);
    const speculation = plain ? this.answers.speculate(tenantId, chatId, body.question as string) : undefined;
    // the chat, the session's messages, the live datasets and the tenant's models: one query
    const turn = await this.chats.findForTurn(tenantId, chatId, sessionId);
    if (!turn) throw dataError(`You don't own the chat ${chatId}`);
    const { chat } = turn;
    const stream = body.stream === undefined || body.stream === null ? true : truthy(body.stream);
    const cumulative = body.legacy === undefined || body.legacy === null ? !current : truthy(body.legacy);
    const userId = typeof body.user_id === 'string' ? body.user_id : '';
    const pc = promptConfigOf(chat);

    let stored: StoredMessage[];
    let sessionKey: string;
    if (sessionId !== undefined) {
      if (!turn.sessionMessages) throw dataError(`You don't own the session ${sessionId}`);
      stored = turn.sessionMessages as StoredMessage[];
      sessionKey = sessionId;
    } else {
      const session = await this.sessions.create(chatId, 'New session', userId, pc.prologue);
      // classic (§9.2): the question is ignored, the reply is the opener and the new session id
      if (!current) return this.openerOnly(session, pc.prologue, stream, req, res);
      stored = session.messages as unknown as StoredMessage[];
      sessionKey = session.id;
    }
    const question = typeof body.question === 'string' ? body.question : '';
    if (!question.trim()) throw dataError('`question` is required.');

    const firstUser = stored.findIndex((m) => m.role === 'user');
    const history: LlmMessage[] = (firstUser < 0 ? [] : stored.slice(firstUser)).map((m) => ({ role: m.role, content: m.content }));
    history.push({ role: 'user', content: question });
    const messageId = randomUUID();
    const docIds = typeof body.doc_ids === 'string' ? body.doc_ids.split(',').map((s) => s.trim()).filter(Boolean) : Array.isArray(body.doc_ids) ? body.doc_ids.map(String) : [];
    // also for JSON answers: a client that hangs up cancels the model call
    const conn = new SseResponse(req, res);
    const sse = stream ? conn : null;
    const signal = conn.signal;
    const events = this.answers.answer({
      tenantId,
      chat,
      messages: history,
      quote: pc.quote && body.quote !== false,
      style: current ? 'id' : 'hash',
      documentIds: docIds,
      metadataCondition: body.metadata_condition,
      variables: body,
      signal,
      prepared: { liveDatasetIds: turn.liveDatasetIds, scope: turn.scope, tenantModels: turn.tenantModels },
      ...(speculation ? { speculation } : {}),
    });
    const base = { audio_binary: null, id: messageId, session_id: sessionKey, ...(current ? { chat_id: chatId } : {}) };
    const persist = (final: Extract<AnswerEvent, { type: 'final' }>) =>
      this.sessions.appendTurn(
        sessionKey,
        { role: 'user', content: question, id: messageId },
        { role: 'assistant', content: final.answer, id: messageId, created_at: final.createdAt },
        final.reference,
      );

    if (!sse) return this.nonStream(events, base, persist, current);

    sse.open();
    const envelope = (data: unknown) => `data:${JSON.stringify(current ? { code: 0, message: '', data } : { code: 0, data })}\n\n`;
    // a cumulative content event is the same text around the growing answer: built from its escaped form,
    // never by serialising the whole answer again
    const head = current ? 'data:{"code":0,"message":"","data":{"answer":"' : 'data:{"code":0,"data":{"answer":"';
    const tail = `",${JSON.stringify({ reference: {}, ...base }).slice(1)}}\n\n`;
    const answer = new JsonText();
    let thinking = false;
    /** the last event(s): written with the end */
    let closing = '';
    try {
      for await (const ev of events) {
        if (ev.type === 'delta') {
          const reasoning = ev.reasoning === true;
          if (reasoning !== thinking) {
            // cumulative answers carry the reasoning inside literal <think> tags; deltas get RAGFlow's markers
            thinking = reasoning;
            if (cumulative) answer.append(reasoning ? '<think>' : '</think>');
            else await sse.write(envelope({ answer: '', reference: {}, final: false, ...(reasoning ? { start_to_think: true } : { end_to_think: true }), ...base }));
          }
          if (cumulative) {
            answer.append(ev.text);
            const json = answer.json;
            sse.offer(() => head + json + tail);
          } else {
            await sse.write(envelope({ answer: ev.text, reference: {}, final: false, ...base }));
          }
          continue;
        }
        // stored first: a client that saw the reference can ask its next question in this session; the last
        // event, `data: true` and the end then leave in one write
        await persist(ev);
        const last = { reference: ev.reference, prompt: ev.prompt, created_at: ev.createdAt, ...base };
        closing = envelope(cumulative ? { answer: ev.answer, ...last } : { answer: '', ...last, final: true });
      }
    } catch (err) {
      if (sse.signal.aborted) {
        sse.end();
        return undefined;
      }
      const { message } = safeMessage(err);
      closing = `data:${JSON.stringify({ code: 500, message, data: { answer: `**ERROR**: ${message}`, reference: [] } })}\n\n`;
    }
    sse.end(closing + (current ? 'data:{"code": 0, "message": "", "data": true}\n\n' : 'data:{"code": 0, "data": true}\n\n'));
    return undefined;
  }

  private async nonStream(
    events: AsyncGenerator<AnswerEvent>,
    base: Record<string, unknown>,
    persist: (f: Extract<AnswerEvent, { type: 'final' }>) => Promise<void>,
    current: boolean,
  ) {
    try {
      for await (const ev of events) {
        if (ev.type !== 'final') continue;
        await persist(ev);
        const data = { answer: ev.answer, reference: ev.reference, prompt: ev.prompt, created_at: ev.createdAt, ...base };
        return current ? { code: 0, message: '', data } : { code: 0, data };
      }
    } catch (err) {
      if (err instanceof LlmError) throw new DomainError(RetCode.EXCEPTION_ERROR, `**ERROR**: ${err.message}`);
      throw err;
    }
    throw new Error('chat answer ended without a final event');
  }

  private async openerOnly(session: ChatSession, prologue: string, stream: boolean, req: Request, res: Response) {
    const data = { answer: prologue, reference: {}, audio_binary: null, id: null, session_id: session.id };
    if (!stream) return { code: 0, data };
    const sse = new SseResponse(req, res);
    sse.open();
    sse.end(`data:${JSON.stringify({ code: 0, message: '', data })}\n\ndata:{"code": 0, "message": "", "data": true}\n\n`);
    return undefined;
  }
}
