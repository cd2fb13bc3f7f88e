import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { pruneIndexRemovals, type PrismaClient } from '@ragnest/db';
import type { SearchIndex } from '@ragnest/search';
import { EmbeddingRegistry } from '@ragnest/embedding';
import { InjectConfig, InjectDb } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { getLogger } from '@ragnest/logger';
import { SEARCH_INDEX } from '../search-index.provider.js';
import { IndexDimensions } from './index-dimensions.service.js';

const OPTIMIZE_LOCK = 724_311_002;
/** how often the index is compared with Postgres for datasets it has lost */
const LOST_INDEX_CHECK_MS = 10 * 60_000;
/** index feed removals are kept this long (MemoryIndexSync reloads a replica that fell further behind) */
const FEED_REMOVALS_KEPT_MS = 60 * 60_000;

/**
 * Keeps the index healthy: builds/compacts its indexes in the background (one replica at a time), and
 * notices an index that lost its data (wiped DATA_DIR, new Elasticsearch cluster): Postgres still has
 * every chunk and vector, so the chunks are marked un-indexed and the reconciler re-queues them.
 */
@Injectable()
export class IndexMaintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @Inject(SEARCH_INDEX) private readonly index: SearchIndex,
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: EmbeddingRegistry,
    private readonly dims: IndexDimensions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const model of this.registry.modelIds()) {
      try {
        await this.dims.ensure(await this.registry.get(model).dimension());
      } catch (err) {
        getLogger().warn({ model, err: String(err) }, 'could not prepare the index for a model yet');
      }
    }
    await this.detectLostIndex().catch((err: unknown) => getLogger().warn({ err: String(err) }, 'index check failed'));
    let lastCheck = Date.now();
    const tick = () => {
      if (Date.now() - lastCheck > LOST_INDEX_CHECK_MS) {
        lastCheck = Date.now();
        void this.detectLostIndex().catch((err: unknown) => getLogger().warn({ err: String(err) }, 'index check failed'));
      }
      if (this.stopped) return;
      void this.optimize().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.config.indexOptimizeIntervalMs);
      });
    };
    this.timer = setTimeout(tick, this.config.indexOptimizeIntervalMs);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async optimize(): Promise<void> {
    try {
      const [got] = await this.db.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${OPTIMIZE_LOCK}) AS ok`;
      if (!got?.ok) return;
      try {
        await this.index.optimize();
        await pruneIndexRemovals(this.db, FEED_REMOVALS_KEPT_MS);
      } finally {
        await this.db.$queryRaw`SELECT pg_advisory_unlock(${OPTIMIZE_LOCK})`;
      }
    } catch (err) {
      getLogger().warn({ err: String(err) }, 'index optimize failed');
    }
  }

  private async detectLostIndex(): Promise<void> {
    // an index that follows the feed is loaded from Postgres by construction: it cannot lose anything
    if (this.index.followsFeed) return;
    const tenants = await this.db.$queryRaw<{ tenant_id: string; dataset_id: string; n: number }[]>`
      SELECT tenant_id, dataset_id, count(*)::int AS n FROM chunk WHERE indexed GROUP BY tenant_id, dataset_id`;
    for (const t of tenants) {
      const inIndex = await this.index.count({ tenantId: t.tenant_id, datasetIds: [t.dataset_id] });
      if (inIndex === 0 && t.n > 0) {
        const { count } = await this.db.chunk.updateMany({ where: { indexed: true, datasetId: t.dataset_id }, data: { indexed: false } });
        getLogger().warn({ datasetId: t.dataset_id, chunks: count }, 'search index has lost a dataset: re-indexing it from Postgres');
      }
    }
  }
}
