export { PrismaClient, Prisma } from './generated/prisma/client.js';
export type * from './generated/prisma/models.js';
