import { Injectable } from '@nestjs/common';
import type { ReferenceChunk } from '@ragnest/agent';
import { dataError } from '@ragnest/contracts';
import type { Chat, PrismaClient } from '@ragnest/db';
import { extractiveAnswer, type DbChatModelResolver, type LlmMessage, type LlmUsage, type TenantModels } from '@ragnest/llm';
import { countTokens } from '@ragnest/nlp';
import { InjectDb, chatSpeculation } from '@ragnest/runtime';
import { InjectChatModels } from '../chats/chat-models.provider.js';
import { llmSettingOf, promptConfigOf } from '../chats/chat.model.js';
import type { StoredReference } from '../chats/sessions.service.js';
import { RetrievalService, type OwnedScope, type RetrieveInput } from '../retrieval/retrieval.service.js';
import { metadataWhere } from '../documents/documents.service.js';
import { CitationStream, stripMarkers, type MarkerStyle } from './citations.js';
import { ThinkSplitter, stripThink } from './think.js';
import { fitMessages, knowledgeBlocks, refineQuestionMessages, systemPrompt } from './prompt.js';

export interface AnswerInput {
  tenantId: string;
  chat: Chat;
  /** the conversation, ending with the user's question (user/assistant turns only) */
  messages: LlmMessage[];
  /** a model other than the chat's (current OpenAI dialect: a `model` other than "model") */
  modelName?: string;
  /** citations requested (the chat's show_quote and the request's flags) */
  quote: boolean;
  style: MarkerStyle;
  /** restrict retrieval to these documents (`doc_ids`) */
  documentIds?: string[];
  /** RAGFlow metadata_condition: only documents whose metadata match are searched (none match → nothing retrieved) */
  metadataCondition?: unknown;
  /** values for the system prompt's variables */
  variables: Record<string, unknown>;
  signal: AbortSignal;
  /** the chat's live datasets and the tenant's models, when the caller loaded them with the chat (findForTurn) */
  prepared?: { liveDatasetIds: string[]; scope: OwnedScope; tenantModels: TenantModels };
  /** a retrieval started before the chat was loaded (AnswerService.speculate); used only if the turn's own plan is the same */
  speculation?: Speculation;
}

/** A chat turn's retrieval, as planned from the chat's settings: everything the retrieval service is asked. */
type RetrievalPlan = Omit<RetrieveInput, 'owned' | 'unverified'>;

/** The plan of a chat's last turn, kept for the next turn's speculation: without its question, with its datasets' embedding model. */
interface KnownPlan {
  plan: Omit<RetrievalPlan, 'question'>;
  embeddingModel: string;
}

/** A retrieval started on the plan of the chat's previous turn, before this turn's chat row was read. */
export interface Speculation {
  plan: RetrievalPlan;
  embeddingModel: string;
  /** the hits, and the index feed position the search reflected (absent: an index that does not follow the feed) */
  result: Promise<{ kb: Retrieved; position?: string | undefined }>;
}

/** Most chats whose last retrieval plan is kept (an entry is a few ids and numbers). */
const PLANS_MAX = 10_000;

/** The embedding model of a scope whose datasets all use the same one. */
const singleModel = (scope: OwnedScope): string | undefined => (new Set(scope.embeddingModels).size === 1 ? scope.embeddingModels[0] : undefined);

const sameIds = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function samePlan(a: RetrievalPlan, b: RetrievalPlan): boolean {
  return (
    a.tenantId === b.tenantId &&
    a.question === b.question &&
    a.page === b.page &&
    a.pageSize === b.pageSize &&
    a.similarityThreshold === b.similarityThreshold &&
    a.vectorSimilarityWeight === b.vectorSimilarityWeight &&
    a.topK === b.topK &&
    a.highlight === b.highlight &&
    sameIds(a.datasetIds, b.datasetIds) &&
    sameIds(a.documentIds, b.documentIds)
  );
}

export type AnswerEvent =
  /** answer text, or the model's reasoning (think-mode models) */
  | { type: 'delta'; text: string; reasoning?: boolean }
  | { type: 'final'; answer: string; reference: StoredReference; prompt: string; usage: LlmUsage; createdAt: number };

type Retrieved = Awaited<ReturnType<RetrievalService['retrieve']>>;
type RetrievedChunk = Retrieved['chunks'][number];

/** RAGFlow's chunks_format: the reference chunk shape of completions and sessions. */
export function formatChunk(c: RetrievedChunk): ReferenceChunk & Record<string, unknown> {
  return {
    id: c.id,
    content: c.content,
    document_id: c.document_id,
    document_name: c.document_name,
    dataset_id: c.dataset_id,
    image_id: c.image_id,
    positions: c.positions,
    url: null,
    similarity: c.similarity,
    vector_similarity: c.vector_similarity,
    term_similarity: c.term_similarity,
    doc_type: c.doc_type_kwd,
  };
}

/** doc_aggs over the cited chunks (all retrieved ones when none was cited). */
function reference(kb: Retrieved, cited: Set<number>): StoredReference {
  const chunks = kb.chunks;
  const counted = cited.size ? [...cited].sort((a, b) => a - b).map((i) => chunks[i]!).filter(Boolean) : chunks;
  const aggs = new Map<string, { doc_name: string; doc_id: string; count: number }>();
  for (const c of counted) {
    const a = aggs.get(c.document_id) ?? { doc_name: c.document_name, doc_id: c.document_id, count: 0 };
    a.count++;
    aggs.set(c.document_id, a);
  }
  return { total: kb.total, chunks: chunks.map(formatChunk), doc_aggs: [...aggs.values()].sort((a, b) => b.count - a.count) };
}

const EMPTY: Retrieved = { total: 0, chunks: [], doc_aggs: [] };
const ms = (a: number, b: number) => `${(b - a).toFixed(1)}ms`;

/**
 * One chat turn, dialect-neutral (RAGFlow's async_chat, §4): refine the question, retrieve, answer with the
 * model (or extractively without one), cite. Yields the committed answer text as it grows, then the final
 * answer with its reference. Model errors surface as LlmError; aborting `signal` cancels the model call.
 */
@Injectable()
export class AnswerService {
  /** by tenant and chat: the retrieval plan of the chat's last turn */
  private readonly plans = new Map<string, KnownPlan>();

  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly retrieval: RetrievalService,
    @InjectChatModels() private readonly models: DbChatModelResolver,
  ) {}

  /**
   * Starts a turn's retrieval before its chat row is read, on the plan the chat's previous turn used (kept in
   * this process) with this turn's question, so loading the chat and retrieving overlap instead of queueing
   * one after the other. answer() uses the result only when the plan it makes from the freshly loaded chat is
   * the same (settings, live datasets, question not refined, no document filter); otherwise it retrieves again
   * and the speculative result is dropped. The datasets' embedding model is the one the last turn saw, and
   * the retrieval service reads nothing before it searches: it searches the index it holds and says up to which
   * feed position, and the result counts only if that position has reached the feed head read with the chat
   * (so a write acknowledged before this turn is never missed). Undefined for a chat with no plan here yet.
   */
  speculate(tenantId: string, chatId: string, question: string): Speculation | undefined {
    const known = this.plans.get(`${tenantId}\u0000${chatId}`);
    if (!known || !question.trim()) return undefined;
    const plan: RetrievalPlan = { ...known.plan, question };
    const result = this.retrieval.retrieveAt({ ...plan, unverified: { embeddingModel: known.embeddingModel } });
    // a speculation that is never awaited (the turn failed first, or its plan changed) must not reject unhandled
    result.catch(() => undefined);
    return { plan, embeddingModel: known.embeddingModel, result };
  }

  private remember(tenantId: string, chatId: string, plan: RetrievalPlan, embeddingModel: string): void {
    if (!chatId) return;
    const { question: _question, ...rest } = plan;
    const key = `${tenantId}\u0000${chatId}`;
    if (!this.plans.has(key) && this.plans.size >= PLANS_MAX) this.plans.clear();
    this.plans.set(key, { plan: rest, embeddingModel });
  }

  /** The plan's retrieval: the speculative one when it ran this very plan, else a checked call. */
  private async retrieveFor(plan: RetrievalPlan, prepared: AnswerInput['prepared'], speculation: Speculation | undefined): Promise<Retrieved> {
    // the speculative call left the dataset checks to this point: the live datasets come from the chat row just
    // read with the tenant's id, and a checked call also requires a single embedding model among them
    const usable =
      speculation !== undefined &&
      prepared !== undefined &&
      !plan.documentIds.length &&
      singleModel(prepared.scope) === speculation.embeddingModel &&
      samePlan(speculation.plan, plan);
    if (speculation && !usable) chatSpeculation.inc({ outcome: 'discarded' });
    if (usable) {
      try {
        const { kb, position } = await speculation.result;
        // the index searched had applied every change up to the head read with the chat: nothing acknowledged
        // before this turn is missing from it
        if (position === undefined || BigInt(position) >= BigInt(prepared.scope.feedHead)) {
          chatSpeculation.inc({ outcome: 'used' });
          return kb;
        }
        chatSpeculation.inc({ outcome: 'behind' });
      } catch {
        // e.g. the retrieval service was briefly unavailable: the checked call reports it if it still is
        chatSpeculation.inc({ outcome: 'failed' });
      }
    }
    return this.retrieval.retrieve({ ...plan, ...(prepared ? { owned: prepared.scope } : {}) });
  }

  async *answer(input: AnswerInput): AsyncGenerator<AnswerEvent> {
    const t0 = performance.now();
    const { chat, signal } = input;
    const pc = promptConfigOf(chat);
    const modelName = input.modelName || chat.llmId || undefined;
    const p = input.prepared;
    // independent lookups, one round trip (none when the caller loaded them with the chat)
    const [model, live] = p
      ? [this.models.resolveFrom(p.tenantModels, modelName), p.liveDatasetIds]
      : await Promise.all([
          this.models.resolve(input.tenantId, modelName),
          chat.kbIds.length
            ? this.db.dataset.findMany({ where: { id: { in: chat.kbIds }, tenantId: input.tenantId }, select: { id: true } }).then((rows) => rows.map((d) => d.id))
            : Promise.resolve([] as string[]),
        ]);
    const tModel = performance.now();
    const question = input.messages[input.messages.length - 1]?.content ?? '';
    const history = input.messages.map((m) => ({ ...m, content: m.role === 'assistant' ? stripMarkers(stripThink(m.content)) : m.content }));

    let searchQuestion = question;
    const userTurns = history.filter((m) => m.role === 'user');
    if (chat.kbIds.length && model && pc.refine_multiturn && userTurns.length > 1) {
      // the last three user turns and the answers between them
      const firstKept = history.lastIndexOf(userTurns[userTurns.length - Math.min(3, userTurns.length)]!);
      const r = await model.complete(refineQuestionMessages(history.slice(firstKept), new Date().toISOString().slice(0, 10)), { temperature: 0.1, max_tokens: 256 }, signal);
      searchQuestion = r.text.trim() || question;
    }
    const tRefine = performance.now();

    // the turn's retrieval: none without live datasets or a question, or when the metadata filter leaves no document
    let plan: RetrievalPlan | undefined;
    if (live.length && searchQuestion.trim()) {
      let documentIds = input.documentIds ?? [];
      let filteredOut = false;
      const cond = input.metadataCondition;
      if (cond !== undefined && cond !== null && !(typeof cond === 'object' && !(cond as { conditions?: unknown[] }).conditions?.length)) {
        const where = metadataWhere(typeof cond === 'string' ? cond : JSON.stringify(cond));
        const docs = await this.db.document.findMany({ where: { datasetId: { in: live }, ...where, ...(documentIds.length ? { id: { in: documentIds } } : {}) }, select: { id: true } });
        documentIds = docs.map((d) => d.id);
        filteredOut = documentIds.length === 0;
      }
      if (!filteredOut) {
        plan = {
          tenantId: input.tenantId,
          datasetIds: live,
          documentIds,
          question: searchQuestion,
          page: 1,
          pageSize: Math.max(1, chat.topN),
          similarityThreshold: chat.similarityThreshold,
          vectorSimilarityWeight: chat.vectorSimilarityWeight,
          topK: chat.topK,
          highlight: false,
        };
      }
    }
    let kb = EMPTY;
    if (plan) {
      kb = await this.retrieveFor(plan, p, input.speculation);
      // the next turn's speculation: plain turns over datasets of one embedding model only (a document filter
      // needs a checked call's checks)
      const model = p && singleModel(p.scope);
      if (!plan.documentIds.length && model) this.remember(input.tenantId, chat.id, plan, model);
    } else if (input.speculation) {
      chatSpeculation.inc({ outcome: 'discarded' });
    }
    const tRetrieval = performance.now();
    const quote = input.quote && kb.chunks.length > 0;
    const timing = (tGen: number) =>
      `\n\n### Timing\n  - Total: ${ms(t0, tGen)}\n  - Check LLM: ${ms(t0, tModel)}\n  - Query refinement: ${ms(tModel, tRefine)}\n  - Retrieval: ${ms(tRefine, tRetrieval)}\n  - Generate answer: ${ms(tRetrieval, tGen)}`;
    const done = (answer: string, cited: Set<number>, prompt: string, usage?: LlmUsage): AnswerEvent => {
      // counted only when the model reported no usage (extractive answers, empty_response)
      const estimate = (): LlmUsage => {
        const completionTokens = countTokens(answer);
        const promptTokens = countTokens(prompt) + countTokens(question);
        return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
      };
      return {
        type: 'final',
        answer,
        reference: quote ? reference(kb, cited) : { total: 0, chunks: [], doc_aggs: [] },
        prompt: prompt + timing(performance.now()),
        usage: usage ?? estimate(),
        createdAt: Date.now() / 1000,
      };
    };

    if (chat.kbIds.length && !kb.chunks.length && pc.empty_response) {
      yield { type: 'delta', text: pc.empty_response };
      yield done(pc.empty_response, new Set(), '');
      return;
    }

    if (!model) {
      if (!chat.kbIds.length) {
        throw dataError('No chat model is configured: set one with /v1/llm/set_api_key and /v1/user/set_tenant_info, or LLM_BASE_URL and LLM_MODEL.');
      }
      const ex = extractiveAnswer(searchQuestion, kb.chunks, quote, input.style);
      yield { type: 'delta', text: ex.text };
      yield done(ex.text, new Set(ex.cited), '');
      return;
    }

    const blocks = chat.kbIds.length ? knowledgeBlocks(kb.chunks) : null;
    const system = systemPrompt(pc, blocks, input.variables, quote);
    const messages = fitMessages([{ role: 'system', content: system }, ...history]);
    const setting = llmSettingOf(chat);
    const params = {
      ...(typeof setting.temperature === 'number' ? { temperature: setting.temperature } : {}),
      ...(typeof setting.top_p === 'number' ? { top_p: setting.top_p } : {}),
      ...(typeof setting.presence_penalty === 'number' ? { presence_penalty: setting.presence_penalty } : {}),
      ...(typeof setting.frequency_penalty === 'number' ? { frequency_penalty: setting.frequency_penalty } : {}),
      ...(typeof setting.max_tokens === 'number' ? { max_tokens: setting.max_tokens } : {}),
    };
    const cs = new CitationStream(
      kb.chunks.map((c) => ({ tokens: c.content_ltks })),
      input.style,
      quote,
    );
    let usage: LlmUsage | undefined;
    // reasoning passes through as it is; only the answer is cited
    const think = new ThinkSplitter();
    let reasoning = '';
    // a plain list, not a delegated generator: yield* of a sync generator costs promises per item here
    const route = (segments: { reasoning: boolean; text: string }[]): AnswerEvent[] => {
      const out: AnswerEvent[] = [];
      for (const seg of segments) {
        if (seg.reasoning) {
          reasoning += seg.text;
          out.push({ type: 'delta', text: seg.text, reasoning: true });
        } else {
          const text = cs.push(seg.text);
          if (text) out.push({ type: 'delta', text });
        }
      }
      return out;
    };
    for await (const d of model.stream(messages, params, signal)) {
      if (d.type === 'usage') usage = d.usage;
      else for (const ev of route(think.push(d.text))) yield ev;
    }
    for (const ev of route(think.finish())) yield ev;
    const tail = cs.finish();
    if (tail) yield { type: 'delta', text: tail };
    const answer = reasoning ? `<think>${reasoning}</think>${cs.text}` : cs.text;
    yield done(answer, cs.cited, messages.map((m) => `${m.role}: ${m.content}`).join('\n\n'), usage);
  }
}
