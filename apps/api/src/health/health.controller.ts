import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { pingPostgres, type PrismaClient } from '@ragnest/db';
import { InjectConfig, apiMetrics, pingRedis, registry, runHealthChecks } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import type { ObjectStorage } from '@ragnest/storage';
import { InjectDb, InjectStorage } from '@ragnest/runtime';
import { RetrievalGateway } from '../retrieval/retrieval.gateway.js';

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
    const checks = await runHealthChecks({
      postgres: () => pingPostgres(this.db),
      redis: () => pingRedis(this.config.redis.url),
      storage: () => this.storage.health(),
      // the retrieval service answers only after checking its search engine
      search: () => this.retrieval.ping(),
    });
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
    // with API_WORKERS > 1, every worker's metrics, aggregated by the api's primary process
    res.setHeader('Content-Type', registry.contentType);
    res.send(await apiMetrics());
  }
}
