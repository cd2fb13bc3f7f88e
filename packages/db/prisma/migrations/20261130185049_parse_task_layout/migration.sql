-- AlterTable
ALTER TABLE "parse_task" ADD COLUMN     "layout" JSONB;
