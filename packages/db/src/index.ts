export { PrismaClient, Prisma } from './generated/prisma/client.js';
export type * from './generated/prisma/models.js';
export { createPrisma, pingPostgres, type Db } from './client.js';
export { newId, isUuid1Hex, chunkIdFor, newApiKey, newBetaToken } from './ids.js';
export { reportProgress, tryFinishDocument, failDocument, documentLockKey } from './lifecycle.js';
