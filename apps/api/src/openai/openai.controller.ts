import { Controller, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { Body } from '../ragflow/body.js';
import { OpenAIChatService } from './openai-chat.service.js';

@Controller('api/v1')
@UseGuards(ApiKeyGuard)
export class OpenAIController {
  constructor(private readonly chat: OpenAIChatService) {}

  @HttpCode(200)
  @Post(['chats_openai/:chat_id/chat/completions', 'openai/:chat_id/chat/completions'])
  async complete(@Auth() a: AuthContext, @Param('chat_id') chatId: string, @Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response) {
    const out = await this.chat.complete(a.tenantId, chatId, body, req, res);
    if (out !== undefined) res.json(out);
  }
}
