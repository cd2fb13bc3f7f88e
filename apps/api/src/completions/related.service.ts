import { Injectable } from '@nestjs/common';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { LlmError, type DbChatModelResolver } from '@ragnest/llm';
import { InjectChatModels } from '../chats/chat-models.provider.js';
import { parseNumberedList, relatedQuestionsMessages } from './prompt.js';

/** `POST /api/v1/sessions/related_questions`: search queries related to a question, written by the tenant's model. */
@Injectable()
export class RelatedQuestionsService {
  constructor(@InjectChatModels() private readonly models: DbChatModelResolver) {}

  async suggest(tenantId: string, question: string, industry: string): Promise<string[]> {
    let model;
    try {
      model = await this.models.resolve(tenantId);
    } catch (err) {
      if (err instanceof LlmError) throw dataError(err.message);
      throw err;
    }
    if (!model) throw dataError('No chat model is configured: set one with /v1/llm/set_api_key and /v1/user/set_tenant_info, or LLM_BASE_URL and LLM_MODEL.');
    try {
      const r = await model.complete(relatedQuestionsMessages(question, industry), { temperature: 0.9 }, AbortSignal.timeout(120_000));
      return parseNumberedList(r.text).slice(0, 10);
    } catch (err) {
      if (err instanceof LlmError) throw new DomainError(RetCode.EXCEPTION_ERROR, err.message);
      throw err;
    }
  }
}
