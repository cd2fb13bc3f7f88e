import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { DomainError, RetCode } from '@ragnest/contracts';
import { InjectConfig } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { AuthService } from './auth.service.js';

/**
 * RAGFlow SDK auth (`token_required`, §2.1). Classic answers HTTP 200 with its odd bodies (code 0 for a
 * missing header); current answers 401. The scheme word is not checked; a bare token is accepted too.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly auth: AuthService, @InjectConfig() private readonly config: AppConfig) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization;
    const current = this.config.compat === 'current';
    const unauthorized = () => new DomainError(401, "<Unauthorized '401: Unauthorized'>", null, 401);
    if (!header || !header.trim()) {
      throw current ? unauthorized() : new DomainError(0, "`Authorization` can't be empty", false);
    }
    const parts = header.trim().split(/\s+/);
    const token = parts.length >= 2 ? parts[1]! : parts[0]!;
    const found = (await this.auth.byApiKey(token)) ?? (await this.auth.bySession(token));
    if (!found) {
      throw current ? unauthorized() : new DomainError(RetCode.AUTHENTICATION_ERROR, 'Authentication error: API key is invalid!', false);
    }
    req.auth = found;
    return true;
  }
}

/** RAGFlow web routes (`login_required`): the login token (or an API key); 401 otherwise. */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization ?? '';
    const found = header ? await this.auth.byAnyToken(header) : null;
    if (!found) throw new DomainError(401, "<Unauthorized '401: Unauthorized'>", null, 401);
    req.auth = found;
    return true;
  }
}
