-- Chunk embeddings move to a table of their own, written once per chunk. Setting them on the chunk row
-- rewrote the whole row (about 3.5 KB with TOAST, and an entry in each of its five indexes) and cost
-- Postgres about as much as inserting the chunk. Existing vectors are copied before the columns go.

-- CreateTable
CREATE TABLE "chunk_vector" (
    "chunk_id" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "vector" BYTEA NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chunk_vector_pkey" PRIMARY KEY ("chunk_id")
);

-- Float32 bytes do not compress: stored out of line uncompressed when a row is too big (large dimensions)
ALTER TABLE "chunk_vector" ALTER COLUMN "vector" SET STORAGE EXTERNAL;

-- CopyData
INSERT INTO "chunk_vector" ("chunk_id", "model", "vector", "updated_at")
SELECT "id", "embedding_model", "vector", "updated_at" FROM "chunk" WHERE "vector" IS NOT NULL AND "embedding_model" IS NOT NULL;

-- AddForeignKey
ALTER TABLE "chunk_vector" ADD CONSTRAINT "chunk_vector_chunk_id_fkey" FOREIGN KEY ("chunk_id") REFERENCES "chunk"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "chunk" DROP COLUMN "embedding_model",
DROP COLUMN "vector";
