import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AppConfig } from '@ragnest/config';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { LlmError, type LlmMessage, type LlmUsage } from '@ragnest/llm';
import { InjectConfig } from '@ragnest/runtime';
import { promptConfigOf } from '../chats/chat.model.js';
import { ChatsService } from '../chats/chats.service.js';
import { AnswerService, type AnswerEvent } from '../completions/answer.service.js';
import { safeMessage } from '../completions/completions.service.js';
import { SseResponse } from '../completions/sse.js';
import { stripThink } from '../completions/think.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const usageOut = (u: LlmUsage) => ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.totalTokens });

/**
 * The OpenAI dialect of a chat assistant (§10): `/api/v1/chats_openai/{id}/chat/completions` and its current
 * alias `/api/v1/openai/{id}/chat/completions`. A translation over AnswerService; no session is stored.
 */
@Injectable()
export class OpenAIChatService {
  constructor(
    private readonly chats: ChatsService,
    private readonly answers: AnswerService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async complete(tenantId: string, chatId: string, body: Record<string, unknown>, req: Request, res: Response): Promise<unknown> {
    const missing = ['model', 'messages'].filter((k) => body[k] === undefined || body[k] === null);
    if (missing.length) throw new DomainError(RetCode.ARGUMENT_ERROR, `required argument are missing: ${missing.join(',')}; `, null);
    const extra = body.extra_body ?? {};
    if (!isObj(extra)) throw dataError('extra_body must be an object.');
    // the last user message's retrieval starts now, on the chat's last plan, while the chat loads
    const lastMessage = Array.isArray(body.messages) ? (body.messages[body.messages.length - 1] as unknown) : undefined;
    const question = isObj(lastMessage) && lastMessage.role === 'user' && typeof lastMessage.content === 'string' ? lastMessage.content : '';
    const plain = extra.metadata_condition === undefined || extra.metadata_condition === null;
    const speculation = question && plain ? this.answers.speculate(tenantId, chatId, question) : undefined;
    const turn = await this.chats.findForTurn(tenantId, chatId);
    if (!turn) throw dataError(`You don't own the chat ${chatId}`);
    const { chat } = turn;
    const raw = body.messages;
    if (!Array.isArray(raw) || raw.length === 0) throw dataError('You have to provide messages.');
    const msgs = raw.filter(isObj).map((m) => ({ role: String(m.role), content: typeof m.content === 'string' ? m.content : contentText(m.content) }));
    if (msgs[msgs.length - 1]?.role !== 'user') throw dataError('The last content of this conversation is not from user.');
    // system messages are dropped and leading assistant messages skipped, as RAGFlow does
    const convo: LlmMessage[] = [];
    for (const m of msgs) {
      if (m.role !== 'user' && m.role !== 'assistant') continue;
      if (m.role === 'assistant' && !convo.length) continue;
      convo.push({ role: m.role, content: m.content });
    }
    const wantReference = extra.reference === true;
    const current = this.config.compat === 'current';
    const stream = body.stream === undefined || body.stream === null ? !current : body.stream === true;
    const model = String(body.model);
    const conn = new SseResponse(req, res);
    const events = this.answers.answer({
      tenantId,
      chat,
      messages: convo,
      // classic ignores `model`; current uses it unless it is the placeholder "model"
      ...(current && model !== 'model' ? { modelName: model } : {}),
      quote: wantReference && promptConfigOf(chat).quote,
      style: current ? 'id' : 'hash',
      metadataCondition: extra.metadata_condition,
      variables: {},
      signal: conn.signal,
      prepared: { liveDatasetIds: turn.liveDatasetIds, scope: turn.scope, tenantModels: turn.tenantModels },
      ...(speculation ? { speculation } : {}),
    });
    const id = `chatcmpl-${chatId}`;
    const created = Math.floor(Date.now() / 1000);

    if (!stream) return this.nonStream(events, id, created, model, wantReference);

    conn.open();
    const chunk = (delta: Record<string, unknown>, finish: string | null, usage: unknown = null) =>
      `data:${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        system_fingerprint: '',
        usage,
        choices: [{ index: 0, finish_reason: finish, logprobs: null, delta: { content: null, role: 'assistant', function_call: null, tool_calls: null, reasoning_content: null, ...delta } }],
      })}\n\n`;
    let closing = '';
    try {
      for await (const ev of events) {
        if (ev.type === 'delta') {
          await conn.write(chunk(ev.reasoning ? { reasoning_content: ev.text } : { content: ev.text }, null));
          continue;
        }
        const extraDelta = wantReference ? { reference: ev.reference.chunks, final_content: stripThink(ev.answer) } : {};
        closing = chunk(extraDelta, 'stop', usageOut(ev.usage));
      }
    } catch (err) {
      if (conn.signal.aborted) {
        conn.end();
        return undefined;
      }
      closing = chunk({ content: `**ERROR**: ${safeMessage(err).message}` }, 'stop');
    }
    // the last chunk, [DONE] and the end: one write
    conn.end(`${closing}data:[DONE]\n\n`);
    return undefined;
  }

  private async nonStream(events: AsyncGenerator<AnswerEvent>, id: string, created: number, model: string, wantReference: boolean) {
    try {
      for await (const ev of events) {
        if (ev.type !== 'final') continue;
        const u = usageOut(ev.usage);
        const reasoning = /^<think>([\s\S]*?)<\/think>/.exec(ev.answer)?.[1];
        return {
          id,
          object: 'chat.completion',
          created,
          model,
          usage: { ...u, completion_tokens_details: { reasoning_tokens: 0, accepted_prediction_tokens: u.completion_tokens, rejected_prediction_tokens: 0 } },
          choices: [
            {
              message: {
                role: 'assistant',
                content: stripThink(ev.answer),
                ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}),
                ...(wantReference ? { reference: ev.reference.chunks } : {}),
              },
              logprobs: null,
              finish_reason: 'stop',
              index: 0,
            },
          ],
        };
      }
    } catch (err) {
      if (err instanceof LlmError) throw new DomainError(RetCode.EXCEPTION_ERROR, `**ERROR**: ${err.message}`);
      throw err;
    }
    throw new Error('chat answer ended without a final event');
  }
}

/** OpenAI content parts (`[{type:"text", text}]`) as plain text. */
function contentText(content: unknown): string {
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : String(content);
  return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
}
