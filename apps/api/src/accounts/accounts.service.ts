import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { isUniqueViolation, newApiKey, newBetaToken, newId, type PrismaClient } from '@ragnest/db';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { InjectConfig, InjectDb } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { rowTimes } from '../ragflow/format.js';
import { EmbeddingModels } from '../datasets/embedding-models.js';
import { AuthService } from '../auth/auth.service.js';

const EMAIL = /^[\w.+-]+@([\w-]+\.)+[\w-]{2,}$/;
const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

export interface RegisterInput {
  email: string;
  nickname: string;
  password: string;
}

/** Accounts, login sessions, API keys and per-tenant model settings (RAGFlow's web API). */
@Injectable()
export class AccountsService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly models: EmbeddingModels,
    private readonly auth: AuthService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The installation's default chat model id (LLM_*), or "" */
  private defaultChatModel(): string {
    const d = this.config.llm.default;
    return d ? `${d.model}@${d.factory}` : '';
  }

  async register(input: RegisterInput) {
    if (!EMAIL.test(input.email)) throw new DomainError(RetCode.OPERATING_ERROR, `Invalid email address: ${input.email}!`);
    const existing = await this.db.user.findUnique({ where: { email: input.email } });
    if (existing) throw new DomainError(RetCode.OPERATING_ERROR, `Email: ${input.email} has already registered!`);
    const id = newId();
    const passwordHash = await hashPassword(input.password);
    try {
      await this.db.$transaction([
        this.db.tenant.create({ data: { id, name: `${input.nickname}'s Kingdom`, embdId: this.models.defaultModelId() } }),
        this.db.user.create({ data: { id, tenantId: id, email: input.email, nickname: input.nickname, passwordHash } }),
      ]);
    } catch (err) {
      if (String(err).includes('Unique constraint')) throw new DomainError(RetCode.OPERATING_ERROR, `Email: ${input.email} has already registered!`);
      throw err;
    }
    const user = await this.db.user.findUniqueOrThrow({ where: { id } });
    return { user: this.userView(user), session: await this.newSession(id) };
  }

  async login(email: string, password: string) {
    const user = await this.db.user.findUnique({ where: { email } });
    if (!user) throw new DomainError(RetCode.AUTHENTICATION_ERROR, `Email: ${email} is not registered!`);
    if (!(await verifyPassword(password, user.passwordHash))) {
      throw new DomainError(RetCode.AUTHENTICATION_ERROR, 'Email and password do not match!');
    }
    return { user: this.userView(user), session: await this.newSession(user.id) };
  }

  private async newSession(userId: string): Promise<string> {
    const token = randomBytes(32).toString('hex');
    await this.db.userSession.create({ data: { token, userId, expiresAt: new Date(Date.now() + SESSION_TTL_MS) } });
    return token;
  }

  userView(u: { id: string; email: string; nickname: string; createdAt: Date; updatedAt: Date }) {
    return {
      id: u.id,
      email: u.email,
      nickname: u.nickname,
      avatar: null,
      language: 'English',
      color_schema: 'Bright',
      timezone: 'UTC+8\tAsia/Shanghai',
      is_authenticated: '1',
      is_active: '1',
      is_anonymous: '0',
      is_superuser: false,
      login_channel: 'password',
      status: '1',
      last_login_time: new Date().toUTCString(),
      ...rowTimes(u.createdAt, u.updatedAt),
    };
  }

  async newToken(tenantId: string, name?: string) {
    const row = await this.db.apiToken.create({ data: { token: newApiKey(), tenantId, name: name ?? null, beta: newBetaToken() } });
    return this.tokenView(row);
  }

  async listTokens(tenantId: string) {
    const rows = await this.db.apiToken.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });
    return rows.map((r) => this.tokenView(r));
  }

  async deleteToken(tenantId: string, token: string): Promise<void> {
    await this.db.apiToken.deleteMany({ where: { tenantId, token } });
    this.auth.forgetApiKey(token);
  }

  private tokenView(r: { token: string; tenantId: string; beta: string; name: string | null; createdAt: Date }) {
    return { tenant_id: r.tenantId, token: r.token, beta: r.beta, dialog_id: null, source: null, name: r.name, ...rowTimes(r.createdAt, null) };
  }

  async tenantInfo(tenantId: string) {
    const t = await this.db.tenant.findUnique({ where: { id: tenantId } });
    if (!t) throw dataError('Tenant not found!');
    return {
      tenant_id: t.id,
      name: t.name,
      llm_id: t.llmId || this.defaultChatModel(),
      embd_id: t.embdId || this.models.defaultModelId(),
      img2txt_id: t.img2txtId,
      asr_id: t.asrId,
      rerank_id: t.rerankId,
      tts_id: t.ttsId,
      parser_ids: t.parserIds,
      role: 'owner',
    };
  }

  async setTenantInfo(tenantId: string, body: Record<string, unknown>): Promise<void> {
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    if (body.tenant_id !== undefined && body.tenant_id !== tenantId) throw new DomainError(RetCode.PERMISSION_ERROR, 'No authorization.');
    const embd = str('embd_id');
    if (embd) this.models.assertUsable(embd);
    const llm = str('llm_id')?.trim();
    if (llm) await this.rememberChatModel(tenantId, llm);
    await this.db.tenant.update({
      where: { id: tenantId },
      data: {
        ...(str('llm_id') !== undefined ? { llmId: str('llm_id') } : {}),
        ...(embd !== undefined ? { embdId: embd } : {}),
        ...(str('img2txt_id') !== undefined ? { img2txtId: str('img2txt_id') } : {}),
        ...(str('asr_id') !== undefined ? { asrId: str('asr_id') } : {}),
        ...(str('rerank_id') !== undefined ? { rerankId: str('rerank_id') } : {}),
        ...(str('tts_id') !== undefined ? { ttsId: str('tts_id') } : {}),
      },
    });
  }

  /** Records a chat model name under its factory so my_llms lists it (a factory without a row keeps none). */
  private async rememberChatModel(tenantId: string, modelId: string): Promise<void> {
    const at = modelId.lastIndexOf('@');
    if (at < 0) return;
    const [name, factory] = [modelId.slice(0, at), modelId.slice(at + 1)];
    await this.db.$executeRaw`
      UPDATE tenant_llm SET chat_models = array_append(chat_models, ${name}), updated_at = now()
      WHERE tenant_id = ${tenantId} AND llm_factory = ${factory} AND NOT (${name} = ANY(chat_models))`;
  }

  async myLlms(tenantId: string) {
    const out: Record<string, { tags: string; llm: { type: string; name: string; used_token: number }[] }> = {};
    for (const m of this.models.available()) {
      const [name, factory] = m.split('@') as [string, string];
      (out[factory] ??= { tags: 'TEXT EMBEDDING', llm: [] }).llm.push({ type: 'embedding', name, used_token: 0 });
    }
    const rows = await this.db.tenantLlm.findMany({ where: { tenantId } });
    for (const r of rows) {
      const entry = (out[r.llmFactory] ??= { tags: 'LLM,CHAT', llm: [] });
      for (const name of r.chatModels) entry.llm.push({ type: 'chat', name, used_token: 0 });
    }
    const d = this.config.llm.default;
    if (d && !rows.some((r) => r.llmFactory === d.factory)) {
      (out[d.factory] ??= { tags: 'LLM,CHAT', llm: [] }).llm.push({ type: 'chat', name: d.model, used_token: 0 });
    }
    return out;
  }

  async setApiKey(tenantId: string, body: Record<string, unknown>): Promise<void> {
    const factory = typeof body.llm_factory === 'string' ? body.llm_factory.trim() : '';
    const apiKey = typeof body.api_key === 'string' ? body.api_key : '';
    if (!factory) throw new DomainError(RetCode.ARGUMENT_ERROR, 'required argument are missing: llm_factory; ');
    const apiBase = typeof body.base_url === 'string' ? body.base_url : typeof body.api_base === 'string' ? body.api_base : '';
    // a chat model named with the key (set_api_key's llm_name, add_llm's llm_name) is listed by my_llms
    const modelType = typeof body.model_type === 'string' ? body.model_type : 'chat';
    const name = typeof body.llm_name === 'string' && modelType === 'chat' ? body.llm_name.replace(/___[A-Za-z0-9-]+$/, '').trim() : '';
    if (apiBase && !/^https?:\/\/[^\s]+$/i.test(apiBase)) throw new DomainError(RetCode.ARGUMENT_ERROR, `Invalid base URL: ${apiBase}`);
    await this.db.tenantLlm.upsert({
      where: { tenantId_llmFactory: { tenantId, llmFactory: factory } },
      create: { tenantId, llmFactory: factory, apiKey, apiBase, chatModels: name ? [name] : [] },
      update: { apiKey, ...(apiBase ? { apiBase } : {}) },
    });
    if (name) await this.rememberChatModel(tenantId, `${name}@${factory}`);
  }

  /**
   * The default tenant `npm start` creates, owning the configured API key. Idempotent, and safe when several
   * api processes start at once (API_WORKERS, replicas): whoever loses the race to create it reads the
   * winner's rows.
   */
  async ensureDefaultTenant(apiKey: string): Promise<void> {
    const existing = await this.db.apiToken.findUnique({ where: { token: apiKey } });
    if (existing) return;
    const email = 'admin@ragnest.local';
    let user = await this.db.user.findUnique({ where: { email } });
    if (!user) {
      const id = newId();
      const passwordHash = await hashPassword(randomBytes(16).toString('hex'));
      try {
        await this.db.$transaction([
          this.db.tenant.create({ data: { id, name: 'default', embdId: this.models.defaultModelId() } }),
          this.db.user.create({ data: { id, tenantId: id, email, nickname: 'admin', passwordHash } }),
        ]);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      user = await this.db.user.findUniqueOrThrow({ where: { email } });
    }
    try {
      await this.db.apiToken.upsert({
        where: { token: apiKey },
        create: { token: apiKey, tenantId: user.tenantId, name: 'default', beta: newBetaToken() },
        update: {},
      });
    } catch (err) {
      // another process created the same key between the upsert's read and its insert
      if (!isUniqueViolation(err)) throw err;
    }
  }
}
