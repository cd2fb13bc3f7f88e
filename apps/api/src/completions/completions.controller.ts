import { Controller, HttpCode, Post, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { dataError } from '@ragnest/contracts';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { ok } from '../ragflow/envelope.js';
import { CompletionsService } from './completions.service.js';
import { RelatedQuestionsService } from './related.service.js';

@Controller('api/v1')
@UseGuards(ApiKeyGuard)
export class CompletionsController {
  constructor(
    private readonly completions: CompletionsService,
    private readonly related: RelatedQuestionsService,
  ) {}

  @HttpCode(200)
  @Post('chats/:chat_id/completions')
  async complete(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response) {
    const out = await this.completions.complete(a.tenantId, chatId, body, req, res);
    if (out !== undefined) res.json(out);
  }

  /** Current generation: the chat id travels in the body. */
  @HttpCode(200)
  @Post('chat/completions')
  async completeCurrent(@Auth() a: AuthContext, @Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response) {
    if (typeof body.chat_id !== 'string' || !body.chat_id) throw dataError('`chat_id` is required.');
    const out = await this.completions.complete(a.tenantId, body.chat_id, body, req, res);
    if (out !== undefined) res.json(out);
  }

  @HttpCode(200)
  @Post(['sessions/related_questions', 'chat/recommendation'])
  async relatedQuestions(@Auth() a: AuthContext, @Body() body: Record<string, unknown>) {
    if (typeof body.question !== 'string' || !body.question.trim()) throw dataError('`question` is required.');
    const industry = typeof body.industry === 'string' ? body.industry : '';
    return ok(await this.related.suggest(a.tenantId, body.question, industry));
  }
}
