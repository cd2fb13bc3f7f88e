import { Injectable } from '@nestjs/common';
import { isUniqueViolation, isUuid1Hex, newId, Prisma, type Dataset, type PrismaClient } from '@ragnest/db';
import { DomainError, RetCode, argumentError, dataError } from '@ragnest/contracts';
import { InjectDb } from '@ragnest/runtime';
import { IndexSync } from '../documents/index-sync.service.js';
import { EmbeddingModels } from './embedding-models.js';
import { deepMerge, parserConfigFor } from './parser-config.js';
import { datasetView, type DatasetCounts } from './dataset.view.js';
import type { CreateDatasetInput, UpdateDatasetInput } from './dataset.schemas.js';

export interface ListDatasetsQuery {
  page: number;
  pageSize: number;
  orderBy: 'create_time' | 'update_time';
  desc: boolean;
  id?: string;
  name?: string;
  ids?: string[];
}

/** SDK 0.27's auto_metadata_config lives inside parser_config, as in RAGFlow. */
function withAutoMetadata(parserConfig: Record<string, unknown>, auto: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (!auto) return parserConfig;
  const { enabled, ...rest } = auto as { enabled?: unknown };
  return { ...parserConfig, metadata: rest, enable_metadata: enabled === undefined ? true : Boolean(enabled) };
}

const lacks = (tenantId: string, what: string) =>
  new DomainError(RetCode.PERMISSION_ERROR, `User '${tenantId}' lacks permission for dataset '${what}'`);

@Injectable()
export class DatasetsService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    private readonly models: EmbeddingModels,
    private readonly indexSync: IndexSync,
  ) {}

  async counts(datasetIds: string[]): Promise<Map<string, DatasetCounts>> {
    const map = new Map<string, DatasetCounts>();
    for (const id of datasetIds) map.set(id, { documentCount: 0, chunkCount: 0, tokenCount: 0 });
    if (datasetIds.length === 0) return map;
    const rows = await this.db.document.groupBy({
      by: ['datasetId'],
      where: { datasetId: { in: datasetIds } },
      _count: { _all: true },
      _sum: { chunkCount: true, tokenCount: true },
    });
    for (const r of rows) {
      map.set(r.datasetId, { documentCount: r._count._all, chunkCount: r._sum.chunkCount ?? 0, tokenCount: r._sum.tokenCount ?? 0 });
    }
    return map;
  }

  async view(ds: Dataset) {
    const c = (await this.counts([ds.id])).get(ds.id)!;
    return datasetView(ds, c);
  }

  private async tenantLlmId(tenantId: string): Promise<string> {
    const t = await this.db.tenant.findUnique({ where: { id: tenantId }, select: { llmId: true } });
    return t?.llmId ?? '';
  }

  async create(tenantId: string, userId: string, input: CreateDatasetInput) {
    if (input.embedding_model) this.models.assertUsable(input.embedding_model);
    if (input.pipeline_id !== undefined || input.parse_type !== undefined) {
      if (input.chunk_method !== undefined) {
        throw argumentError('parser_id provided → disallowed fields present: parse_type, pipeline_id');
      }
      if (input.pipeline_id == null || input.parse_type === undefined) {
        throw argumentError('parser_id omitted → required fields missing: parse_type, pipeline_id');
      }
    }
    const method = input.chunk_method ?? 'naive';
    const tenant = await this.db.tenant.findUnique({ where: { id: tenantId }, select: { embdId: true } });
    const embeddingModel = input.embedding_model || tenant?.embdId || this.models.defaultModelId();
    const parserConfig = withAutoMetadata(parserConfigFor(method, input.parser_config ?? null, await this.tenantLlmId(tenantId)), input.auto_metadata_config);
    // RAGFlow v0.22+: a case-insensitive duplicate name becomes name(1), name(2), ...
    for (let attempt = 0; attempt < 5; attempt++) {
      const name = await this.freeName(tenantId, input.name);
      try {
        const ds = await this.db.dataset.create({
          data: {
            id: newId(),
            tenantId,
            name,
            nameKey: name.toLowerCase(),
            avatar: input.avatar ?? null,
            description: input.description ?? null,
            embeddingModel,
            permission: input.permission ?? 'me',
            createdBy: userId,
            chunkMethod: method,
            pipelineId: input.pipeline_id ?? null,
            parserConfig: parserConfig as Prisma.InputJsonValue,
          },
        });
        return datasetView(ds, { documentCount: 0, chunkCount: 0, tokenCount: 0 });
      } catch (err) {
        if (isUniqueViolation(err)) continue; // raced: try the next free name
        throw err;
      }
    }
    throw dataError(`Dataset name '${input.name}' already exists`);
  }

  private async freeName(tenantId: string, name: string): Promise<string> {
    const key = name.toLowerCase();
    const taken = new Set(
      (
        await this.db.dataset.findMany({
          where: { tenantId, nameKey: { startsWith: key } },
          select: { nameKey: true },
        })
      ).map((d) => d.nameKey),
    );
    if (!taken.has(key)) return name;
    for (let i = 1; ; i++) if (!taken.has(`${key}(${i})`)) return `${name}(${i})`;
  }

  async list(tenantId: string, q: ListDatasetsQuery) {
    if (q.id !== undefined && !isUuid1Hex(q.id)) throw argumentError('Invalid UUID1 format');
    const where: Prisma.DatasetWhereInput = { tenantId };
    if (q.id) where.id = q.id;
    if (q.name) where.name = q.name;
    if (q.ids?.length) where.id = { in: q.ids };
    if (q.id || q.name) {
      const exists = await this.db.dataset.count({ where });
      if (!exists) throw lacks(tenantId, q.id ?? q.name!);
    }
    const [total, rows] = await Promise.all([
      this.db.dataset.count({ where }),
      this.db.dataset.findMany({
        where,
        orderBy: [{ [q.orderBy === 'update_time' ? 'updatedAt' : 'createdAt']: q.desc ? 'desc' : 'asc' }, { id: 'asc' }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
      }),
    ]);
    const counts = await this.counts(rows.map((r) => r.id));
    return { total, items: rows.map((r) => datasetView(r, counts.get(r.id)!)) };
  }

  async get(tenantId: string, id: string) {
    if (!isUuid1Hex(id)) throw argumentError('Invalid UUID1 format');
    const ds = await this.db.dataset.findFirst({ where: { id, tenantId } });
    if (!ds) throw lacks(tenantId, id);
    return this.view(ds);
  }

  async update(tenantId: string, id: string, input: UpdateDatasetInput, searchKind: 'embedded' | 'elasticsearch') {
    if (!isUuid1Hex(id)) throw argumentError('Invalid UUID1 format');
    if (Object.keys(input).length === 0) throw argumentError('No properties were modified');
    const ds = await this.db.dataset.findFirst({ where: { id, tenantId } });
    if (!ds) throw lacks(tenantId, id);
    const data: Prisma.DatasetUpdateInput = {};
    if (input.name !== undefined && input.name.toLowerCase() !== ds.nameKey) {
      const clash = await this.db.dataset.findFirst({ where: { tenantId, nameKey: input.name.toLowerCase(), NOT: { id } } });
      if (clash) throw dataError(`Dataset name '${input.name}' already exists`);
    }
    if (input.name !== undefined) {
      data.name = input.name;
      data.nameKey = input.name.toLowerCase();
    }
    if (input.avatar !== undefined) data.avatar = input.avatar;
    if (input.description !== undefined) data.description = input.description;
    if (input.permission !== undefined) data.permission = input.permission;
    if (input.embedding_model && input.embedding_model !== ds.embeddingModel) {
      this.models.assertUsable(input.embedding_model);
      const chunks = (await this.counts([id])).get(id)!.chunkCount;
      if (chunks > 0) throw dataError(`When chunk_num (${chunks}) > 0, embedding_model must remain ${ds.embeddingModel}`);
      data.embeddingModel = input.embedding_model;
    }
    if (input.pagerank !== undefined) {
      if (input.pagerank !== ds.pagerank && searchKind !== 'elasticsearch') {
        throw dataError("'pagerank' can only be set when doc_engine is elasticsearch");
      }
      data.pagerank = input.pagerank;
    }
    const method = input.chunk_method ?? ds.chunkMethod;
    if (input.chunk_method !== undefined) data.chunkMethod = input.chunk_method;
    if (input.parser_config && Object.keys(input.parser_config).length > 0) {
      data.parserConfig = deepMerge(ds.parserConfig as Record<string, unknown>, input.parser_config) as Prisma.InputJsonValue;
    } else if (input.chunk_method !== undefined && input.chunk_method !== ds.chunkMethod) {
      data.parserConfig = parserConfigFor(method, null, await this.tenantLlmId(tenantId)) as Prisma.InputJsonValue;
    }
    if (input.auto_metadata_config) {
      const base = (data.parserConfig ?? ds.parserConfig) as Record<string, unknown>;
      data.parserConfig = withAutoMetadata(base, input.auto_metadata_config) as Prisma.InputJsonValue;
    }
    const updated = await this.db.dataset.update({ where: { id }, data });
    return this.view(updated);
  }

  /**
   * Classic: `ids: null` deletes all, `[]` deletes nothing. Current (`delete_all` key present): empty ids
   * are a no-op unless delete_all. Nothing is deleted when any id is not the caller's.
   */
  async delete(tenantId: string, ids: string[] | null, deleteAll: boolean | undefined) {
    const current = deleteAll !== undefined;
    if (ids) {
      for (const id of ids) if (!isUuid1Hex(id)) throw argumentError('Invalid UUID1 format');
      const seen = new Set<string>();
      const dups = ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
      if (dups.length) throw argumentError(`Duplicate ids: '${[...new Set(dups)].join(', ')}'`);
    }
    let targets: string[];
    if (!ids || ids.length === 0) {
      if (current ? !deleteAll : ids !== null) return current ? { success_count: 0 } : undefined;
      targets = (await this.db.dataset.findMany({ where: { tenantId }, select: { id: true } })).map((d) => d.id);
    } else {
      const owned = new Set((await this.db.dataset.findMany({ where: { tenantId, id: { in: ids } }, select: { id: true } })).map((d) => d.id));
      const missing = ids.filter((id) => !owned.has(id));
      if (missing.length) {
        throw new DomainError(RetCode.PERMISSION_ERROR, `User '${tenantId}' lacks permission for datasets: '${missing.join(', ')}'`);
      }
      targets = ids;
    }
    for (const id of targets) await this.deleteOne(tenantId, id);
    return current ? { success_count: targets.length } : undefined;
  }

  private async deleteOne(tenantId: string, datasetId: string): Promise<void> {
    await this.db.$transaction([
      this.db.chunk.deleteMany({ where: { datasetId } }),
      this.db.dataset.delete({ where: { id: datasetId } }),
    ]);
    await this.indexSync.afterDatasetDeleted(tenantId, datasetId);
  }
}
