import { Injectable } from '@nestjs/common';
import type { AgentReference, AgentRetrieval } from '@ragnest/agent';
import { RetrievalService } from '../../retrieval/retrieval.service.js';
import { formatChunk } from '../../completions/answer.service.js';

/** The runtime's Retrieval component searches through the API's retrieval service (ownership checks included). */
@Injectable()
export class AgentRetrievalAdapter {
  constructor(private readonly retrieval: RetrievalService) {}

  forTenant(tenantId: string): AgentRetrieval {
    return {
      retrieve: async (q, signal): Promise<AgentReference> => {
        const res = await this.retrieval.retrieve({
          tenantId,
          datasetIds: q.datasetIds,
          documentIds: [],
          question: q.question,
          page: 1,
          pageSize: q.topN,
          similarityThreshold: q.similarityThreshold,
          vectorSimilarityWeight: q.vectorSimilarityWeight,
          topK: q.topK,
          highlight: false,
        });
        signal.throwIfAborted();
        return {
          total: res.chunks.length,
          chunks: res.chunks.map(formatChunk),
          doc_aggs: res.doc_aggs.filter((d) => res.chunks.some((c) => c.document_id === d.doc_id)),
        };
      },
    };
  }
}
