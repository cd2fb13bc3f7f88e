import { Injectable } from '@nestjs/common';
import type { PrismaClient } from '@ragnest/db';
import { InjectDb } from '@ragnest/runtime';
import type { AuthContext } from './tenant.decorator.js';

/**
 * Valid API keys are remembered this long: every SDK call is authenticated, and the lookup would otherwise
 * be a query per request. A key deleted through this process is forgotten at once; another API replica
 * may still accept it for at most this long.
 */
const KEY_CACHE_MS = 2_000;
const KEY_CACHE_MAX = 10_000;

/** Resolves API keys and login sessions to a tenant. */
@Injectable()
export class AuthService {
  private readonly keys = new Map<string, { tenantId: string; until: number }>();

  constructor(@InjectDb() private readonly db: PrismaClient) {}

  async byApiKey(token: string): Promise<AuthContext | null> {
    const now = Date.now();
    const hit = this.keys.get(token);
    if (hit && hit.until > now) return { tenantId: hit.tenantId, userId: hit.tenantId, via: 'api_key' };
    const [row] = await this.db.$queryRaw<{ tenant_id: string }[]>`SELECT tenant_id FROM api_token WHERE token = ${token}`;
    if (!row) {
      this.keys.delete(token);
      return null;
    }
    if (this.keys.size >= KEY_CACHE_MAX) this.keys.clear();
    this.keys.set(token, { tenantId: row.tenant_id, until: now + KEY_CACHE_MS });
    return { tenantId: row.tenant_id, userId: row.tenant_id, via: 'api_key' };
  }

  /** Called when a key is deleted, so this process stops accepting it at once. */
  forgetApiKey(token: string): void {
    this.keys.delete(token);
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
