-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "tenant" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "llm_id" TEXT NOT NULL DEFAULT '',
    "embd_id" TEXT NOT NULL DEFAULT '',
    "img2txt_id" TEXT NOT NULL DEFAULT '',
    "asr_id" TEXT NOT NULL DEFAULT '',
    "rerank_id" TEXT NOT NULL DEFAULT '',
    "tts_id" TEXT NOT NULL DEFAULT '',
    "parser_ids" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tenant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "user" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "nickname" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "user_session" (
    "token" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "user_session_pkey" PRIMARY KEY ("token")
);

-- CreateTable
CREATE TABLE "api_token" (
    "token" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT,
    "beta" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("token")
);

-- CreateTable
CREATE TABLE "tenant_llm" (
    "tenant_id" TEXT NOT NULL,
    "llm_factory" TEXT NOT NULL,
    "api_key" TEXT NOT NULL DEFAULT '',
    "api_base" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tenant_llm_pkey" PRIMARY KEY ("tenant_id","llm_factory")
);

-- CreateTable
CREATE TABLE "dataset" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "name_key" TEXT NOT NULL,
    "avatar" TEXT,
    "language" TEXT NOT NULL DEFAULT 'English',
    "description" TEXT,
    "embedding_model" TEXT NOT NULL,
    "permission" TEXT NOT NULL DEFAULT 'me',
    "created_by" TEXT NOT NULL,
    "chunk_method" TEXT NOT NULL DEFAULT 'naive',
    "pipeline_id" TEXT,
    "parser_config" JSONB NOT NULL,
    "pagerank" INTEGER NOT NULL DEFAULT 0,
    "similarity_threshold" DOUBLE PRECISION NOT NULL DEFAULT 0.2,
    "vector_similarity_weight" DOUBLE PRECISION NOT NULL DEFAULT 0.3,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "document" (
    "id" TEXT NOT NULL,
    "dataset_id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "location" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "suffix" TEXT NOT NULL,
    "mime_type" TEXT NOT NULL,
    "chunk_method" TEXT NOT NULL,
    "parser_config" JSONB NOT NULL,
    "source_type" TEXT NOT NULL DEFAULT 'local',
    "created_by" TEXT NOT NULL,
    "thumbnail" TEXT,
    "run" TEXT NOT NULL DEFAULT 'UNSTART',
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "progress_msg" TEXT NOT NULL DEFAULT '',
    "process_begin_at" TIMESTAMPTZ(3),
    "process_duration" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL DEFAULT '1',
    "meta_fields" JSONB NOT NULL DEFAULT '{}',
    "chunk_count" INTEGER NOT NULL DEFAULT 0,
    "token_count" INTEGER NOT NULL DEFAULT 0,
    "generation" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "document_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "parse_task" (
    "id" TEXT NOT NULL,
    "document_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "from_page" INTEGER NOT NULL DEFAULT 0,
    "to_page" INTEGER NOT NULL DEFAULT 100000000,
    "state" TEXT NOT NULL DEFAULT 'QUEUED',
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "progress_msg" TEXT NOT NULL DEFAULT '',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "chunk_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "parse_task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chunk" (
    "id" TEXT NOT NULL,
    "document_id" TEXT NOT NULL,
    "dataset_id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "task_id" TEXT,
    "ord" INTEGER NOT NULL,
    "content" TEXT NOT NULL,
    "content_tokens" TEXT NOT NULL,
    "important_keywords" TEXT[],
    "questions" TEXT[],
    "token_count" INTEGER NOT NULL,
    "positions" JSONB NOT NULL DEFAULT '[]',
    "available" BOOLEAN NOT NULL DEFAULT true,
    "doc_type" TEXT NOT NULL DEFAULT '',
    "image_id" TEXT NOT NULL DEFAULT '',
    "vector" BYTEA,
    "embedding_model" TEXT,
    "indexed" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "chunk_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_email_key" ON "user"("email");

-- CreateIndex
CREATE INDEX "user_session_user_id_idx" ON "user_session"("user_id");

-- CreateIndex
CREATE INDEX "api_token_tenant_id_idx" ON "api_token"("tenant_id");

-- CreateIndex
CREATE INDEX "dataset_tenant_id_created_at_idx" ON "dataset"("tenant_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "dataset_tenant_id_name_key_key" ON "dataset"("tenant_id", "name_key");

-- CreateIndex
CREATE INDEX "document_dataset_id_created_at_idx" ON "document"("dataset_id", "created_at");

-- CreateIndex
CREATE INDEX "document_run_idx" ON "document"("run");

-- CreateIndex
CREATE UNIQUE INDEX "document_dataset_id_name_key" ON "document"("dataset_id", "name");

-- CreateIndex
CREATE INDEX "parse_task_document_id_generation_idx" ON "parse_task"("document_id", "generation");

-- CreateIndex
CREATE INDEX "parse_task_state_idx" ON "parse_task"("state");

-- CreateIndex
CREATE INDEX "chunk_document_id_ord_idx" ON "chunk"("document_id", "ord");

-- CreateIndex
CREATE INDEX "chunk_dataset_id_idx" ON "chunk"("dataset_id");

-- CreateIndex
CREATE INDEX "chunk_document_id_indexed_idx" ON "chunk"("document_id", "indexed");

-- AddForeignKey
ALTER TABLE "user" ADD CONSTRAINT "user_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "user_session" ADD CONSTRAINT "user_session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tenant_llm" ADD CONSTRAINT "tenant_llm_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset" ADD CONSTRAINT "dataset_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "document" ADD CONSTRAINT "document_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "parse_task" ADD CONSTRAINT "parse_task_document_id_fkey" FOREIGN KEY ("document_id") REFERENCES "document"("id") ON DELETE CASCADE ON UPDATE CASCADE;
