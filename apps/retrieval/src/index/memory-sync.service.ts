import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { feedHead, readFeed, settledFeedHead, statement, type FeedPage, type HotReads } from '@ragnest/db';
import { MemorySearchIndex, type IndexedChunk, type SearchIndex } from '@ragnest/search';
import { InjectConfig, InjectHotReads, settleWithin } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { getLogger } from '@ragnest/logger';
import { SEARCH_INDEX } from '../search-index.provider.js';
import { titleTokens, toIndexedChunk, type ChunkIndexRow } from './indexed-chunk.js';

const PAGE = 2_000;
/** A replica that could not follow the feed for this long may have missed pruned removals: reload. */
const RELOAD_AFTER_MS = 30 * 60_000;
/** Shutdown waits this long at most for a feed poll in progress. */
const SHUTDOWN_WAIT_MS = 5_000;

/**
 * A chunk row with what its index entry needs: the document's name (title tokens, and hits carry it) and
 * its status (a disabled document's chunks are hidden). Renaming, disabling or enabling a document
 * re-stamps its chunks on the feed (restampDocument), so replicas re-read them from here.
 *
 * Read as prepared statements on the HotReads pool (pg), not through Prisma's raw queries: these rows carry a
 * vector and the content tokens, and Prisma's layers cost 41-56 µs of CPU per row against pg's 20 (measured on
 * 128-row pages of 1.5 KB vectors), paid for every chunk at start-up and for every chunk ingested.
 */
const LOAD_COLUMNS = `
  SELECT c.id, c.tenant_id AS "tenantId", c.dataset_id AS "datasetId", c.document_id AS "documentId",
         c.content_tokens AS "contentTokens", c.important_keywords AS "importantKeywords", c.questions,
         (c.available AND d.status = '1') AS available, v.vector, d.name AS "documentName"
  FROM chunk c JOIN document d ON d.id = c.document_id JOIN chunk_vector v ON v.chunk_id = c.id`;
/** $1 the last id of the previous page ('' first), $2 the page size */
const LOAD_PAGE = statement('index_load_page', `${LOAD_COLUMNS} WHERE c.indexed AND c.id > $1 ORDER BY c.id LIMIT $2`, { planEachTime: true });
/** $1 the ids a feed page stamped indexed */
const LOAD_IDS = statement('index_load_ids', `${LOAD_COLUMNS} WHERE c.id = ANY($1::text[]) AND c.indexed`, { planEachTime: true });

type LoadRow = ChunkIndexRow;

/**
 * Keeps this replica's in-memory index equal to Postgres: a full load at start, then the index change
 * feed (packages/db index-feed) in order, on a timer and — before any search that needs a newer state —
 * on demand, so a write acknowledged anywhere is visible to the next search on every replica.
 */
@Injectable()
export class MemoryIndexSync implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private applied = 0n;
  private ready: Promise<void> | null = null;
  private loaded = false;
  /** a full reload is being built aside: searches keep using the loaded rows meanwhile */
  private reloading = false;
  private draining: Promise<void> | null = null;
  /** the timer's poll in progress, awaited at shutdown */
  private polling: Promise<void> | null = null;
  private lastSyncAt = Date.now();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @InjectHotReads() private readonly hot: HotReads,
    @Inject(SEARCH_INDEX) private readonly index: SearchIndex,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * The feed position this replica's index has applied, once its first load is done (what a search run now
   * reflects at least); undefined when the index does not follow the feed.
   */
  async appliedPosition(): Promise<bigint | undefined> {
    if (!this.active) return undefined;
    if (!this.loaded && this.ready) await this.ready;
    return this.applied;
  }

  get active(): boolean {
    return this.index instanceof MemorySearchIndex && this.index.followsFeed;
  }

  private get memory(): MemorySearchIndex {
    return this.index as MemorySearchIndex;
  }

  /**
   * Starts the load without holding up the process (its /health and /metrics answer meanwhile); searches
   * wait for it, and health() reports the replica as not ready until it is done.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.active) return;
    this.ready = this.loadUntilDone();
    const tick = () => {
      if (this.stopped) return;
      void this.poll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.config.search.syncIntervalMs);
      });
    };
    this.timer = setTimeout(tick, this.config.search.syncIntervalMs);
  }

  /**
   * Before the database pools close (their own shutdown hooks): no new poll, and the one in progress ends first
   * (SHUTDOWN_WAIT_MS at most) instead of failing on a closed pool with a warning. A first load still running
   * is not waited for: it can take tens of seconds, and nothing of it is kept anyway.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.polling) await settleWithin(this.polling, SHUTDOWN_WAIT_MS);
  }

  /** Whether this replica can serve: its index is loaded (or it does not follow the feed). */
  async health(): Promise<void> {
    await this.index.health();
    if (this.active && !this.loaded) throw new Error('loading the in-memory search index from Postgres');
  }

  /** For tests and callers that need the loaded state. */
  async whenLoaded(): Promise<void> {
    if (this.ready) await this.ready;
  }

  private async loadUntilDone(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.load();
        this.loaded = true;
        return;
      } catch (err) {
        getLogger().warn({ err: String(err), attempt }, 'could not load the in-memory search index; retrying');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * attempt)));
      }
    }
  }

  /**
   * Resolves once every index change up to `head` (a feed position read by the caller) is applied.
   * Without a head, it catches up with whatever the feed holds now.
   */
  async ensure(head?: bigint): Promise<void> {
    if (!this.active) return;
    if (!this.loaded && this.ready) await this.ready;
    // a replica that lost the feed for long is rebuilding its index aside: until the swap, it serves what it has
    if (this.reloading) return;
    const target = head ?? (await feedHead(this.hot));
    try {
      while (this.applied < target) await this.drain();
    } catch (err) {
      // Postgres trouble: answer from what is loaded rather than fail the query (the API drops hits whose
      // rows are gone when it reads their content); the timer keeps trying
      getLogger().warn({ err: String(err), applied: String(this.applied), target: String(target) }, 'index feed catch-up failed; searching the loaded state');
    }
  }

  private poll(): Promise<void> {
    const run = this.pollOnce().finally(() => {
      if (this.polling === run) this.polling = null;
    });
    this.polling = run;
    return run;
  }

  private async pollOnce(): Promise<void> {
    // Until the first load is done there is nothing to follow: the load takes the feed's head first and catches
    // up from there. A poll meanwhile would have drained the whole feed from position 0 into the index being
    // replaced, beside the load (twice the CPU at start), and still been running once the load was swapped in,
    // holding the first queries until it had re-applied every chunk (~10 s at 100k chunks).
    if (!this.loaded) return;
    try {
      if (Date.now() - this.lastSyncAt > RELOAD_AFTER_MS) {
        getLogger().warn('index feed not followed for too long: reloading the in-memory index from Postgres');
        await this.reload();
        return;
      }
      await this.drain();
    } catch (err) {
      getLogger().warn({ err: String(err) }, 'index feed poll failed');
    }
  }

  /**
   * Rebuilds the whole index from Postgres beside the one being served and swaps it in: for a replica that
   * may have missed pruned removals. Searches are answered from the old rows until the swap.
   */
  async reload(): Promise<void> {
    if (!this.active || this.reloading) return;
    this.reloading = true;
    try {
      await this.load();
      this.loaded = true;
    } finally {
      this.reloading = false;
    }
  }

  /** One drain at a time; concurrent callers share it; none while a reload owns the feed position. */
  private drain(): Promise<void> {
    if (this.reloading) return Promise.resolve();
    this.draining ??= this.drainAll().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drainAll(): Promise<void> {
    for (;;) {
      const page = await readFeed(this.hot, this.applied, PAGE);
      await this.apply(page);
      this.applied = page.head;
      this.lastSyncAt = Date.now();
      if (page.chunks.length < PAGE) return;
    }
  }

  /**
   * Full load into a fresh index, swapped in at the end (the first load swaps it for an empty one), then
   * the feed from the position read before the load began.
   */
  private async load(): Promise<void> {
    const started = Date.now();
    if (this.draining) await this.draining.catch(() => undefined);
    // the position first: changes during the load are re-applied from the feed (applying is idempotent)
    const head = await settledFeedHead(this.hot);
    const fresh = this.memory.emptyCopy();
    let after = '';
    let n = 0;
    for (;;) {
      const rows = await this.hot.rows<LoadRow>(LOAD_PAGE, [after, PAGE]);
      if (!rows.length) break;
      fresh.upsertSync(this.entries(rows));
      n += rows.length;
      after = rows[rows.length - 1]!.id;
    }
    this.memory.replaceWith(fresh);
    this.applied = head;
    this.lastSyncAt = Date.now();
    await this.drainAll();
    getLogger().info({ chunks: n, ms: Date.now() - started }, 'in-memory search index loaded from Postgres');
  }

  private entries(rows: LoadRow[]): IndexedChunk[] {
    const titles = new Map<string, string>();
    return rows.map((r) => {
      let t = titles.get(r.documentId);
      if (t === undefined) {
        t = titleTokens(r.documentName);
        titles.set(r.documentId, t);
      }
      return toIndexedChunk(r, t);
    });
  }

  /** Applies one page in feed order: removals and chunk states interleave by position. */
  private async apply(page: FeedPage): Promise<void> {
    if (!page.chunks.length && !page.removals.length) return;
    const wanted = page.chunks.filter((c) => c.indexed).map((c) => c.id);
    const rows = wanted.length ? await this.hot.rows<LoadRow>(LOAD_IDS, [wanted]) : [];
    const entries = new Map(this.entries(rows).map((e) => [e.id, e]));
    const m = this.memory;
    let batch: IndexedChunk[] = [];
    const flush = () => {
      if (batch.length) m.upsertSync(batch);
      batch = [];
    };
    let r = 0;
    for (const c of page.chunks) {
      while (r < page.removals.length && page.removals[r]!.seq < c.seq) {
        flush();
        this.remove(page.removals[r++]!);
      }
      const e = c.indexed ? entries.get(c.id) : undefined;
      if (e) batch.push(e);
      else {
        // cleared, or changed again since this page was read (a later position will bring it back)
        flush();
        m.deleteIdsSync(c.tenantId, [c.id]);
      }
    }
    flush();
    while (r < page.removals.length) this.remove(page.removals[r++]!);
  }

  private remove(r: FeedPage['removals'][number]): void {
    const m = this.memory;
    if (r.datasetId) m.deleteDatasetSync(r.tenantId, r.datasetId);
    if (r.documentId) m.deleteDocumentSync(r.tenantId, r.documentId);
    if (r.chunkIds?.length) m.deleteIdsSync(r.tenantId, r.chunkIds);
  }
}
