import { Controller, HttpCode, Delete, Get, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, RetCode } from '@ragnest/contracts';
import { Body } from '../ragflow/body.js';
import { okJson } from '../ragflow/envelope.js';
import { SessionGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { AccountsService } from './accounts.service.js';

function required(body: Record<string, unknown>, keys: string[]): Record<string, string> {
  const missing = keys.filter((k) => typeof body[k] !== 'string' || !(body[k] as string).length);
  if (missing.length) throw new DomainError(RetCode.ARGUMENT_ERROR, `required argument are missing: ${missing.join(',')}; `);
  return Object.fromEntries(keys.map((k) => [k, body[k] as string]));
}

/** RAGFlow's web API routes that clients use to obtain keys (classic `/v1/...` and current aliases). */
@Controller()
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @HttpCode(200)
  @Post(['v1/user/register', 'api/v1/users'])
  async register(@Body() body: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    const { email, nickname, password } = required(body, ['email', 'nickname', 'password']);
    const { user, session } = await this.accounts.register({ email: email!, nickname: nickname!, password: password! });
    res.setHeader('Authorization', session);
    res.setHeader('Access-Control-Expose-Headers', 'Authorization');
    return okJson(user, `${nickname}, welcome aboard!`);
  }

  @HttpCode(200)
  @Post(['v1/user/login', 'api/v1/auth/login'])
  async login(@Body() body: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    const { email, password } = required(body, ['email', 'password']);
    const { user, session } = await this.accounts.login(email!, password!);
    res.setHeader('Authorization', session);
    res.setHeader('Access-Control-Expose-Headers', 'Authorization');
    return okJson({ ...user, access_token: session }, 'Welcome back!');
  }

  @HttpCode(200)
  @Post(['v1/system/new_token', 'api/v1/system/tokens'])
  @UseGuards(SessionGuard)
  async newToken(@Auth() auth: AuthContext, @Query('name') name?: string) {
    return okJson(await this.accounts.newToken(auth.tenantId, name));
  }

  @Get(['v1/system/token_list', 'api/v1/system/tokens'])
  @UseGuards(SessionGuard)
  async tokenList(@Auth() auth: AuthContext) {
    return okJson(await this.accounts.listTokens(auth.tenantId));
  }

  @Delete(['v1/system/token/:token', 'api/v1/system/tokens/:token'])
  @UseGuards(SessionGuard)
  async deleteToken(@Auth() auth: AuthContext, @Param('token') token: string) {
    await this.accounts.deleteToken(auth.tenantId, token);
    return okJson(true);
  }

  @Get('v1/user/tenant_info')
  @UseGuards(SessionGuard)
  async tenantInfo(@Auth() auth: AuthContext) {
    return okJson(await this.accounts.tenantInfo(auth.tenantId));
  }

  @HttpCode(200)
  @Post('v1/user/set_tenant_info')
  @UseGuards(SessionGuard)
  async setTenantInfo(@Auth() auth: AuthContext, @Body() body: Record<string, unknown>) {
    await this.accounts.setTenantInfo(auth.tenantId, body);
    return okJson(true);
  }

  @Get('v1/llm/my_llms')
  @UseGuards(SessionGuard)
  async myLlms(@Auth() auth: AuthContext) {
    return okJson(await this.accounts.myLlms(auth.tenantId));
  }

  /** RAGFlow's route for self-hosted / OpenAI-compatible models: factory, model name, base URL and key together. */
  @HttpCode(200)
  @Post('v1/llm/add_llm')
  @UseGuards(SessionGuard)
  async addLlm(@Auth() auth: AuthContext, @Body() body: Record<string, unknown>) {
    const { llm_name: _name } = required(body, ['llm_factory', 'llm_name']);
    await this.accounts.setApiKey(auth.tenantId, body);
    return okJson(true);
  }

  @HttpCode(200)
  @Post('v1/llm/set_api_key')
  @UseGuards(SessionGuard)
  async setApiKey(@Auth() auth: AuthContext, @Body() body: Record<string, unknown>) {
    await this.accounts.setApiKey(auth.tenantId, body);
    return okJson(true);
  }
}
