import { Injectable } from '@nestjs/common';
import { DATASET_SCOPE, HIT_ROWS, statement, type HotReads, type PrismaClient } from '@ragnest/db';
import { DomainError, dataError, type SearchHitRow } from '@ragnest/contracts';
import { InjectDb, InjectHotReads } from '@ragnest/runtime';
import { RetrievalGateway } from './retrieval.gateway.js';
import { highlight } from '../chunks/chunk.view.js';

/** Words of the question worth marking in a highlight (RAGFlow wraps query keywords in <em>). */
function queryWords(question: string): string[] {
  return question.split(/[\s,.;:!?，。；：！？、()（）"'“”]+/).filter((w) => w.length >= 2);
}

const SCOPE_DOCS = statement('retrieval_scope_docs', 'SELECT id FROM document WHERE id = ANY($1::text[]) AND dataset_id = ANY($2::text[])');
export interface RetrieveInput {
  tenantId: string;
  datasetIds: string[];
  documentIds: string[];
  question: string;
  page: number;
  pageSize: number;
  similarityThreshold: number;
  vectorSimilarityWeight: number;
  topK: number;
  highlight: boolean;
  /** the datasets' scope when the caller read it with datasets it knows the tenant owns: no ownership query */
  owned?: OwnedScope;
  /**
   * A speculative call (a chat turn's retrieval started while its chat row loads), with the embedding model the
   * caller expects the datasets to have: no ownership query and no feed head. The retrieval service searches
   * the tenant's chunks in what its index holds, says at which feed position (retrieveAt) and sends the hits'
   * rows with them; the caller verifies the datasets, the model and that position before it uses the result.
   */
  unverified?: { embeddingModel: string };
}

/** What checkScope reads about datasets the tenant owns: their embedding models and the index feed position. */
export interface OwnedScope {
  embeddingModels: string[];
  feedHead: string;
}

/** `POST /api/v1/retrieval` (§6.1): checks ownership here, ranks in the retrieval service, formats here. */
@Injectable()
export class RetrievalService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectHotReads() private readonly hot: HotReads,
    private readonly gateway: RetrievalGateway,
  ) {}

  /**
   * Checks that the tenant owns the datasets (and they the documents); returns their embedding model and
   * the index feed position read with them, which the retrieval service then need not read again.
   */
  async checkScope(tenantId: string, datasetIds: string[], documentIds: string[]): Promise<{ embeddingModel: string; feedHead: string }> {
    const datasets = await this.hot.rows<{ id: string; embedding_model: string; head: string }>(DATASET_SCOPE, [datasetIds, tenantId]);
    const owned = new Set(datasets.map((d) => d.id));
    const notOwned = datasetIds.find((id) => !owned.has(id));
    if (notOwned) throw dataError(`You don't own the dataset ${notOwned}.`);
    return this.checkedScope({ embeddingModels: datasets.map((d) => d.embedding_model), feedHead: String(datasets[0]!.head) }, datasetIds, documentIds);
  }

  /** checkScope's remainder for datasets already known to be the tenant's (read with them: OwnedScope). */
  private async checkedScope(scope: OwnedScope, datasetIds: string[], documentIds: string[]): Promise<{ embeddingModel: string; feedHead: string }> {
    if (new Set(scope.embeddingModels).size > 1) throw dataError('Datasets use different embedding models."');
    if (documentIds.length) {
      const docs = await this.hot.rows<{ id: string }>(SCOPE_DOCS, [documentIds, datasetIds]);
      const have = new Set(docs.map((d) => d.id));
      const stray = documentIds.find((id) => !have.has(id));
      if (stray) throw dataError(`The datasets don't own the document ${stray}`);
    }
    return { embeddingModel: scope.embeddingModels[0]!, feedHead: scope.feedHead };
  }

  async retrieve(input: RetrieveInput) {
    return (await this.retrieveAt(input)).kb;
  }

  /**
   * retrieve(), and for an `unverified` call the index feed position the search reflected at least (absent when
   * the index does not follow the feed: its candidates are checked against Postgres).
   */
  async retrieveAt(input: RetrieveInput) {
    const scope = input.owned
      ? await this.checkedScope(input.owned, input.datasetIds, input.documentIds)
      : input.unverified
        ? { embeddingModel: input.unverified.embeddingModel }
        : await this.checkScope(input.tenantId, input.datasetIds, input.documentIds);
    const res = await this.gateway.search({
      ...scope,
      tenantId: input.tenantId,
      datasetIds: input.datasetIds,
      documentIds: input.documentIds,
      question: input.question,
      page: input.page,
      pageSize: input.pageSize,
      similarityThreshold: input.similarityThreshold,
      vectorSimilarityWeight: input.vectorSimilarityWeight,
      topK: input.topK,
      highlight: input.highlight,
      withRows: input.unverified !== undefined,
    });
    const ids = res.hits.map((h) => h.chunkId);
    // document names come with the hits (the retrieval service has them)
    const rows = res.rows ?? (ids.length ? await this.hot.rows<SearchHitRow>(HIT_ROWS, [ids]) : []);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const parents = new Set<string>();
    const chunks = res.hits.flatMap((h) => {
      const c = byId.get(h.chunkId);
      if (!c) return []; // deleted between ranking and now
      if (c.momId) {
        // several children of one parent: the best-ranked one stands for it
        if (parents.has(c.momId)) return [];
        parents.add(c.momId);
      }
      const name = h.documentName;
      return [
        {
          id: c.id,
          content: c.content,
          content_ltks: c.contentTokens,
          document_id: h.documentId,
          document_keyword: name,
          document_name: name,
          dataset_id: c.datasetId,
          kb_id: c.datasetId,
          important_keywords: c.importantKeywords,
          questions: c.questions,
          image_id: c.imageId,
          similarity: h.similarity,
          vector_similarity: h.vectorSimilarity,
          term_similarity: h.termSimilarity,
          positions: c.positions,
          doc_type_kwd: c.docType,
          mom_id: c.momId,
          ...(input.highlight ? { highlight: highlight(c.content, queryWords(input.question)) } : {}),
        },
      ];
    });
    const docAggs = res.docAggs.map((d) => ({ doc_name: d.documentName, doc_id: d.documentId, count: d.count }));
    return { kb: { total: res.total, chunks, doc_aggs: docAggs }, position: res.position };
  }

  /** Dify's external-knowledge API (§6.2). */
  async dify(tenantId: string, knowledgeId: string, query: string, topK: number, scoreThreshold: number) {
    const ds = await this.db.dataset.findFirst({ where: { id: knowledgeId, tenantId }, select: { id: true } });
    if (!ds) throw new DomainError(404, 'Knowledgebase not found!', undefined, 404);
    if (!query.trim()) return { records: [] };
    const res = await this.retrieve({
      tenantId,
      datasetIds: [knowledgeId],
      documentIds: [],
      question: query,
      page: 1,
      pageSize: Math.min(Math.max(topK, 1), 1024),
      similarityThreshold: scoreThreshold,
      vectorSimilarityWeight: 0.3,
      topK: 1024,
      highlight: false,
    });
    const metas = new Map(
      (await this.db.document.findMany({ where: { id: { in: res.chunks.map((c) => c.document_id) } }, select: { id: true, metaFields: true } })).map((d) => [
        d.id,
        d.metaFields as Record<string, unknown>,
      ]),
    );
    return {
      records: res.chunks.map((c) => ({
        content: c.content,
        score: c.similarity,
        title: c.document_keyword,
        metadata: { ...(metas.get(c.document_id) ?? {}), doc_id: c.document_id, document_id: c.document_id },
      })),
    };
  }
}

