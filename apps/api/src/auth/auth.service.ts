import { Injectable } from '@nestjs/common';
import type { PrismaClient } from '@ragnest/db';
import { InjectDb } from '@ragnest/runtime';
import type { AuthContext } from './tenant.decorator.js';

/** Resolves API keys and login sessions to a tenant. */
@Injectable()
export class AuthService {
  constructor(@InjectDb() private readonly db: PrismaClient) {}

  async byApiKey(token: string): Promise<AuthContext | null> {
    const row = await this.db.apiToken.findUnique({ where: { token }, select: { tenantId: true } });
    return row ? { tenantId: row.tenantId, userId: row.tenantId, via: 'api_key' } : null;
  }

  async bySession(token: string): Promise<AuthContext | null> {
    const s = await this.db.userSession.findUnique({ where: { token }, include: { user: { select: { tenantId: true } } } });
    if (!s || s.expiresAt.getTime() < Date.now()) return null;
    return { tenantId: s.user.tenantId, userId: s.userId, via: 'session' };
  }

  /** Web routes accept the login token or an API key, with or without a Bearer prefix. */
  async byAnyToken(header: string): Promise<AuthContext | null> {
    const token = header.trim().split(/\s+/).pop() ?? '';
    if (!token) return null;
    return (await this.bySession(token)) ?? (await this.byApiKey(token));
  }
}
