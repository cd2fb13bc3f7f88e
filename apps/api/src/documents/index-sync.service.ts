import { Injectable } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { JobNames, RpcPatterns } from '@ragnest/contracts';
import { getLogger } from '@ragnest/logger';
import { QueueProducer, RedisListClient } from '@ragnest/runtime';
import { chunkImageKey, documentImagesPrefix, type ObjectStorage } from '@ragnest/storage';
import { InjectConfig, InjectStorage } from '@ragnest/runtime';

/**
 * Keeps derived stores in step after Postgres (the truth) has changed: index deletions go through the
 * index queue (retried until the retrieval service has applied them), stored objects are removed.
 * Search results are always re-read from Postgres, so a deletion is visible to clients at once even
 * while the index entry is still waiting to be removed.
 */
@Injectable()
export class IndexSync {
  constructor(
    private readonly producer: QueueProducer,
    private readonly rpc: RedisListClient,
    @InjectStorage() private readonly storage: ObjectStorage,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * A document's name or status changed and its chunks were re-stamped on the index feed. The in-memory
   * engine's replicas follow the feed on their own; any other index is rewritten through the index queue
   * (searches check it against Postgres meanwhile).
   */
  async afterDocumentChanged(documentId: string, generation: number, chunkIds: string[]): Promise<void> {
    if (this.config.search.followsFeed || !chunkIds.length) return;
    try {
      await this.producer.enqueueIndexChunks(documentId, generation, chunkIds);
    } catch (err) {
      getLogger().warn({ documentId, err: String(err) }, 'could not enqueue re-indexing of a changed document');
    }
  }

  async afterDatasetDeleted(tenantId: string, datasetId: string): Promise<void> {
    await this.enqueueDelete({ tenantId, datasetId });
    await this.storage.deletePrefix(`${datasetId}/`).catch((err: unknown) =>
      getLogger().warn({ datasetId, err: String(err) }, 'could not delete stored objects of a dataset'),
    );
  }

  async afterDocumentsDeleted(tenantId: string, documents: { id: string; location: string }[], datasetId?: string): Promise<void> {
    if (documents.length === 0) return;
    await this.enqueueDelete({ tenantId, documentIds: documents.map((d) => d.id) });
    for (const d of documents) {
      await this.storage.delete(d.location).catch((err: unknown) =>
        getLogger().warn({ documentId: d.id, err: String(err) }, 'could not delete a stored document'),
      );
    }
    if (datasetId) await this.deleteDocumentImages(datasetId, documents.map((d) => d.id));
  }

  /** Chunks of documents whose content is being replaced (re-parse, stop, method change); their pictures go too. */
  async afterChunksCleared(tenantId: string, documentIds: string[], datasetId?: string): Promise<void> {
    if (documentIds.length) await this.enqueueDelete({ tenantId, documentIds });
    if (datasetId) await this.deleteDocumentImages(datasetId, documentIds);
  }

  /** Pictures of deleted chunks (the rows are already gone, so nothing can list or serve them). */
  async afterChunkImagesDeleted(chunks: { id: string; datasetId: string; documentId: string; generation: number }[]): Promise<void> {
    for (const c of chunks) {
      await this.storage.delete(chunkImageKey(c.datasetId, c.documentId, c.generation, c.id)).catch((err: unknown) =>
        getLogger().warn({ chunkId: c.id, err: String(err) }, 'could not delete a chunk picture'),
      );
    }
  }

  private async deleteDocumentImages(datasetId: string, documentIds: string[]): Promise<void> {
    for (const id of documentIds) {
      await this.storage.deletePrefix(documentImagesPrefix(datasetId, id)).catch((err: unknown) =>
        getLogger().warn({ documentId: id, err: String(err) }, 'could not delete the pictures of a document'),
      );
    }
  }

  async afterChunksDeleted(tenantId: string, chunkIds: string[]): Promise<void> {
    if (chunkIds.length) await this.enqueueDelete({ tenantId, chunkIds });
  }

  /** Embeds (if needed) and indexes chunks before returning: added/edited chunks are searchable at once. */
  async indexNow(chunkIds: string[]): Promise<void> {
    await this.rpc.call(RpcPatterns.indexChunksNow, { chunkIds });
  }

  private async enqueueDelete(p: { tenantId: string; datasetId?: string; documentIds?: string[]; chunkIds?: string[] }): Promise<void> {
    try {
      await this.producer.enqueue(JobNames.deleteFromIndex, p);
    } catch (err) {
      // Postgres is already right and search results are filtered through it; the reconciler's index
      // sweep removes what is left behind.
      getLogger().warn({ ...p, err: String(err) }, 'could not enqueue an index deletion');
    }
  }
}
