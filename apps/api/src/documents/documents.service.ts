import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { Prisma, restampDocument, type Document, type PrismaClient } from '@ragnest/db';
import { DOCUMENT_CHUNK_METHODS, RUN_NUMERIC, DomainError, RetCode, argumentError, dataError } from '@ragnest/contracts';
import type { ObjectStorage } from '@ragnest/storage';
import { InjectDb, InjectStorage } from '@ragnest/runtime';
import { deepMerge, parserConfigFor } from '../datasets/parser-config.js';
import { documentView } from './document.view.js';
import { IndexSync } from './index-sync.service.js';
import { suffixOf } from './names.js';

export interface ListDocumentsQuery {
  page: number;
  pageSize: number;
  orderBy: string;
  desc: boolean;
  keywords?: string;
  id?: string;
  name?: string;
  ids?: string[];
  suffixes?: string[];
  runs?: string[];
  createTimeFrom?: number;
  createTimeTo?: number;
  metadataCondition?: string;
}

const ORDER_COLUMNS: Record<string, keyof Prisma.DocumentOrderByWithRelationInput> = {
  create_time: 'createdAt',
  update_time: 'updatedAt',
  name: 'name',
  size: 'size',
  chunk_num: 'chunkCount',
  chunk_count: 'chunkCount',
  token_num: 'tokenCount',
  token_count: 'tokenCount',
  progress: 'progress',
  run: 'run',
};

@Injectable()
export class DocumentsService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectStorage() private readonly storage: ObjectStorage,
    private readonly indexSync: IndexSync,
  ) {}

  async list(tenantId: string, datasetId: string, q: ListDocumentsQuery) {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId }, select: { id: true } });
    if (!ds) throw dataError(`You don't own the dataset ${datasetId}. `);
    const where: Prisma.DocumentWhereInput = { datasetId };
    if (q.id) where.id = q.id;
    if (q.name) where.name = q.name;
    if (q.ids?.length) where.id = { in: q.ids };
    if ((q.id || q.name) && !(await this.db.document.count({ where }))) {
      throw dataError(`You don't own the document ${q.id ?? q.name}.`);
    }
    if (q.keywords) where.name = { contains: q.keywords, mode: 'insensitive' };
    if (q.suffixes?.length) where.suffix = { in: q.suffixes.map((s) => s.replace(/^\./, '').toLowerCase()) };
    if (q.runs?.length) where.run = { in: q.runs.map((r) => RUN_NUMERIC[r] ?? r.toUpperCase()) };
    if (q.createTimeFrom || q.createTimeTo) {
      where.createdAt = {
        ...(q.createTimeFrom ? { gte: new Date(q.createTimeFrom) } : {}),
        ...(q.createTimeTo ? { lte: new Date(q.createTimeTo) } : {}),
      };
    }
    if (q.metadataCondition) Object.assign(where, metadataWhere(q.metadataCondition));
    const col = ORDER_COLUMNS[q.orderBy] ?? 'createdAt';
    const [total, docs] = await Promise.all([
      this.db.document.count({ where }),
      this.db.document.findMany({
        where,
        orderBy: [{ [col]: q.desc ? 'desc' : 'asc' }, { id: 'asc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
      }),
    ]);
    return { total, docs: docs.map(documentView) };
  }

  /** RAGFlow 4.3 update (PUT, PATCH). */
  async update(tenantId: string, datasetId: string, documentId: string, body: Record<string, unknown>) {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId } });
    if (!ds) throw dataError("You don't own the dataset.");
    const doc = await this.db.document.findFirst({ where: { id: documentId, datasetId } });
    if (!doc) throw dataError("The dataset doesn't own the document.");
    for (const [key, stored] of [
      ['chunk_count', doc.chunkCount],
      ['token_count', doc.tokenCount],
      ['progress', doc.progress],
    ] as const) {
      if (body[key] !== undefined && body[key] !== stored) throw dataError(`Can't change \`${key}\`.`);
    }
    const data: Prisma.DocumentUpdateInput = {};
    if (body.meta_fields !== undefined) {
      const m = body.meta_fields;
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw dataError('meta_fields must be a dictionary');
      data.metaFields = m as Prisma.InputJsonValue;
    }
    if (body.name !== undefined && body.name !== doc.name) {
      if (typeof body.name !== 'string' || !body.name.trim()) throw argumentError('`name` must be a non-empty string.');
      const name = body.name.trim();
      if (Buffer.byteLength(name, 'utf8') > 255) throw argumentError('File name must be 255 bytes or less.');
      if (suffixOf(name) !== suffixOf(doc.name)) throw argumentError("The extension of file can't be changed");
      if (await this.db.document.findFirst({ where: { datasetId, name, NOT: { id: doc.id } }, select: { id: true } })) {
        throw dataError('Duplicated document name in the same dataset.');
      }
      data.name = name;
    }
    if (body.enabled !== undefined) {
      if (![0, 1, true, false, '0', '1'].includes(body.enabled as never)) throw argumentError('`enabled` must be 0 or 1.');
      data.status = String(Number(body.enabled === true || body.enabled === 1 || body.enabled === '1'));
    }
    let resetChunks = false;
    let parserConfig = doc.parserConfig as Record<string, unknown>;
    if (body.chunk_method !== undefined && body.chunk_method !== doc.chunkMethod) {
      const m = body.chunk_method;
      if (typeof m !== 'string' || !(DOCUMENT_CHUNK_METHODS as readonly string[]).includes(m)) {
        throw dataError(`\`chunk_method\` ${String(m)} doesn't exist`);
      }
      if (doc.type === 'visual' || ['ppt', 'pptx', 'pages'].includes(doc.suffix)) throw dataError('Not supported yet!');
      data.chunkMethod = m;
      resetChunks = true;
      if (body.parser_config === undefined) {
        const llm = (await this.db.tenant.findUnique({ where: { id: tenantId }, select: { llmId: true } }))?.llmId ?? '';
        parserConfig = parserConfigFor(m, null, llm);
      }
    }
    if (body.parser_config !== undefined) {
      const pc = body.parser_config;
      if (typeof pc !== 'object' || pc === null || Array.isArray(pc)) throw dataError('parser_config must be a dictionary');
      parserConfig = deepMerge(parserConfig, pc as Record<string, unknown>);
    }
    data.parserConfig = parserConfig as Prisma.InputJsonValue;
    if (resetChunks) {
      // a real method change makes old chunks meaningless: RAGFlow resets the document
      Object.assign(data, { run: 'UNSTART', progress: 0, progressMsg: '', chunkCount: 0, tokenCount: 0, generation: { increment: 1 } });
      // the document row first, so a worker's batch in flight commits before its chunks are deleted (chunk-writer.ts)
      await this.db.$transaction([
        this.db.document.update({ where: { id: documentId }, data }),
        this.db.chunk.deleteMany({ where: { documentId } }),
        this.db.parseTask.updateMany({ where: { documentId, state: { in: ['QUEUED', 'RUNNING'] } }, data: { state: 'CANCEL' } }),
      ]);
      await this.indexSync.afterChunksCleared(tenantId, [documentId], datasetId);
    } else if ((data.name !== undefined && data.name !== doc.name) || (data.status !== undefined && data.status !== doc.status)) {
      // index entries carry the document's name and whether it is enabled: re-stamp its chunks with the change
      const restamped = await this.db.$transaction(async (tx) => {
        await tx.document.update({ where: { id: documentId }, data });
        return restampDocument(tx, documentId);
      });
      await this.indexSync.afterDocumentChanged(documentId, doc.generation, restamped);
    } else {
      await this.db.document.update({ where: { id: documentId }, data });
    }
    return documentView(await this.db.document.findUniqueOrThrow({ where: { id: documentId } }));
  }

  /** Download (§4.4). Errors are exactly `{code, message}` (the SDK tells files from errors by that). */
  async open(tenantId: string, datasetId: string, documentId: string): Promise<{ doc: Document; stream: Readable }> {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId }, select: { id: true } });
    if (!ds) throw dataError(`You do not own the dataset ${datasetId}.`);
    const doc = await this.db.document.findFirst({ where: { id: documentId, datasetId } });
    if (!doc) throw dataError(`The dataset not own the document ${documentId}.`);
    if (doc.size === 0n) throw dataError('This file is empty.');
    const stream = await this.storage.get(doc.location);
    return { doc, stream };
  }

  /**
   * Delete (§4.6). Classic: ids absent/null/[] → every document of the dataset. Current (`delete_all` key
   * sent): no ids and no delete_all is an error. Known ids are deleted even when others are unknown.
   */
  async delete(tenantId: string, datasetId: string, body: Record<string, unknown>) {
    const ds = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId }, select: { id: true } });
    if (!ds) throw dataError(`You don't own the dataset ${datasetId}. `);
    const raw = body.ids;
    if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw argumentError('`ids` should be a list');
    const ids = (raw as unknown[] | null | undefined)?.map(String) ?? [];
    const current = 'delete_all' in body;
    let targets: { id: string; location: string }[];
    const errors: string[] = [];
    if (ids.length === 0) {
      if (current && body.delete_all !== true) throw dataError(`should either provide doc ids or set delete_all(true), dataset: ${datasetId}. `);
      targets = await this.db.document.findMany({ where: { datasetId }, select: { id: true, location: true } });
    } else {
      const unique = [...new Set(ids)];
      const dups = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      if (dups.length) errors.push(`Duplicate document ids: ${dups.join(',')}`);
      targets = await this.db.document.findMany({ where: { datasetId, id: { in: unique } }, select: { id: true, location: true } });
      const found = new Set(targets.map((t) => t.id));
      const missing = unique.filter((id) => !found.has(id));
      if (missing.length) {
        await this.deleteRows(tenantId, datasetId, targets);
        throw dataError(`Documents not found: [${missing.map((m) => `'${m}'`).join(', ')}]`);
      }
    }
    await this.deleteRows(tenantId, datasetId, targets);
    if (errors.length) return { success_count: targets.length, errors };
    return current ? { deleted: targets.length } : undefined;
  }

  private async deleteRows(tenantId: string, datasetId: string, targets: { id: string; location: string }[]): Promise<void> {
    if (!targets.length) return;
    const ids = targets.map((t) => t.id);
    await this.db.$transaction([
      this.db.chunk.deleteMany({ where: { documentId: { in: ids } } }),
      this.db.document.deleteMany({ where: { id: { in: ids } } }),
    ]);
    await this.indexSync.afterDocumentsDeleted(tenantId, targets, datasetId);
  }
}

/** RAGFlow metadata_condition (§4.5) over meta_fields: {logic, conditions:[{name, comparison_operator, value}]}. */
export function metadataWhere(raw: string): Prisma.DocumentWhereInput {
  let cond: unknown;
  try {
    cond = JSON.parse(raw);
  } catch {
    throw dataError('metadata_condition must be valid JSON.');
  }
  if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) throw dataError('metadata_condition must be an object.');
  const c = cond as { logic?: string; conditions?: { name?: string; comparison_operator?: string; value?: unknown }[] };
  const parts: Prisma.DocumentWhereInput[] = (c.conditions ?? []).map((x) => {
    const path = [String(x.name ?? '')];
    switch (x.comparison_operator) {
      case 'is':
      case '=':
        return { metaFields: { path, equals: x.value as Prisma.InputJsonValue } };
      case 'is not':
      case '≠':
      case '!=':
        return { NOT: { metaFields: { path, equals: x.value as Prisma.InputJsonValue } } };
      case 'contains':
        return { metaFields: { path, string_contains: String(x.value) } };
      case 'not contains':
        return { NOT: { metaFields: { path, string_contains: String(x.value) } } };
      case 'start with':
        return { metaFields: { path, string_starts_with: String(x.value) } };
      case 'end with':
        return { metaFields: { path, string_ends_with: String(x.value) } };
      case '>':
        return { metaFields: { path, gt: x.value as number } };
      case '<':
        return { metaFields: { path, lt: x.value as number } };
      case '≥':
      case '>=':
        return { metaFields: { path, gte: x.value as number } };
      case '≤':
      case '<=':
        return { metaFields: { path, lte: x.value as number } };
      case 'empty':
        return { OR: [{ metaFields: { path, equals: Prisma.AnyNull } }, { metaFields: { path, equals: '' } }] };
      case 'not empty':
        return { NOT: { OR: [{ metaFields: { path, equals: Prisma.AnyNull } }, { metaFields: { path, equals: '' } }] } };
      default:
        throw new DomainError(RetCode.DATA_ERROR, `Unsupported comparison_operator: ${String(x.comparison_operator)}`);
    }
  });
  if (!parts.length) return {};
  return c.logic === 'or' ? { OR: parts } : { AND: parts };
}
