import { Controller, HttpCode, Delete, Get, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { InjectConfig } from '@ragnest/runtime';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok, okJson } from '../ragflow/envelope.js';
import { classicPatch, currentPatch } from './chat.input.js';
import { ChatsService, type ListQuery } from './chats.service.js';

/** RAGFlow list query conventions (§1.6): chats/sessions treat only a literal false as false. */
export function listQuery(q: Record<string, string | undefined>, maxPageSize?: number): ListQuery {
  const int = (v: string | undefined, def: number) => {
    const n = Number(v);
    return v !== undefined && Number.isInteger(n) && n > 0 ? n : def;
  };
  const pageSize = int(q.page_size, 30);
  if (maxPageSize && pageSize > maxPageSize) throw dataError(`page_size must be less than or equal to ${maxPageSize}`);
  const orderBy = q.orderby === 'update_time' || q.orderby === 'name' ? q.orderby : 'create_time';
  return {
    page: int(q.page, 1),
    pageSize,
    orderBy,
    desc: !(q.desc !== undefined && q.desc.toLowerCase() === 'false'),
    ...(q.id && q.id !== 'None' ? { id: q.id } : {}),
    ...(q.name && q.name !== 'None' ? { name: q.name } : {}),
    ...(q.keywords ? { keywords: q.keywords } : {}),
  };
}

const isCurrentBody = (b: Record<string, unknown>) => 'llm_id' in b || 'prompt_config' in b || 'llm_setting' in b || 'icon' in b;

/** `/api/v1/chats` (§7): the classic routes plus the current generation's `/chats/{id}` routes. */
@Controller('api/v1/chats')
@UseGuards(ApiKeyGuard)
export class ChatsController {
  constructor(
    private readonly chats: ChatsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  private get current() {
    return this.config.compat === 'current';
  }

  @HttpCode(200)
  @Post()
  async create(@Auth() a: AuthContext, @Body() body: Record<string, unknown>) {
    if (body.tenant_id !== undefined) throw dataError('`tenant_id` must not be provided.');
    // both generations' bodies are accepted; the key set tells them apart (§0)
    const patch = isCurrentBody(body) ? currentPatch(body) : classicPatch(body);
    const chat = await this.chats.create(a.tenantId, patch, this.current);
    if (this.current) return okJson((await this.chats.currentViews([chat]))[0]);
    const { top_k: _dropped, ...view } = (await this.chats.classicViews([chat]))[0]!;
    return ok({ ...view, datasets: undefined });
  }

  @Put(':chat_id')
  async update(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Body() body: Record<string, unknown>) {
    if (body.tenant_id !== undefined) throw dataError('`tenant_id` must not be provided.');
    if (body.llm !== undefined && body.llm !== null && typeof body.llm === 'object' && !Object.keys(body.llm).length) throw dataError('`llm` cannot be empty.');
    const chat = await this.chats.find(a.tenantId, chatId);
    const patch = isCurrentBody(body) ? currentPatch(body, chat ?? undefined) : classicPatch(body, chat ?? undefined);
    const updated = await this.chats.update(a.tenantId, chatId, patch);
    return this.current ? okJson((await this.chats.currentViews([updated]))[0]) : ok();
  }

  /** Current generation: merge `llm_setting` and `prompt_config`; answers the updated object. */
  @Patch(':chat_id')
  async patch(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Body() body: Record<string, unknown>) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw new DomainError(RetCode.AUTHENTICATION_ERROR, 'no authorization');
    const updated = await this.chats.update(a.tenantId, chatId, currentPatch(body, chat), true);
    return okJson((await this.chats.currentViews([updated]))[0]);
  }

  @Get(':chat_id')
  async get(@Auth() a: AuthContext, @Param('chat_id') chatId: string) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw new DomainError(RetCode.AUTHENTICATION_ERROR, 'no authorization');
    return okJson((await this.chats.currentViews([chat]))[0]);
  }

  @Delete(':chat_id')
  async deleteOne(@Auth() a: AuthContext, @Param('chat_id') chatId: string) {
    const chat = await this.chats.find(a.tenantId, chatId);
    if (!chat) throw new DomainError(RetCode.AUTHENTICATION_ERROR, 'no authorization');
    await this.chats.remove(a.tenantId, [chatId]);
    return okJson(true);
  }

  @Get()
  async list(@Auth() a: AuthContext, @Query() q: Record<string, string | undefined>) {
    const query = listQuery(q, this.current ? 100 : undefined);
    const { total, rows } = await this.chats.list(a.tenantId, query);
    if (this.current) return okJson({ chats: await this.chats.currentViews(rows), total });
    if (!rows.length && (query.id || query.name)) throw dataError("The chat doesn't exist");
    return ok(await this.chats.classicViews(rows));
  }

  @Delete()
  async remove(@Auth() a: AuthContext, @Body() body: Record<string, unknown>) {
    const raw = body.ids;
    if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw dataError('`ids` should be a list');
    const ids = Array.isArray(raw) ? raw.map(String) : null;
    const deleteAll = body.delete_all === true;
    // classic: null, absent or [] delete everything; current: only with delete_all
    const target = this.current ? (ids?.length ? ids : deleteAll ? null : []) : ids?.length ? ids : null;
    const partial = await this.chats.remove(a.tenantId, target, deleteAll);
    if (partial) return { code: 0, data: partial, message: `Partially deleted ${partial.success_count} chats with ${partial.errors.length} errors` };
    return this.current ? okJson(true) : ok();
  }
}
