-- AlterTable
ALTER TABLE "chunk" ADD COLUMN     "fields" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "mom_id" TEXT NOT NULL DEFAULT '';
