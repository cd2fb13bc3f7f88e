import { Injectable } from '@nestjs/common';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { FEED_HEAD_TEXT, newId, statement, type Chat, type HotReads, type Prisma, type PrismaClient } from '@ragnest/db';
import { LlmError, tenantModelsColumns, tenantModelsOf, type DbChatModelResolver, type TenantModels } from '@ragnest/llm';
import { InjectDb, InjectHotReads } from '@ragnest/runtime';
import { DatasetsService } from '../datasets/datasets.service.js';
import type { OwnedScope } from '../retrieval/retrieval.service.js';
import { datasetView } from '../datasets/dataset.view.js';
import { DEFAULT_LLM_SETTING, defaultPromptConfig, type PromptConfig } from './chat.model.js';
import { checkParameters, type ChatPatch } from './chat.input.js';
import { classicChatView, currentChatView } from './chat.view.js';
import { InjectChatModels } from './chat-models.provider.js';

export interface ListQuery {
  page: number;
  pageSize: number;
  orderBy: 'create_time' | 'update_time' | 'name';
  desc: boolean;
  id?: string;
  name?: string;
  keywords?: string;
}

/** Everything a chat turn reads before it answers, loaded in one round trip (ChatsService.findForTurn). */
export interface ChatTurnContext {
  chat: Chat;
  /** the session's stored messages; null when no session was asked for or the chat has no such session */
  sessionMessages: unknown[] | null;
  /** the chat's datasets that still exist and belong to the tenant, in the chat's order */
  liveDatasetIds: string[];
  /** the live datasets' embedding models and the index feed position, for the retrieval (no second scope query) */
  scope: OwnedScope;
  tenantModels: TenantModels;
}

interface ChatTurnRow extends Chat {
  sessionMessages: unknown[] | null;
  liveDatasetIds: string[];
  embeddingModels: string[];
  feedHead: string;
  tenantLlmId: string | null;
  tenantProviders: unknown;
}

/** The chat's columns as Prisma names them, and the turn's other reads (see findForTurn). $1 chat, $2 tenant, $3 session or ''. */
const CHAT_TURN = statement(
  'chat_turn',
  `SELECT c.id, c.tenant_id AS "tenantId", c.name, c.description, c.avatar, c.language, c.llm_id AS "llmId",
          c.llm_setting AS "llmSetting", c.prompt_config AS "promptConfig", c.prompt_type AS "promptType",
          c.kb_ids AS "kbIds", c.top_n AS "topN", c.top_k AS "topK", c.similarity_threshold AS "similarityThreshold",
          c.vector_similarity_weight AS "vectorSimilarityWeight", c.rerank_id AS "rerankId", c.do_refer AS "doRefer",
          c.meta_data_filter AS "metaDataFilter", c.created_at AS "createdAt", c.updated_at AS "updatedAt",
          s.messages AS "sessionMessages",
          coalesce(ds.ids, '{}') AS "liveDatasetIds", coalesce(ds.models, '{}') AS "embeddingModels",
          ${FEED_HEAD_TEXT} AS "feedHead",
          ${tenantModelsColumns('c.tenant_id')}
   FROM chat c
   LEFT JOIN chat_session s ON s.id = $3 AND s.chat_id = c.id
   LEFT JOIN LATERAL (
     SELECT array_agg(d.id ORDER BY array_position(c.kb_ids, d.id)) AS ids, array_agg(DISTINCT d.embedding_model) AS models
     FROM dataset d WHERE d.id = ANY(c.kb_ids) AND d.tenant_id = c.tenant_id
   ) ds ON true
   WHERE c.id = $1 AND c.tenant_id = $2`,
);

const ORDER: Record<ListQuery['orderBy'], keyof Chat> = { create_time: 'createdAt', update_time: 'updatedAt', name: 'name' };

/** Chat assistants (RAGFlow dialogs): validation, storage and the two generations' objects. */
@Injectable()
export class ChatsService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectHotReads() private readonly hot: HotReads,
    private readonly datasets: DatasetsService,
    @InjectChatModels() private readonly models: DbChatModelResolver,
  ) {}

  /** The chat if the tenant owns it, else null. */
  find(tenantId: string, chatId: string): Promise<Chat | null> {
    return this.db.chat.findFirst({ where: { id: chatId, tenantId } });
  }

  /**
   * The chat (if the tenant owns it) with what a turn needs besides: the session's messages (not its
   * references, which only grow), the live datasets with their retrieval scope and the tenant's model
   * configuration. One prepared statement instead of six ORM calls: on the completion path every round trip
   * is CPU in the api and in Postgres, and time before the model is called.
   */
  async findForTurn(tenantId: string, chatId: string, sessionId?: string): Promise<ChatTurnContext | null> {
    const [row] = await this.hot.rows<ChatTurnRow>(CHAT_TURN, [chatId, tenantId, sessionId ?? '']);
    if (!row) return null;
    const { sessionMessages, liveDatasetIds, embeddingModels, feedHead, tenantLlmId, tenantProviders, ...chat } = row;
    return {
      chat,
      sessionMessages: sessionId ? sessionMessages : null,
      liveDatasetIds,
      scope: { embeddingModels, feedHead: String(feedHead) },
      tenantModels: tenantModelsOf({ tenantLlmId, tenantProviders }),
    };
  }

  private async checkDatasets(tenantId: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const rows = await this.db.dataset.findMany({ where: { id: { in: ids }, tenantId }, select: { id: true, embeddingModel: true } });
    const owned = new Set(rows.map((r) => r.id));
    const stray = ids.find((id) => !owned.has(id));
    if (stray) throw dataError(`You don't own the dataset ${stray}`);
    const counts = await this.datasets.counts(ids);
    const empty = ids.find((id) => !(counts.get(id)?.chunkCount ?? 0));
    if (empty) throw dataError(`The dataset ${empty} doesn't own parsed file`);
    if (new Set(rows.map((r) => r.embeddingModel)).size > 1) throw new DomainError(RetCode.AUTHENTICATION_ERROR, 'Datasets use different embedding models."');
  }

  private async checkModels(tenantId: string, p: ChatPatch): Promise<void> {
    if (p.llmId) {
      try {
        await this.models.resolve(tenantId, p.llmId);
      } catch (err) {
        if (err instanceof LlmError) throw dataError(`\`model_name\` ${p.llmId} doesn't exist`);
        throw err;
      }
    }
    // rerank models are not run by this server; refuse them rather than silently ignore them
    if (p.rerankId) throw dataError(`\`rerank_model\` ${p.rerankId} doesn't exist`);
  }

  private async nameTaken(tenantId: string, name: string, exceptId?: string): Promise<boolean> {
    const hit = await this.db.chat.findFirst({ where: { tenantId, name, ...(exceptId ? { NOT: { id: exceptId } } : {}) }, select: { id: true } });
    return !!hit;
  }

  async create(tenantId: string, p: ChatPatch, lowerCaseMessages = false): Promise<Chat> {
    const name = p.name?.trim() ?? '';
    if (!name) throw dataError('`name` is required.');
    await this.checkDatasets(tenantId, p.kbIds ?? []);
    await this.checkModels(tenantId, p);
    const pc: PromptConfig = p.promptConfig ?? defaultPromptConfig();
    checkParameters(pc);
    if (await this.nameTaken(tenantId, name)) throw dataError(lowerCaseMessages ? 'duplicated chat name in creating chat' : 'Duplicated chat name in creating chat.');
    return this.db.chat.create({
      data: {
        id: newId(),
        tenantId,
        name,
        ...(p.avatar !== undefined ? { avatar: p.avatar } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
        ...(p.language !== undefined ? { language: p.language } : {}),
        llmId: p.llmId ?? '',
        llmSetting: (p.llmSetting ?? { ...DEFAULT_LLM_SETTING }) as Prisma.InputJsonValue,
        promptConfig: pc as Prisma.InputJsonValue,
        kbIds: p.kbIds ?? [],
        ...(p.topN !== undefined ? { topN: p.topN } : {}),
        ...(p.topK !== undefined ? { topK: p.topK } : {}),
        ...(p.similarityThreshold !== undefined ? { similarityThreshold: p.similarityThreshold } : {}),
        ...(p.vectorSimilarityWeight !== undefined ? { vectorSimilarityWeight: p.vectorSimilarityWeight } : {}),
        ...(p.doRefer !== undefined ? { doRefer: p.doRefer } : {}),
      },
    });
  }

  /** Merges the patch into the chat. Datasets change only when `dataset_ids` was sent (§16 #12). */
  async update(tenantId: string, chatId: string, p: ChatPatch, lowerCaseMessages = false): Promise<Chat> {
    const chat = await this.find(tenantId, chatId);
    if (!chat) throw lowerCaseMessages ? new DomainError(RetCode.AUTHENTICATION_ERROR, 'no authorization') : dataError('You do not own the chat');
    if (p.name !== undefined) {
      if (!p.name.trim()) throw dataError('`name` cannot be empty.');
      if (p.name.trim() !== chat.name && (await this.nameTaken(tenantId, p.name.trim(), chatId))) {
        throw dataError(lowerCaseMessages ? 'duplicated chat name in updating chat' : 'Duplicated chat name in updating chat.');
      }
    }
    if (p.kbIds) await this.checkDatasets(tenantId, p.kbIds);
    await this.checkModels(tenantId, p);
    if (p.promptConfig) checkParameters(p.promptConfig);
    return this.db.chat.update({
      where: { id: chatId },
      data: {
        ...(p.name !== undefined ? { name: p.name.trim() } : {}),
        ...(p.avatar !== undefined ? { avatar: p.avatar } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
        ...(p.language !== undefined ? { language: p.language } : {}),
        ...(p.llmId !== undefined ? { llmId: p.llmId } : {}),
        ...(p.llmSetting ? { llmSetting: p.llmSetting as Prisma.InputJsonValue } : {}),
        ...(p.promptConfig ? { promptConfig: p.promptConfig as Prisma.InputJsonValue } : {}),
        ...(p.kbIds ? { kbIds: p.kbIds } : {}),
        ...(p.topN !== undefined ? { topN: p.topN } : {}),
        ...(p.topK !== undefined ? { topK: p.topK } : {}),
        ...(p.similarityThreshold !== undefined ? { similarityThreshold: p.similarityThreshold } : {}),
        ...(p.vectorSimilarityWeight !== undefined ? { vectorSimilarityWeight: p.vectorSimilarityWeight } : {}),
        ...(p.rerankId !== undefined ? { rerankId: p.rerankId } : {}),
        ...(p.doRefer !== undefined ? { doRefer: p.doRefer } : {}),
      },
    });
  }

  async list(tenantId: string, q: ListQuery): Promise<{ total: number; rows: Chat[] }> {
    const where: Prisma.ChatWhereInput = {
      tenantId,
      ...(q.id ? { id: q.id } : {}),
      ...(q.name ? { name: q.name } : {}),
      ...(q.keywords ? { name: { contains: q.keywords, mode: 'insensitive' } } : {}),
    };
    const [total, rows] = await Promise.all([
      this.db.chat.count({ where }),
      this.db.chat.findMany({
        where,
        orderBy: [{ [ORDER[q.orderBy]]: q.desc ? 'desc' : 'asc' }, { id: 'asc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
      }),
    ]);
    return { total, rows };
  }

  /** Classic list objects carry the full dataset rows under `datasets`. */
  async classicViews(rows: Chat[]) {
    const ids = [...new Set(rows.flatMap((r) => r.kbIds))];
    const [datasets, counts] = await Promise.all([this.db.dataset.findMany({ where: { id: { in: ids } } }), this.datasets.counts(ids)]);
    const byId = new Map(datasets.map((d) => [d.id, datasetView(d, counts.get(d.id)!)]));
    return rows.map((r) => classicChatView(r, r.kbIds.flatMap((id) => (byId.has(id) ? [byId.get(id)] : []))));
  }

  async currentViews(rows: Chat[]) {
    const ids = [...new Set(rows.flatMap((r) => r.kbIds))];
    const names = new Map((await this.db.dataset.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((d) => [d.id, d.name]));
    return rows.map((r) => currentChatView(r, r.kbIds.flatMap((id) => (names.has(id) ? [names.get(id)!] : []))));
  }

  /**
   * Classic delete (§7.4): null/absent/[] ids delete every chat of the tenant; unknown ids are reported, and
   * the call fails only when nothing was deleted.
   */
  async remove(tenantId: string, ids: string[] | null, deleteAll = false): Promise<{ success_count: number; errors: string[] } | null> {
    if (ids === null || ids.length === 0) {
      if (ids !== null && !deleteAll) return null;
      await this.db.chat.deleteMany({ where: { tenantId } });
      return null;
    }
    const errors: string[] = [];
    const seen = new Set<string>();
    const dups = new Set<string>();
    for (const id of ids) (seen.has(id) ? dups : seen).add(id);
    const owned = new Set((await this.db.chat.findMany({ where: { tenantId, id: { in: [...seen] } }, select: { id: true } })).map((r) => r.id));
    for (const id of seen) if (!owned.has(id)) errors.push(`Assistant(${id}) not found.`);
    if (dups.size) errors.push(`Duplicate assistant ids: ${[...dups].join(', ')}`);
    const { count } = await this.db.chat.deleteMany({ where: { tenantId, id: { in: [...owned] } } });
    if (count === 0) throw dataError(errors.join('; ') || 'No chat was deleted');
    return errors.length ? { success_count: count, errors } : null;
  }
}
