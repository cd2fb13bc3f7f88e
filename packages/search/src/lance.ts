import { mkdir } from 'node:fs/promises';
import * as lancedb from '@lancedb/lancedb';
import {
  Bool,
  Field,
  FixedSizeList,
  Float32,
  RecordBatch,
  Schema,
  Struct,
  Table as ArrowTable,
  Utf8,
  makeData,
} from 'apache-arrow';
import type { Candidate, IndexedChunk, SearchFilter, SearchIndex, SearchRequest } from './port.js';
import {
  assertDimension,
  chunked,
  clampLimit,
  cosineSimilarity,
  groupByDimension,
  joinQueryTokens,
  lanceFilter,
  sqlIn,
  sqlString,
  unionCandidates,
} from './util.js';

export interface LanceSearchIndexOptions {
  /** Directory holding the LanceDB tables (created if missing). Several processes may open it. */
  dir: string;
  /**
   * How stale a reader may be with respect to writes made by *other* processes, in seconds.
   * 0 (default) = every read checks for a newer table version (cheap on a local disk).
   * Writes made through this instance are always visible to it immediately.
   */
  readConsistencyIntervalSeconds?: number;
  /** Build the vector index once a table has this many rows (default 10,000). Below that, kNN is exact. */
  vectorIndexMinRows?: number;
  /** optimize() compacts and folds new rows into the indices once this many rows are unindexed (default 2,000)… */
  optimizeMinUnindexedRows?: number;
  /** …or once this many fragments (≈ upsert batches) were added since the last run (default 32)… */
  optimizeMaxNewFragments?: number;
  /** …or when anything changed and the last full optimisation is older than this (default 60 s). */
  optimizeMaxDelaySeconds?: number;
  /**
   * Each optimisation adds the new rows to the vector index as a separate segment (LanceDB does not merge
   * vector index segments, and compaction cannot merge fragments covered by different segments); once a
   * table has more segments than this, optimize() retrains the vector index over all rows (default 16).
   */
  vectorIndexMaxSegments?: number;
  /** Old table versions are deleted by optimize() once older than this (default 600 s). */
  retainVersionsSeconds?: number;
  /** HNSW search breadth (ef) for the vector leg; default LanceDB's (≈1.5·k). */
  hnswEf?: number;
  /** Re-rank refineFactor·k ANN candidates with exact distances (default: off). */
  refineFactor?: number;
}

const TABLE_RE = /^chunks_(\d+)$/;
const FTS_INDEX = 'tokens_idx';
const VECTOR_INDEX = 'vector_idx';
/**
 * Scalar indices make the filters nearly free (a bitmap AND instead of a column scan) and upserts fast:
 * bitmaps for the few-valued columns, B-trees for the many-valued ones.
 */
const SCALAR_INDICES: ReadonlyArray<[column: string, kind: 'bitmap' | 'btree']> = [
  ['id', 'btree'],
  ['document_id', 'btree'],
  ['tenant_id', 'bitmap'],
  ['dataset_id', 'bitmap'],
  ['available', 'bitmap'],
];
const RESULT_COLUMNS = ['id', 'dataset_id', 'document_id', 'tokens'];
const MAX_LIMIT = 10_000;
const IN_LIST_MAX = 1_000;
const WRITE_BATCH = 10_000;

export function lanceTableName(dimension: number): string {
  return `chunks_${dimension}`;
}

export function lanceSchema(dimension: number): Schema {
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('tenant_id', new Utf8(), false),
    new Field('dataset_id', new Utf8(), false),
    new Field('document_id', new Utf8(), false),
    new Field('tokens', new Utf8(), false),
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
    new Field('available', new Bool(), false),
  ]);
}

function utf8Column(values: readonly string[]) {
  const enc = new TextEncoder();
  const parts = values.map((v) => enc.encode(v));
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  parts.forEach((p, i) => {
    total += p.length;
    offsets[i + 1] = total;
  });
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets: offsets, data: bytes });
}

function boolColumn(values: readonly boolean[]) {
  const bits = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v) bits[i >> 3]! |= 1 << (i & 7);
  });
  return makeData({ type: new Bool(), length: values.length, nullCount: 0, data: bits });
}

function checkChunk(c: IndexedChunk): void {
  for (const k of ['id', 'tenantId', 'datasetId', 'documentId'] as const) {
    if (typeof c[k] !== 'string' || c[k].length === 0) throw new Error(`chunk ${String(c.id)}: ${k} must be a non-empty string`);
  }
  if (typeof c.tokens !== 'string') throw new Error(`chunk ${c.id}: tokens must be a string`);
  for (const x of c.vector) if (!Number.isFinite(x)) throw new Error(`chunk ${c.id}: vector has a non-finite value`);
}

/** IndexedChunks → an Arrow table with the exact table schema (no per-row JS objects, no type inference). */
export function chunksToArrow(dimension: number, chunks: readonly IndexedChunk[]): ArrowTable {
  const schema = lanceSchema(dimension);
  const n = chunks.length;
  const flat = new Float32Array(n * dimension);
  chunks.forEach((c, i) => {
    if (c.vector.length !== dimension) throw new Error(`chunk ${c.id}: vector has ${c.vector.length} dims, expected ${dimension}`);
    flat.set(c.vector, i * dimension);
  });
  const vectorField = schema.fields[5]!;
  const vectors = makeData({
    type: vectorField.type as FixedSizeList<Float32>,
    length: n,
    nullCount: 0,
    child: makeData({ type: new Float32(), length: n * dimension, nullCount: 0, data: flat }),
  });
  const struct = makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [
      utf8Column(chunks.map((c) => c.id)),
      utf8Column(chunks.map((c) => c.tenantId)),
      utf8Column(chunks.map((c) => c.datasetId)),
      utf8Column(chunks.map((c) => c.documentId)),
      utf8Column(chunks.map((c) => c.tokens)),
      vectors,
      boolColumn(chunks.map((c) => c.available)),
    ],
  });
  return new ArrowTable(schema, [new RecordBatch(schema, struct)]);
}

/** A vector cell from a query result (an Arrow vector, typed array or plain array) as numbers. */
function toNumbers(v: unknown): ArrayLike<number> | null {
  if (v == null) return null;
  if (ArrayBuffer.isView(v)) return v as unknown as Float32Array;
  const maybe = v as { toArray?: () => ArrayLike<number> };
  if (typeof maybe.toArray === 'function') return maybe.toArray();
  if (Array.isArray(v)) return v as number[];
  return null;
}

interface ResultRow {
  id: string;
  dataset_id: string;
  document_id: string;
  tokens: string;
  vector?: unknown;
  _score?: number;
  _distance?: number;
}

interface LegQuery {
  text: string;
  where: string;
  textLimit: number;
  qv: Float32Array | null;
  vectorLimit: number;
}

interface LegHit {
  rowId: bigint;
  /** BM25 score (text leg) or cosine distance (vector leg) */
  score: number;
}

function legHits(res: ArrowTable, scoreColumn: string): LegHit[] {
  if (res.numRows === 0) return [];
  const rid = res.getChild('_rowid');
  const score = res.getChild(scoreColumn);
  if (!rid || !score) throw new Error(`search result lacks _rowid/${scoreColumn}`);
  const out: LegHit[] = [];
  for (let i = 0; i < res.numRows; i++) out.push({ rowId: BigInt(rid.get(i) as bigint | number), score: Number(score.get(i)) });
  return out;
}

interface OptimizeState {
  /** table version right after our last full optimisation */
  version: number;
  lastFullAt: number;
  fragmentsAfter: number;
}

/**
 * Embedded search index over LanceDB: one table per vector dimension (`chunks_<dim>`), a whitespace FTS
 * index on the pre-analysed `tokens` (BM25), cosine kNN on `vector` (exact until optimize() builds an
 * IVF_HNSW_SQ index), bitmap/B-tree indices on the filter and id columns.
 *
 * Rows that are not yet covered by an index are still searched (flat), so a row is searchable as soon as
 * upsert() resolves and optimize() never hides anything. Writes from this instance are serialised; other
 * processes may read (and write) the same directory — LanceDB commits are atomic and conflict-checked, and
 * readers re-check the table version at most every `readConsistencyIntervalSeconds`.
 */
export class LanceSearchIndex implements SearchIndex {
  readonly kind = 'embedded' as const;
  private readonly opts: Required<Omit<LanceSearchIndexOptions, 'hnswEf' | 'refineFactor'>> &
    Pick<LanceSearchIndexOptions, 'hnswEf' | 'refineFactor'>;
  private connection: Promise<lancedb.Connection> | null = null;
  private readonly tables = new Map<number, Promise<lancedb.Table>>();
  private readonly ready = new Set<number>();
  private writeChain: Promise<unknown> = Promise.resolve();
  private optimizing: Promise<void> | null = null;
  private readonly optimizeState = new Map<number, OptimizeState>();
  private closed = false;

  constructor(options: LanceSearchIndexOptions) {
    if (!options.dir) throw new Error('LanceSearchIndex needs a dir');
    this.opts = {
      dir: options.dir,
      readConsistencyIntervalSeconds: options.readConsistencyIntervalSeconds ?? 0,
      vectorIndexMinRows: options.vectorIndexMinRows ?? 10_000,
      optimizeMinUnindexedRows: options.optimizeMinUnindexedRows ?? 2_000,
      optimizeMaxNewFragments: options.optimizeMaxNewFragments ?? 32,
      vectorIndexMaxSegments: options.vectorIndexMaxSegments ?? 16,
      optimizeMaxDelaySeconds: options.optimizeMaxDelaySeconds ?? 60,
      retainVersionsSeconds: options.retainVersionsSeconds ?? 600,
      hnswEf: options.hnswEf,
      refineFactor: options.refineFactor,
    };
  }

  // ---------------------------------------------------------------- plumbing

  private conn(): Promise<lancedb.Connection> {
    if (this.closed) return Promise.reject(new Error('LanceSearchIndex is closed'));
    if (!this.connection) {
      const attempt = (async () => {
        await mkdir(this.opts.dir, { recursive: true });
        return lancedb.connect(this.opts.dir, { readConsistencyInterval: this.opts.readConsistencyIntervalSeconds });
      })();
      this.connection = attempt;
      attempt.catch(() => {
        if (this.connection === attempt) this.connection = null;
      });
    }
    return this.connection;
  }

  /** Runs write operations of this instance one at a time (LanceDB resolves conflicts between processes). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(fn, fn);
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private async dimensions(): Promise<number[]> {
    const names = await (await this.conn()).tableNames();
    const dims: number[] = [];
    for (const n of names) {
      const m = TABLE_RE.exec(n);
      if (m) dims.push(Number(m[1]));
    }
    return dims;
  }

  /** The table for a dimension, or null when it does not exist (yet). */
  private async table(dimension: number): Promise<lancedb.Table | null> {
    const cached = this.tables.get(dimension);
    if (cached) return cached;
    if (!(await this.dimensions()).includes(dimension)) return null;
    return this.openCached(dimension, (db) => db.openTable(lanceTableName(dimension)));
  }

  private openCached(dimension: number, open: (db: lancedb.Connection) => Promise<lancedb.Table>): Promise<lancedb.Table> {
    const existing = this.tables.get(dimension);
    if (existing) return existing;
    const p = this.conn().then(open);
    this.tables.set(dimension, p);
    p.catch(() => {
      if (this.tables.get(dimension) === p) this.tables.delete(dimension);
    });
    return p;
  }

  private async allTables(): Promise<Array<[number, lancedb.Table]>> {
    const dims = await this.dimensions();
    return Promise.all(dims.map(async (d) => [d, (await this.table(d))!] as [number, lancedb.Table]));
  }

  /** FTS + scalar indices (vector index is built by optimize() once there is enough data to train it). */
  private async ensureIndices(t: lancedb.Table): Promise<void> {
    const have = new Set((await t.listIndices()).map((i) => i.columns[0]));
    const create = async (column: string, config: lancedb.Index, name: string) => {
      try {
        await t.createIndex(column, { config, name, replace: false });
      } catch (err) {
        // another process may have created it concurrently
        const now = new Set((await t.listIndices()).map((i) => i.columns[0]));
        if (!now.has(column)) throw err;
      }
    };
    if (!have.has('tokens')) {
      await create(
        'tokens',
        lancedb.Index.fts({
          baseTokenizer: 'whitespace',
          lowercase: false,
          stem: false,
          removeStopWords: false,
          asciiFolding: false,
          withPosition: false,
          maxTokenLength: 255,
        }),
        FTS_INDEX,
      );
    }
    for (const [column, kind] of SCALAR_INDICES) {
      if (!have.has(column)) {
        await create(column, kind === 'bitmap' ? lancedb.Index.bitmap() : lancedb.Index.btree(), `${column}_idx`);
      }
    }
  }

  // ---------------------------------------------------------------- SearchIndex

  async ensureReady(dimension: number): Promise<void> {
    assertDimension(dimension);
    if (this.ready.has(dimension)) return;
    await this.serial(async () => {
      if (this.ready.has(dimension)) return;
      const t = await this.openCached(dimension, async (db) => {
        const name = lanceTableName(dimension);
        try {
          return await db.createEmptyTable(name, lanceSchema(dimension), { existOk: true });
        } catch (err) {
          // lost a creation race with another process
          if ((await db.tableNames()).includes(name)) return db.openTable(name);
          throw err;
        }
      });
      await this.ensureIndices(t);
      this.ready.add(dimension);
    });
  }

  async upsert(chunks: IndexedChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    chunks.forEach(checkChunk);
    const groups = groupByDimension(chunks);
    for (const dim of groups.keys()) await this.ensureReady(dim);
    await this.serial(async () => {
      for (const [dim, group] of groups) {
        const t = await this.table(dim);
        if (!t) throw new Error(`table ${lanceTableName(dim)} disappeared`);
        for (const slice of chunked(group, WRITE_BATCH)) {
          await t.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(chunksToArrow(dim, slice));
        }
      }
    });
  }

  private async deleteWhere(predicate: string): Promise<void> {
    await this.serial(async () => {
      for (const [, t] of await this.allTables()) await t.delete(predicate);
    });
  }

  async deleteByIds(tenantId: string, ids: string[]): Promise<void> {
    for (const slice of chunked([...new Set(ids)], IN_LIST_MAX)) {
      await this.deleteWhere(`tenant_id = ${sqlString(tenantId)} AND ${sqlIn('id', slice)}`);
    }
  }

  async deleteByDocument(tenantId: string, documentId: string): Promise<void> {
    await this.deleteWhere(`tenant_id = ${sqlString(tenantId)} AND document_id = ${sqlString(documentId)}`);
  }

  async deleteByDataset(tenantId: string, datasetId: string): Promise<void> {
    await this.deleteWhere(`tenant_id = ${sqlString(tenantId)} AND dataset_id = ${sqlString(datasetId)}`);
  }

  async search(req: SearchRequest): Promise<Candidate[]> {
    const where = lanceFilter(req.filter, { onlyAvailable: true });
    if (where === null) return [];
    const text = joinQueryTokens(req.queryTokens);
    const textLimit = text ? clampLimit(req.textLimit, MAX_LIMIT) : 0;
    // a zero query vector has no direction: no kNN leg, similarity 0
    const qv = req.queryVector && req.queryVector.some((x) => x !== 0) ? req.queryVector : null;
    const vectorLimit = qv ? clampLimit(req.vectorLimit, MAX_LIMIT) : 0;
    if (textLimit === 0 && vectorLimit === 0) return [];

    // With a query vector only the table of that dimension can hold comparable chunks.
    const tables: lancedb.Table[] = [];
    if (qv) {
      const t = await this.table(qv.length);
      if (t) tables.push(t);
    } else {
      for (const [, t] of await this.allTables()) tables.push(t);
    }
    if (tables.length === 0) return [];

    const perTable = await Promise.all(tables.map((t) => this.searchTable(t, { text, where, textLimit, qv, vectorLimit })));
    let textHits = perTable.flatMap((r) => r.text);
    if (perTable.length > 1) textHits = textHits.sort((a, b) => b.textScore - a.textScore).slice(0, textLimit);
    return unionCandidates(
      textHits,
      perTable.flatMap((r) => r.vector),
    );
  }

  /**
   * Both legs of one table. The legs only return row ids and scores (cheap: no column reads); the rows of
   * their union are then fetched in one take. If a row moved or vanished in between (a concurrent
   * compaction, update or delete), the legs are re-run in one pass that reads the columns directly.
   */
  private async searchTable(t: lancedb.Table, q: LegQuery): Promise<{ text: Candidate[]; vector: Candidate[] }> {
    const [textIds, vectorIds] = await Promise.all([
      q.textLimit > 0 ? this.textLegIds(t, q) : Promise.resolve([]),
      q.vectorLimit > 0 && q.qv ? this.vectorLegIds(t, q, q.qv) : Promise.resolve([]),
    ]);
    const wanted = [...new Set([...textIds, ...vectorIds].map((h) => h.rowId))];
    if (wanted.length === 0) return { text: [], vector: [] };
    let rows: Map<bigint, ResultRow> | null = null;
    try {
      rows = await this.takeRows(t, wanted, q.qv !== null);
    } catch {
      rows = null;
    }
    if (!rows || rows.size !== wanted.length) return this.searchTableDirect(t, q);
    const toCandidates = (hits: LegHit[], leg: 'text' | 'vector') =>
      hits.map((h) => this.toCandidate(rows.get(h.rowId)!, q.qv, leg === 'text' ? h.score : 0, leg === 'vector' ? h.score : undefined));
    return { text: toCandidates(textIds, 'text'), vector: toCandidates(vectorIds, 'vector') };
  }

  private ftsQuery(t: lancedb.Table, q: LegQuery) {
    return t
      .query()
      .fullTextSearch(new lancedb.MatchQuery(q.text, 'tokens', { operator: lancedb.Operator.Or }))
      .where(q.where)
      .limit(q.textLimit);
  }

  private vectorQuery(t: lancedb.Table, q: LegQuery, qv: Float32Array) {
    let v = t.vectorSearch(qv).column('vector').distanceType('cosine').where(q.where).limit(q.vectorLimit);
    if (this.opts.hnswEf) v = v.ef(Math.max(this.opts.hnswEf, q.vectorLimit));
    if (this.opts.refineFactor) v = v.refineFactor(this.opts.refineFactor);
    return v;
  }

  private async textLegIds(t: lancedb.Table, q: LegQuery): Promise<LegHit[]> {
    const res = await this.ftsQuery(t, q).select(['_score']).withRowId().toArrow();
    return legHits(res, '_score');
  }

  private async vectorLegIds(t: lancedb.Table, q: LegQuery, qv: Float32Array): Promise<LegHit[]> {
    const res = await this.vectorQuery(t, q, qv).select(['_distance']).withRowId().toArrow();
    return legHits(res, '_distance');
  }

  private async takeRows(t: lancedb.Table, rowIds: bigint[], withVector: boolean): Promise<Map<bigint, ResultRow>> {
    const res = await t
      .takeRowIds(rowIds)
      .select([...RESULT_COLUMNS, ...(withVector ? ['vector'] : [])])
      .withRowId()
      .toArrow();
    const out = new Map<bigint, ResultRow>();
    if (res.numRows === 0) return out;
    const col = (name: string) => {
      const c = res.getChild(name);
      if (!c) throw new Error(`take result lacks column ${name}`);
      return c;
    };
    const rid = col('_rowid');
    const id = col('id');
    const ds = col('dataset_id');
    const doc = col('document_id');
    const tok = col('tokens');
    const vec = withVector ? col('vector') : null;
    for (let i = 0; i < res.numRows; i++) {
      out.set(BigInt(rid.get(i) as bigint | number), {
        id: id.get(i) as string,
        dataset_id: ds.get(i) as string,
        document_id: doc.get(i) as string,
        tokens: tok.get(i) as string,
        vector: vec ? vec.get(i) : undefined,
      });
    }
    return out;
  }

  /** One-pass fallback: each leg reads its own columns. */
  private async searchTableDirect(t: lancedb.Table, q: LegQuery): Promise<{ text: Candidate[]; vector: Candidate[] }> {
    const withVector = q.qv ? ['vector'] : [];
    const [textRows, vectorRows] = await Promise.all([
      q.textLimit > 0
        ? (this.ftsQuery(t, q)
            .select([...RESULT_COLUMNS, ...withVector, '_score'])
            .toArray() as Promise<ResultRow[]>)
        : Promise.resolve([] as ResultRow[]),
      q.vectorLimit > 0 && q.qv
        ? (this.vectorQuery(t, q, q.qv)
            .select([...RESULT_COLUMNS, 'vector', '_distance'])
            .toArray() as Promise<ResultRow[]>)
        : Promise.resolve([] as ResultRow[]),
    ]);
    return {
      text: textRows.map((r) => this.toCandidate(r, q.qv, Number(r._score ?? 0))),
      vector: vectorRows.map((r) => this.toCandidate(r, q.qv, 0, r._distance)),
    };
  }

  private toCandidate(r: ResultRow, qv: Float32Array | null, textScore: number, distance?: number): Candidate {
    let sim = 0;
    if (qv) {
      const v = toNumbers(r.vector);
      // exact cosine from the stored vector; the index distance (quantised) only as a fallback
      sim = v ? cosineSimilarity(qv, v) : typeof distance === 'number' ? 1 - distance : 0;
    }
    return {
      id: r.id,
      datasetId: r.dataset_id,
      documentId: r.document_id,
      tokens: r.tokens,
      vectorSimilarity: sim,
      textScore,
    };
  }

  async count(filter: SearchFilter): Promise<number> {
    const where = lanceFilter(filter, { onlyAvailable: false });
    if (where === null) return 0;
    let n = 0;
    for (const [, t] of await this.allTables()) n += await t.countRows(where);
    return n;
  }

  /**
   * Cheap when nothing changed (one version check per table). Otherwise:
   *  - once a table has `vectorIndexMinRows` rows and no vector index, trains an IVF_HNSW_SQ (cosine) index,
   *    and retrains it when it has more than `vectorIndexMaxSegments` segments (rows written meanwhile
   *    stay searchable: un-indexed rows are scanned, and the old index serves until the new one commits);
   *  - when enough rows are un-indexed / fragments piled up / `optimizeMaxDelaySeconds` passed, runs
   *    LanceDB's optimize: compaction, folding new rows into the FTS, vector and scalar indices, and
   *    deleting table versions older than `retainVersionsSeconds`.
   * Concurrent calls share one run.
   */
  optimize(): Promise<void> {
    if (!this.optimizing) {
      this.optimizing = this.optimizeAll().finally(() => {
        this.optimizing = null;
      });
    }
    return this.optimizing;
  }

  private async optimizeAll(): Promise<void> {
    for (const [dim, t] of await this.allTables()) await this.optimizeTable(dim, t);
  }

  private async optimizeTable(dim: number, t: lancedb.Table): Promise<void> {
    let state = this.optimizeState.get(dim);
    if (!state) this.optimizeState.set(dim, (state = { version: -1, lastFullAt: 0, fragmentsAfter: 0 }));
    if ((await t.version()) === state.version) return; // nothing changed since our last run

    let indices = await t.listIndices();
    const has = (column: string) => indices.some((i) => i.columns[0] === column);
    if (!has('tokens') || SCALAR_INDICES.some(([c]) => !has(c))) {
      await this.serial(() => this.ensureIndices(t));
      indices = await t.listIndices();
    }

    // Vector index: train it once there is enough data, retrain when it has too many segments.
    // Not under the write lock: training takes a while (minutes at 100k+ rows), and appends/deletes
    // committed meanwhile are compatible with the index commit; rows it does not cover are scanned.
    let trained = false;
    const vectorIndex = indices.find((i) => i.columns[0] === 'vector');
    const segments = vectorIndex ? ((await t.indexStats(vectorIndex.name))?.numIndices ?? 1) : 0;
    if (vectorIndex ? segments > this.opts.vectorIndexMaxSegments : (await t.countRows()) >= this.opts.vectorIndexMinRows) {
      const rows = await t.countRows();
      try {
        await t.createIndex('vector', {
          config: lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.ceil(rows / 1_000_000)) }),
          name: vectorIndex?.name ?? VECTOR_INDEX,
          replace: true,
        });
      } catch (err) {
        // another process may have trained it concurrently
        if (vectorIndex || !(await t.listIndices()).some((i) => i.columns[0] === 'vector')) throw err;
      }
      trained = true;
    }

    const now = Date.now();
    const unindexed = (await t.indexStats(FTS_INDEX))?.numUnindexedRows ?? 0;
    const fragments = (await t.stats()).fragmentStats.numFragments;
    const due =
      trained ||
      unindexed >= this.opts.optimizeMinUnindexedRows ||
      fragments - state.fragmentsAfter >= this.opts.optimizeMaxNewFragments ||
      now - state.lastFullAt >= this.opts.optimizeMaxDelaySeconds * 1000;
    if (!due) return; // state.version stays stale, so the next call looks again

    // compaction, folding new rows into every index, pruning old versions
    await this.serial(() => t.optimize({ cleanupOlderThan: new Date(Date.now() - this.opts.retainVersionsSeconds * 1000) }));
    state.version = await t.version();
    state.lastFullAt = Date.now();
    state.fragmentsAfter = (await t.stats()).fragmentStats.numFragments;
  }

  async health(): Promise<void> {
    try {
      await (await this.conn()).tableNames();
    } catch (err) {
      throw new Error(`embedded search index at ${this.opts.dir} is unavailable: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Waits for pending writes, then closes. An optimize() that is training a vector index is not waited
   * for (that can take minutes); its result is simply not committed if the process exits first.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeChain;
    this.closed = true;
    for (const p of this.tables.values()) {
      try {
        (await p).close();
      } catch {
        /* already closed or never opened */
      }
    }
    this.tables.clear();
    const c = this.connection;
    this.connection = null;
    if (c) {
      try {
        (await c).close();
      } catch {
        /* ignore */
      }
    }
  }
}
