export { PrismaClient, Prisma } from './generated/prisma/client.js';
export type { Tenant, User, UserSession, ApiToken, TenantLlm, Dataset, Document, ParseTask, Chunk, ChunkVector, Agent, AgentSession, Chat, ChatSession } from './generated/prisma/client.js';
export { createPrisma, pingPostgres, isUniqueViolation, type Db } from './client.js';
export { HotReads, statement, asSql, type Statement, type Sql, type SqlLike } from './hot-reads.js';
export { HIT_ROWS } from './hit-rows.js';
export { PUT_VECTORS, vectorsParam } from './chunk-vectors.js';
export { newId, isUuid1Hex, chunkIdFor, imageIdFor, parseImageId, newApiKey, newBetaToken } from './ids.js';
export { reportProgress, tryFinishDocument, failDocument, documentLockKey } from './lifecycle.js';
export {
  stampIndexed,
  restampDocument,
  recordIndexRemoval,
  feedHead,
  FEED_HEAD_TEXT,
  DATASET_SCOPE,
  settledFeedHead,
  readFeed,
  pruneIndexRemovals,
  type IndexRemoval,
  type FeedChunk,
  type FeedRemoval,
  type FeedPage,
} from './index-feed.js';
