-- AlterTable
ALTER TABLE "chunk" ADD COLUMN     "index_seq" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "index_tombstone" (
    "seq" BIGINT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "dataset_id" TEXT,
    "document_id" TEXT,
    "chunk_ids" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "index_tombstone_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "index_tombstone_created_at_idx" ON "index_tombstone"("created_at");

-- CreateIndex
CREATE INDEX "chunk_index_seq_idx" ON "chunk"("index_seq");

-- The index change feed's sequence (not modelled by Prisma). nextval() is only called while holding the
-- feed's advisory lock, so sequence order is commit order (see packages/db/src/index-feed.ts).
CREATE SEQUENCE "index_change_seq";
