-- AlterTable
ALTER TABLE "tenant_llm" ADD COLUMN     "chat_models" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "chat" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT 'A helpful Assistant',
    "avatar" TEXT NOT NULL DEFAULT '',
    "language" TEXT NOT NULL DEFAULT 'English',
    "llm_id" TEXT NOT NULL DEFAULT '',
    "llm_setting" JSONB NOT NULL,
    "prompt_config" JSONB NOT NULL,
    "prompt_type" TEXT NOT NULL DEFAULT 'simple',
    "kb_ids" TEXT[],
    "top_n" INTEGER NOT NULL DEFAULT 6,
    "top_k" INTEGER NOT NULL DEFAULT 1024,
    "similarity_threshold" DOUBLE PRECISION NOT NULL DEFAULT 0.2,
    "vector_similarity_weight" DOUBLE PRECISION NOT NULL DEFAULT 0.3,
    "rerank_id" TEXT NOT NULL DEFAULT '',
    "do_refer" TEXT NOT NULL DEFAULT '1',
    "meta_data_filter" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "chat_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chat_session" (
    "id" TEXT NOT NULL,
    "chat_id" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT 'New session',
    "user_id" TEXT NOT NULL DEFAULT '',
    "messages" JSONB NOT NULL DEFAULT '[]',
    "reference" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "chat_session_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "chat_tenant_id_created_at_idx" ON "chat"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "chat_session_chat_id_created_at_idx" ON "chat_session"("chat_id", "created_at");

-- AddForeignKey
ALTER TABLE "chat" ADD CONSTRAINT "chat_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chat_session" ADD CONSTRAINT "chat_session_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "chat"("id") ON DELETE CASCADE ON UPDATE CASCADE;
