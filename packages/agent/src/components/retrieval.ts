import { knowledgeBlock } from '../knowledge.js';
import { AgentRunError } from '../types.js';
import { BARE_REF, interpolateText, valueText } from '../variables.js';
import { list, num, str, type ComponentImpl } from './types.js';

/**
 * Retrieval: searches the component's datasets (`kb_ids`, which may hold references like `begin@kb`) for the
 * query (`params.query`, a reference or template; default `sys.query`). Outputs the knowledge block
 * (`formalized_content`) numbered by the run's reference, and the chunks (`json`).
 */
export const retrieval: ComponentImpl = async (c, ctx) => {
  const p = c.params;
  const rawQuery = p.query === undefined || p.query === '' ? 'sys.query' : p.query;
  let question: string;
  if (typeof rawQuery === 'string') question = BARE_REF.test(rawQuery) ? await valueText(ctx.lookup(rawQuery)) : await interpolateText(rawQuery, ctx);
  else question = ctx.input.query;
  const datasetIds: string[] = [];
  for (const id of list(p.kb_ids)) {
    if (!id.includes('@')) {
      datasetIds.push(id);
      continue;
    }
    const v = ctx.lookup(id);
    datasetIds.push(...(Array.isArray(v) ? list(v) : list(await valueText(v)).flatMap((s) => s.split(',').map((x) => x.trim()))));
  }
  if (!datasetIds.length) throw new AgentRunError(`Retrieval component "${c.id}" has no datasets (params.kb_ids is empty).`, c.id);
  const emptyResponse = str(p.empty_response);
  if (!question.trim()) return { outputs: { formalized_content: emptyResponse, json: [], ...(emptyResponse ? { empty_response: emptyResponse } : {}) } };
  const res = await ctx.deps.retrieval.retrieve(
    {
      datasetIds: [...new Set(datasetIds)],
      question,
      topN: Math.max(1, Math.floor(num(p.top_n, 8))),
      topK: Math.max(1, Math.floor(num(p.top_k, 1024))),
      similarityThreshold: num(p.similarity_threshold, 0.2),
      vectorSimilarityWeight: 1 - num(p.keywords_similarity_weight, 0.5),
    },
    ctx.signal,
  );
  const indexes = ctx.addReference(res);
  if (!res.chunks.length) {
    return { outputs: { formalized_content: emptyResponse, json: [], ...(emptyResponse ? { empty_response: emptyResponse } : {}) } };
  }
  return {
    outputs: {
      formalized_content: knowledgeBlock(res.chunks.map((chunk, i) => ({ chunk, index: indexes[i]! }))),
      json: res.chunks,
    },
  };
};
