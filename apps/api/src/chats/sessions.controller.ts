import { Controller, HttpCode, Delete, Get, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { dataError } from '@ragnest/contracts';
import { InjectConfig } from '@ragnest/runtime';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok, okJson } from '../ragflow/envelope.js';
import { promptConfigOf } from './chat.model.js';
import { ChatsService } from './chats.service.js';
import { listQuery } from './chats.controller.js';
import { SessionsService, sessionView } from './sessions.service.js';

/** `/api/v1/chats/{chat_id}/sessions` (§8). */
@Controller('api/v1/chats/:chat_id/sessions')
@UseGuards(ApiKeyGuard)
export class SessionsController {
  constructor(
    private readonly chats: ChatsService,
    private readonly sessions: SessionsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @HttpCode(200)
  @Post()
  async create(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Body() body: Record<string, unknown>) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw dataError('You do not own the assistant.');
    const name = body.name === undefined || body.name === null ? 'New session' : String(body.name);
    if (!name.trim()) throw dataError('`name` can not be empty.');
    const userId = typeof body.user_id === 'string' ? body.user_id : '';
    const s = await this.sessions.create(chatId, name, userId, promptConfigOf(chat).prologue);
    return ok(sessionView(s, false));
  }

  @Put(':session_id')
  async update(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Param('session_id') sessionId: string, @Body() body: Record<string, unknown>) {
    await this.rename(a, chatId, sessionId, body);
    return ok();
  }

  @Patch(':session_id')
  async patch(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Param('session_id') sessionId: string, @Body() body: Record<string, unknown>) {
    const s = await this.rename(a, chatId, sessionId, body);
    return okJson(sessionView(s, true));
  }

  private async rename(a: AuthContext, chatId: string, sessionId: string, body: Record<string, unknown>) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw dataError('You do not own the session');
    const session = await this.sessions.find(chatId, sessionId);
    if (!session) throw dataError('Session does not exist');
    if ('message' in body || 'messages' in body) throw dataError('`message` can not be change');
    if ('reference' in body) throw dataError('`reference` can not be change');
    if (body.name === undefined) return session;
    const name = body.name === null ? '' : String(body.name);
    if (!name.trim()) throw dataError('`name` can not be empty.');
    return this.sessions.rename(sessionId, name);
  }

  @Get(':session_id')
  async get(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Param('session_id') sessionId: string) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw dataError(`You don't own the assistant ${chatId}.`);
    const s = await this.sessions.find(chatId, sessionId);
    if (!s) throw dataError('Session does not exist');
    return okJson({ ...sessionView(s, true), avatar: chat.avatar });
  }

  @Get()
  async list(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Query() q: Record<string, string | undefined>) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw dataError(`You don't own the assistant ${chatId}.`);
    const query = { ...listQuery(q), ...(q.user_id ? { userId: q.user_id } : {}) };
    const rows = await this.sessions.list(chatId, query);
    return ok(rows.map((s) => sessionView(s, true)));
  }

  @Delete()
  async remove(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Body() body: Record<string, unknown>) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw dataError("You don't own the chat");
    const raw = body.ids;
    if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw dataError('`ids` should be a list');
    const ids = Array.isArray(raw) ? raw.map(String) : null;
    const current = this.config.compat === 'current';
    const target = current ? (ids?.length ? ids : body.delete_all === true ? null : []) : ids?.length ? ids : null;
    const partial = await this.sessions.remove(chatId, target);
    if (partial) return { code: 0, data: partial, message: `Partially deleted ${partial.success_count} sessions with ${partial.errors.length} errors` };
    return current ? okJson(true) : ok();
  }
}
