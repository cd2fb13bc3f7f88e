import { Injectable, Module, type DynamicModule, type MiddlewareConsumer, type NestModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { InjectConfig, RuntimeModule } from '@ragnest/runtime';
import { getLogger } from '@ragnest/logger';
import { InfraModule } from '@ragnest/runtime';
import { BodyMiddleware } from './ragflow/body.middleware.js';
import { AuthService } from './auth/auth.service.js';
import { ApiKeyGuard, SessionGuard } from './auth/guards.js';
import { AccountsController } from './accounts/accounts.controller.js';
import { AccountsService } from './accounts/accounts.service.js';
import { EmbeddingModels } from './datasets/embedding-models.js';
import { DatasetsController } from './datasets/datasets.controller.js';
import { DatasetsService } from './datasets/datasets.service.js';
import { IndexSync } from './documents/index-sync.service.js';
import { DocumentsController } from './documents/documents.controller.js';
import { DocumentsService } from './documents/documents.service.js';
import { ParseService } from './documents/parse.service.js';
import { UploadService } from './documents/upload.service.js';
import { ChunksController } from './chunks/chunks.controller.js';
import { ChunksService } from './chunks/chunks.service.js';
import { RetrievalController } from './retrieval/retrieval.controller.js';
import { RetrievalService } from './retrieval/retrieval.service.js';
import { RetrievalGateway, SEARCH_KIND } from './retrieval/retrieval.gateway.js';
import { HealthController } from './health/health.controller.js';
import { ClassicImagesController, ImagesController } from './images/images.controller.js';
import { ImagesService } from './images/images.service.js';
import { CHAT_MODELS, chatModelsProvider } from './chats/chat-models.provider.js';
import { ChatsController } from './chats/chats.controller.js';
import { ChatsService } from './chats/chats.service.js';
import { SessionsController } from './chats/sessions.controller.js';
import { SessionsService } from './chats/sessions.service.js';
import { AnswerService } from './completions/answer.service.js';
import { CompletionsController } from './completions/completions.controller.js';
import { CompletionsService } from './completions/completions.service.js';
import { RelatedQuestionsService } from './completions/related.service.js';
import { OpenAIController } from './openai/openai.controller.js';
import { OpenAIChatService } from './openai/openai-chat.service.js';
import { AGENT_CHAT_MODELS, AGENT_CONTROLLERS, AGENT_PROVIDERS } from './agents/index.js';

/** With API_KEY set, the default tenant owning that key exists before the first request. */
@Injectable()
class DefaultTenant implements OnApplicationBootstrap {
  constructor(private readonly accounts: AccountsService, @InjectConfig() private readonly config: AppConfig) {}
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.apiKey) return;
    await this.accounts.ensureDefaultTenant(this.config.apiKey);
    getLogger().info('default tenant ready');
  }
}

@Module({})
export class ApiModule implements NestModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [RuntimeModule.forRoot(config), InfraModule],
      controllers: [
        HealthController,
        AccountsController,
        DatasetsController,
        DocumentsController,
        ChunksController,
        RetrievalController,
        ChatsController,
        SessionsController,
        CompletionsController,
        OpenAIController,
        ClassicImagesController,
        ImagesController,
        ...AGENT_CONTROLLERS,
      ],
      providers: [
        { provide: SEARCH_KIND, useValue: config.elasticsearch ? 'elasticsearch' : 'embedded' },
        AuthService,
        ApiKeyGuard,
        SessionGuard,
        AccountsService,
        EmbeddingModels,
        DatasetsService,
        IndexSync,
        DocumentsService,
        UploadService,
        ParseService,
        ChunksService,
        ImagesService,
        RetrievalGateway,
        RetrievalService,
        DefaultTenant,
        chatModelsProvider,
        ChatsService,
        SessionsService,
        AnswerService,
        CompletionsService,
        RelatedQuestionsService,
        OpenAIChatService,
        ...AGENT_PROVIDERS,
        // agents resolve tenants' chat models through the chat feature's resolver (one cache, one config)
        { provide: AGENT_CHAT_MODELS, useExisting: CHAT_MODELS },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BodyMiddleware).forRoutes('*path');
  }
}
