import { Injectable } from '@nestjs/common';
import { chunkIdFor, Prisma, type Chunk, type ChunkVector, type PrismaClient } from '@ragnest/db';
import { DomainError, RetCode, dataError } from '@ragnest/contracts';
import { analyzeToString, countTokens } from '@ragnest/nlp';
import { InjectDb } from '@ragnest/runtime';
import { IndexSync } from '../documents/index-sync.service.js';
import { documentView } from '../documents/document.view.js';
import { chunkAddView, chunkListView, highlight } from './chunk.view.js';

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** RAGFlow chunk routes (§5). Every write is indexed before the call returns (no refresh lag). */
@Injectable()
export class ChunksService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly indexSync: IndexSync,
  ) {}

  private async ownedDoc(tenantId: string, datasetId: string, documentId: string) {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId }, select: { id: true } });
    if (!ds) throw dataError(`You don't own the dataset ${datasetId}.`);
    const doc = await this.db.document.findFirst({ where: { id: documentId, datasetId } });
    if (!doc) throw dataError(`You don't own the document ${documentId}.`);
    return doc;
  }

  async add(tenantId: string, datasetId: string, documentId: string, body: Record<string, unknown>) {
    const doc = await this.ownedDoc(tenantId, datasetId, documentId);
    const content = body.content;
    if (typeof content !== 'string' || !content.trim()) throw dataError('`content` is required');
    const keywords = body.important_keywords ?? [];
    if (!isStringList(keywords)) throw dataError('`important_keywords` is required to be a list');
    const questions = body.questions ?? [];
    if (!isStringList(questions)) throw dataError('`questions` is required to be a list');
    const id = chunkIdFor(content, documentId);
    const before = await this.db.chunk.findUnique({ where: { id }, include: { vec: true } });
    const maxOrd = await this.db.chunk.aggregate({ where: { documentId }, _max: { ord: true } });
    const row = await this.db.chunk.upsert({
      where: { id },
      create: {
        id,
        documentId,
        datasetId,
        tenantId,
        generation: doc.generation,
        ord: (maxOrd._max.ord ?? -1) + 1,
        content,
        contentTokens: analyzeToString(content),
        importantKeywords: keywords,
        questions,
        tokenCount: countTokens(content),
      },
      update: { importantKeywords: keywords, questions, indexed: false, available: true },
    });
    // new keywords and questions change what is embedded: the old vector goes
    if (before?.vec) await this.db.chunkVector.deleteMany({ where: { chunkId: id } });
    try {
      await this.indexSync.indexNow([id]);
    } catch (err) {
      // not searchable means not added: put things back as they were
      if (before) await this.restore(before);
      else await this.db.chunk.delete({ where: { id } }).catch(() => undefined);
      throw err;
    }
    await this.recount(documentId);
    return { chunk: chunkAddView(row) };
  }

  async list(tenantId: string, datasetId: string, documentId: string, q: { page: number; pageSize: number; keywords?: string; id?: string }) {
    const doc = await this.ownedDoc(tenantId, datasetId, documentId);
    if (q.id) {
      const c = await this.db.chunk.findFirst({ where: { id: q.id, documentId } });
      if (!c) throw new DomainError(RetCode.NOT_FOUND, `Chunk not found: ${datasetId}/${q.id}`);
      return { total: 1, chunks: [chunkListView(c, doc.name)], doc: documentView(doc) };
    }
    const where: Prisma.ChunkWhereInput = { documentId };
    const words = q.keywords?.trim() ? q.keywords.trim().split(/\s+/) : [];
    if (words.length) {
      const tokens = analyzeToString(q.keywords!).split(' ').filter(Boolean);
      where.OR = [
        { AND: words.map((w) => ({ content: { contains: w, mode: 'insensitive' as const } })) },
        ...(tokens.length ? [{ AND: tokens.map((t) => ({ contentTokens: { contains: t } })) }] : []),
      ];
    }
    const [total, rows] = await Promise.all([
      this.db.chunk.count({ where }),
      this.db.chunk.findMany({ where, orderBy: [{ ord: 'asc' }, { createdAt: 'desc' }], skip: (q.page - 1) * q.pageSize, take: q.pageSize }),
    ]);
    return {
      total,
      chunks: rows.map((c) => chunkListView(c, doc.name, words.length ? highlight(c.content, words) : c.content)),
      doc: documentView(doc),
    };
  }

  async get(tenantId: string, datasetId: string, documentId: string, chunkId: string) {
    const doc = await this.ownedDoc(tenantId, datasetId, documentId);
    const c = await this.db.chunk.findFirst({ where: { id: chunkId, documentId } });
    if (!c) throw dataError(`Chunk not found: ${datasetId}/${chunkId}`);
    // RAGFlow's single-chunk route returns the stored fields, the table method's typed columns included
    return { ...(c.fields as Record<string, unknown>), ...chunkListView(c, doc.name), mom_id: c.momId };
  }

  /**
   * Classic §5.4: `chunk_ids` absent, null or [] deletes every chunk of the document; given ids delete
   * the matching ones, and a count mismatch is reported after deleting them.
   */
  async delete(tenantId: string, datasetId: string, documentId: string, body: Record<string, unknown>) {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId }, select: { id: true } });
    if (!ds) throw dataError(`You don't own the dataset ${datasetId}.`);
    const doc = await this.db.document.findFirst({ where: { id: documentId, datasetId }, select: { id: true } });
    if (!doc) throw new DomainError(RetCode.EXCEPTION_ERROR, `LookupError("Can't find the document with ID ${documentId}!")`);
    const raw = body.chunk_ids;
    const current = 'delete_all' in body;
    if (raw !== undefined && raw !== null && !isStringList(raw)) throw dataError('`chunk_ids` should be a list');
    const ids = (raw as string[] | null | undefined) ?? [];
    if (ids.length === 0) {
      if (current && body.delete_all !== true) return undefined;
      const all = await this.db.chunk.findMany({ where: { documentId }, select: { id: true, datasetId: true, documentId: true, generation: true, imageId: true } });
      await this.db.chunk.deleteMany({ where: { documentId } });
      await this.indexSync.afterChunksDeleted(tenantId, all.map((c) => c.id));
      await this.indexSync.afterChunkImagesDeleted(all.filter((c) => c.imageId));
      await this.recount(documentId);
      return undefined;
    }
    const unique = [...new Set(ids)];
    const dups = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    const pictures = await this.db.chunk.findMany({
      where: { documentId, id: { in: unique }, imageId: { not: '' } },
      select: { id: true, datasetId: true, documentId: true, generation: true },
    });
    const { count } = await this.db.chunk.deleteMany({ where: { documentId, id: { in: unique } } });
    await this.indexSync.afterChunksDeleted(tenantId, unique);
    await this.indexSync.afterChunkImagesDeleted(pictures);
    await this.recount(documentId);
    if (count !== unique.length) throw dataError(`rm_chunk deleted chunks ${count}, expect ${unique.length}`);
    if (dups.length) return { success_count: count, errors: dups.map((d) => `Duplicate chunk ids: ${d}`) };
    return undefined;
  }

  async update(tenantId: string, datasetId: string, documentId: string, chunkId: string, body: Record<string, unknown>) {
    const doc = await this.ownedDoc(tenantId, datasetId, documentId);
    const before = await this.db.chunk.findFirst({ where: { id: chunkId, documentId }, include: { vec: true } });
    if (!before) throw dataError(`Can't find this chunk ${chunkId}`);
    const data: Prisma.ChunkUpdateInput = {};
    if (body.content !== undefined) {
      if (typeof body.content !== 'string') throw dataError('`content` should be a string');
      if (doc.chunkMethod === 'qa' && body.content.split(/[\t\n]/).filter(Boolean).length !== 2) {
        throw dataError('Q&A must be separated by TAB/ENTER key.');
      }
      data.content = body.content;
      data.contentTokens = analyzeToString(body.content);
      data.tokenCount = countTokens(body.content);
    }
    for (const key of ['important_keywords', 'questions'] as const) {
      if (body[key] === undefined) continue;
      if (!isStringList(body[key])) throw dataError(`\`${key}\` should be a list`);
      if (key === 'important_keywords') data.importantKeywords = body[key] as string[];
      else data.questions = body[key] as string[];
    }
    if (body.available !== undefined) {
      const a = body.available;
      if (![true, false, 0, 1, '0', '1', 'true', 'false'].includes(a as never)) throw dataError('`available` should be a boolean');
      data.available = a === true || a === 1 || a === '1' || a === 'true';
    }
    if (body.positions !== undefined) {
      const p = body.positions;
      if (!Array.isArray(p) || !p.every((x) => Array.isArray(x) && x.length === 5 && x.every((n) => typeof n === 'number'))) {
        throw dataError('`positions` should be a list of [page, x0, x1, top, bottom]');
      }
      data.positions = p as Prisma.InputJsonValue;
    }
    if (Object.keys(data).length === 0) return undefined;
    const reembed = data.content !== undefined || data.importantKeywords !== undefined || data.questions !== undefined;
    await this.db.chunk.update({ where: { id: chunkId }, data: { ...data, indexed: false } });
    if (reembed) await this.db.chunkVector.deleteMany({ where: { chunkId } });
    try {
      await this.indexSync.indexNow([chunkId]);
    } catch (err) {
      await this.restore(before);
      throw err;
    }
    if (data.tokenCount !== undefined) await this.recount(documentId);
    return undefined;
  }

  /** Puts a chunk back as it was, its vector included (or none, when it had none). */
  private async restore(before: Chunk & { vec: ChunkVector | null }): Promise<void> {
    const { id } = before;
    const vec = before.vec ? { model: before.vec.model, vector: before.vec.vector } : null;
    await this.db.$transaction([
      this.db.chunk.update({ where: { id }, data: restoredFields(before) }),
      vec
        ? this.db.chunkVector.upsert({ where: { chunkId: id }, create: { chunkId: id, ...vec }, update: { ...vec, updatedAt: new Date() } })
        : this.db.chunkVector.deleteMany({ where: { chunkId: id } }),
    ]);
  }

  /** Document counters always come from the chunk rows. */
  private async recount(documentId: string): Promise<void> {
    await this.db.$executeRaw`
      UPDATE document SET chunk_count = s.cnt, token_count = s.tokens, updated_at = now()
      FROM (SELECT count(*)::int AS cnt, COALESCE(sum(token_count), 0)::int AS tokens FROM chunk WHERE document_id = ${documentId}) s
      WHERE id = ${documentId}`;
  }
}

function restoredFields(c: Chunk): Prisma.ChunkUpdateInput {
  return {
    content: c.content,
    contentTokens: c.contentTokens,
    importantKeywords: c.importantKeywords,
    questions: c.questions,
    tokenCount: c.tokenCount,
    available: c.available,
    positions: c.positions as Prisma.InputJsonValue,
    indexed: c.indexed,
  };
}
