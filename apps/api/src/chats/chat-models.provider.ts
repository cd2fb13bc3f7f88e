import { Inject, type Provider } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import type { PrismaClient } from '@ragnest/db';
import { DbChatModelResolver } from '@ragnest/llm';
import { CONFIG, PRISMA } from '@ragnest/runtime';

export const CHAT_MODELS = Symbol('CHAT_MODELS');
export const InjectChatModels = () => Inject(CHAT_MODELS);

/** The LLM adapter: tenants' chat models from Postgres, the env default (LLM_*) as fallback. */
export const chatModelsProvider: Provider = {
  provide: CHAT_MODELS,
  inject: [PRISMA, CONFIG],
  useFactory: (db: PrismaClient, config: AppConfig) =>
    new DbChatModelResolver(db, { timeoutMs: config.llm.timeoutMs, streamBatchMs: config.llm.streamBatchMs, ...(config.llm.default ? { default: config.llm.default } : {}) }),
};
