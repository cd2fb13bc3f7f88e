import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { pingPostgres, type PrismaClient } from '@ragnest/db';
import { InjectConfig, pingRedis, registry } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import type { ObjectStorage } from '@ragnest/storage';
import { InjectDb, InjectStorage } from '@ragnest/runtime';
import { RetrievalGateway } from '../retrieval/retrieval.gateway.js';

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${what} did not answer within ${ms} ms`)), ms).unref())]);

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Liveness/readiness: 200 only when every dependency answers; a failure names the dependency. */
@Controller()
export class HealthController {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectStorage() private readonly storage: ObjectStorage,
    @InjectConfig() private readonly config: AppConfig,
    private readonly retrieval: RetrievalGateway,
  ) {}

  @Get(['health', 'healthz', 'v1/system/healthz', 'api/v1/system/healthz'])
  async health(@Res() res: Response): Promise<void> {
    const checks: Record<string, string | null> = {};
    const run = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await within(fn(), 3000, name);
        checks[name] = null;
      } catch (err) {
        checks[name] = reason(err);
      }
    };
    await Promise.all([
      run('postgres', () => pingPostgres(this.db)),
      run('redis', () => pingRedis(this.config.redis.url)),
      run('storage', () => this.storage.health()),
      // the retrieval service answers only after checking its search engine
      run('search', () => this.retrieval.ping()),
    ]);
    const failed = Object.entries(checks).filter(([, v]) => v !== null);
    res.status(failed.length ? 503 : 200).json({
      status: failed.length ? 'nok' : 'ok',
      ...(failed.length ? { message: failed.map(([k, v]) => `${k} is unreachable: ${v}`).join('; ') } : {}),
      db: checks.postgres ? 'nok' : 'ok',
      redis: checks.redis ? 'nok' : 'ok',
      storage: checks.storage ? 'nok' : 'ok',
      doc_engine: checks.search ? 'nok' : 'ok',
      checks,
    });
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  }
}
