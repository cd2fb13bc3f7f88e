import { createRequire } from 'node:module';
import type * as USearch from 'usearch';
import { tokenList, type Candidate, type IndexedChunk, type SearchFilter, type SearchIndex, type SearchRequest, type TermIdSequence } from './port.js';
import { assertDimension, clampLimit, unionCandidates } from './util.js';

// usearch's ESM entry locates its prebuilt binary from the caller's stack, which fails under vm modules
// (Jest); its CommonJS entry resolves from __dirname.
const usearch = createRequire(import.meta.url)('usearch') as typeof USearch;

export interface MemorySearchIndexOptions {
  /** HNSW graph degree (default 16). */
  connectivity?: number;
  /** HNSW build breadth (default 64). */
  expansionAdd?: number;
  /** HNSW search breadth (default 128; raised to the requested k when larger). */
  expansionSearch?: number;
  /**
   * Partitions (datasets) with fewer live vectors than this are searched exactly, without the HNSW graph
   * (default 2,000); a document filter selecting fewer rows than this is also searched exactly.
   */
  exactBelow?: number;
}

const MAX_LIMIT = 10_000;
const BM25_K1 = 1.2;
const BM25_B = 0.75;

/** Growable typed-array helpers: one allocation per doubling, no per-row objects. */
function grow<T extends Int32Array | Uint16Array | Float32Array | Uint8Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = Math.max(16, a.length);
  // doubling while small; then by a quarter, so a large partition's vectors carry at most 25 % slack
  while (n < need) n = n < 1 << 20 ? n * 2 : Math.ceil(n * 1.25);
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Postings of one term in one partition: slots (ascending) and term frequencies. */
interface Posting {
  slots: Int32Array;
  tfs: Uint16Array;
  /** BM25 term-frequency part of each posting, (k1+1)·tf / (tf + k1·(1−b+b·len/avgdl)), at the partition's impactAvg */
  imps: Float32Array;
  n: number;
}

/** Impacts are recomputed when the mean row length has moved this much (relative) since they were computed. */
const IMPACT_DRIFT = 0.02;

/**
 * A term's postings. Most terms of real data occur in one or a few rows (ids, numbers, names: in a
 * spreadsheet nearly every value), so small lists are packed numbers, slot·2^16 + tf: one number for a single
 * row, a short array up to SMALL_POSTINGS, typed arrays with stored impacts beyond. Typed arrays for every term
 * cost ~470 bytes per term (measured 14 KB of heap per spreadsheet chunk); packed numbers cost tens.
 */
type Postings = number | number[] | Posting;
const SMALL_POSTINGS = 8;
const TF_SPAN = 65536;
const pack = (slot: number, tf: number) => slot * TF_SPAN + tf;
const postingCount = (p: Postings) => (typeof p === 'number' ? 1 : Array.isArray(p) ? p.length : p.n);

/**
 * One dataset's rows. Rows live in append-only "slots": an upsert of an existing id kills the old slot and
 * appends a new one, so postings and the graph never need in-place edits; dead slots are skipped at query
 * time and reclaimed by compaction.
 */
class Partition {
  slotCount = 0;
  liveCount = 0;
  deadCount = 0;
  ids: string[] = [];
  docOf = new Int32Array(0);
  alive = new Uint8Array(0);
  available = new Uint8Array(0);
  lengths = new Float32Array(0);
  /** unit-normalised vectors, `dim` floats per slot (zeros for zero vectors) */
  vectors: Float32Array;
  hasVector = new Uint8Array(0);
  lengthSum = 0;
  /** the mean row length the postings' impacts were computed with (0: none yet) */
  private impactAvg = 0;
  readonly idToSlot = new Map<string, number>();
  readonly docIds: string[] = [];
  /** each document's name as last indexed (hits carry it: no lookup per query) */
  readonly docNames: string[] = [];
  /** live rows hidden from search (unavailable chunk or disabled document): the graph over-fetches only then */
  hiddenCount = 0;
  readonly docIndex = new Map<string, number>();
  readonly docSlots = new Map<number, number[]>();
  /** postings by term id (term ids are global: an array here would be as long as the largest id of any dataset) */
  readonly postings = new Map<number, Postings>();
  /** each slot's token sequence as term ids: term similarity needs the order (adjacent pairs), compaction the bag */
  seqOf: (Uint32Array | null)[] = [];
  graph: USearch.Index | null = null;
  graphCount = 0;
  /**
   * Slots added since the last flushGraph(), inserted into the graph together: one batched, multi-threaded
   * usearch call per upsert batch costs ~12 % less CPU than one call per row and spreads over the cores.
   */
  private readonly pendingGraph = new Set<number>();
  /** per-query scratch (JavaScript is single-threaded and search() is synchronous over a partition) */
  private scores = new Float32Array(0);
  private touched = new Int32Array(0);

  constructor(
    readonly tenantId: string,
    readonly datasetId: string,
    readonly dim: number,
    private readonly opts: Required<MemorySearchIndexOptions>,
  ) {
    this.vectors = new Float32Array(0);
  }

  private docIdx(documentId: string, name: string | undefined): number {
    let i = this.docIndex.get(documentId);
    if (i === undefined) {
      i = this.docIds.length;
      this.docIds.push(documentId);
      this.docNames.push(name ?? '');
      this.docIndex.set(documentId, i);
    } else if (name !== undefined) this.docNames[i] = name;
    return i;
  }

  kill(slot: number): void {
    if (!this.alive[slot]) return;
    this.alive[slot] = 0;
    this.liveCount--;
    if (!this.available[slot]) this.hiddenCount--;
    this.deadCount++;
    this.lengthSum -= this.lengths[slot]!;
    this.idToSlot.delete(this.ids[slot]!);
    this.seqOf[slot] = null;
    if (this.graph && this.hasVector[slot] && !this.pendingGraph.delete(slot)) {
      this.graph.remove(BigInt(slot));
      this.graphCount--;
    }
    // docSlots keeps dead slots (readers check `alive`); compaction drops them
  }

  /** Live slots of a document. */
  liveSlotsOf(doc: number): number[] {
    const list = this.docSlots.get(doc);
    return list ? list.filter((s) => this.alive[s] === 1) : [];
  }

  add(c: IndexedChunk, terms: Dictionary): void {
    const old = this.idToSlot.get(c.id);
    if (old !== undefined) this.kill(old);
    const slot = this.slotCount++;
    const need = slot + 1;
    this.docOf = grow(this.docOf, need);
    this.alive = grow(this.alive, need);
    this.available = grow(this.available, need);
    this.lengths = grow(this.lengths, need);
    this.hasVector = grow(this.hasVector, need);
    this.vectors = grow(this.vectors, need * this.dim);
    this.ids[slot] = c.id;
    this.idToSlot.set(c.id, slot);
    const doc = this.docIdx(c.documentId, c.documentName);
    this.docOf[slot] = doc;
    const ds = this.docSlots.get(doc);
    if (ds) ds.push(slot);
    else this.docSlots.set(doc, [slot]);
    this.alive[slot] = 1;
    this.available[slot] = c.available ? 1 : 0;
    if (!c.available) this.hiddenCount++;
    this.liveCount++;

    // term frequencies of the token bag, counted in the dictionary's scratch array (no per-row Map)
    const toks = c.tokens.split(' ');
    const seq = new Uint32Array(toks.length);
    const uniq = terms.uniqScratch(toks.length);
    let len = 0;
    let nu = 0;
    for (const tok of toks) {
      if (!tok) continue;
      const t = terms.id(tok);
      seq[len++] = t;
      const tf = terms.tf;
      if (tf[t] === 0) uniq[nu++] = t;
      tf[t] = tf[t]! + 1;
    }
    this.lengths[slot] = len;
    this.lengthSum += len;
    this.seqOf[slot] = len === seq.length ? seq : seq.slice(0, len);
    const tf = terms.tf;
    if (this.impactAvg === 0) this.impactAvg = Math.max(1, len);
    const lenNorm = BM25_K1 * (1 - BM25_B + (BM25_B * len) / this.impactAvg);
    for (let k = 0; k < nu; k++) {
      const t = uniq[k]!;
      const f = Math.min(tf[t]!, 65535);
      tf[t] = 0;
      const e = this.postings.get(t);
      if (e === undefined) {
        this.postings.set(t, pack(slot, f));
        continue;
      }
      if (typeof e === 'number') {
        this.postings.set(t, [e, pack(slot, f)]);
        continue;
      }
      let p: Posting;
      if (Array.isArray(e)) {
        if (e.length < SMALL_POSTINGS) {
          e.push(pack(slot, f));
          continue;
        }
        p = this.unpackPostings(e);
        this.postings.set(t, p);
      } else p = e;
      if (p.n === p.slots.length) {
        const slots = new Int32Array(p.n * 2);
        slots.set(p.slots);
        p.slots = slots;
        const tfs = new Uint16Array(p.n * 2);
        tfs.set(p.tfs);
        p.tfs = tfs;
        const imps = new Float32Array(p.n * 2);
        imps.set(p.imps);
        p.imps = imps;
      }
      p.slots[p.n] = slot;
      p.imps[p.n] = (f * (BM25_K1 + 1)) / (f + lenNorm);
      p.tfs[p.n++] = f;
    }

    // vector: stored normalised; zero vectors are kept out of the graph (they have no direction)
    let norm = 0;
    for (let i = 0; i < this.dim; i++) norm += c.vector[i]! * c.vector[i]!;
    const base = slot * this.dim;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < this.dim; i++) this.vectors[base + i] = c.vector[i]! * inv;
      this.hasVector[slot] = 1;
      if (this.graph) this.pendingGraph.add(slot);
    } else {
      this.vectors.fill(0, base, base + this.dim);
      this.hasVector[slot] = 0;
    }
  }

  /** Inserts the rows added since the last call into the graph (call before the partition is searched). */
  flushGraph(): void {
    if (!this.graph || this.pendingGraph.size === 0) return;
    const n = this.pendingGraph.size;
    const keys = new BigUint64Array(n);
    const mat = new Float32Array(n * this.dim);
    let i = 0;
    for (const s of this.pendingGraph) {
      keys[i] = BigInt(s);
      mat.set(this.vectors.subarray(s * this.dim, (s + 1) * this.dim), i * this.dim);
      i++;
    }
    this.graph.add(keys, mat, 0);
    this.graphCount += n;
    this.pendingGraph.clear();
  }

  /** Builds the HNSW graph once the partition is large enough for exact search to cost more than the graph. */
  maybeBuildGraph(): void {
    if (this.graph || this.liveCount < this.opts.exactBelow) return;
    const g = new usearch.Index({
      dimensions: this.dim,
      metric: usearch.MetricKind.Cos,
      quantization: usearch.ScalarKind.I8,
      connectivity: this.opts.connectivity,
      expansion_add: this.opts.expansionAdd,
      expansion_search: this.opts.expansionSearch,
      multi: false,
    });
    const slots: number[] = [];
    for (let s = 0; s < this.slotCount; s++) if (this.alive[s] && this.hasVector[s]) slots.push(s);
    const keys = new BigUint64Array(slots.length);
    const mat = new Float32Array(slots.length * this.dim);
    slots.forEach((s, i) => {
      keys[i] = BigInt(s);
      mat.set(this.vectors.subarray(s * this.dim, (s + 1) * this.dim), i * this.dim);
    });
    if (slots.length) g.add(keys, mat, 0);
    this.graph = g;
    this.graphCount = slots.length;
  }

  /** Rewrites the partition without dead slots once they outnumber the live ones. */
  needsCompaction(): boolean {
    return this.deadCount > 1_000 && this.deadCount > this.liveCount;
  }

  cosine(slot: number, q: Float32Array): number {
    if (!this.hasVector[slot]) return 0;
    const v = this.vectors;
    const base = slot * this.dim;
    let dot = 0;
    for (let i = 0; i < this.dim; i++) dot += v[base + i]! * q[i]!;
    return dot > 1 ? 1 : dot < -1 ? -1 : dot;
  }

  private searchable(slot: number, docs: Set<number> | null): boolean {
    return this.alive[slot] === 1 && this.available[slot] === 1 && (docs === null || docs.has(this.docOf[slot]!));
  }

  docFilter(documentIds: string[] | undefined): Set<number> | null {
    if (!documentIds?.length) return null;
    const s = new Set<number>();
    for (const d of documentIds) {
      const i = this.docIndex.get(d);
      if (i !== undefined) s.add(i);
    }
    return s;
  }

  /** A short packed list as typed arrays with impacts, room to grow. */
  private unpackPostings(list: number[]): Posting {
    const cap = list.length * 2;
    const p: Posting = { slots: new Int32Array(cap), tfs: new Uint16Array(cap), imps: new Float32Array(cap), n: list.length };
    list.forEach((v, i) => {
      const slot = Math.floor(v / TF_SPAN);
      const tf = v - slot * TF_SPAN;
      p.slots[i] = slot;
      p.tfs[i] = tf;
      p.imps[i] = this.impact(slot, tf);
    });
    return p;
  }

  /** The BM25 term-frequency part of a posting, at impactAvg (as stored in typed postings). */
  private impact(slot: number, tf: number): number {
    return (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * this.lengths[slot]!) / this.impactAvg));
  }

  /** BM25 over the token bag; returns the best `limit` slots with their scores. */
  textLeg(termIds: number[], docs: Set<number> | null, limit: number): Array<[slot: number, score: number]> {
    if (!termIds.length || limit <= 0 || this.liveCount === 0) return [];
    this.scores = grow(this.scores, this.slotCount);
    this.touched = grow(this.touched, this.slotCount);
    const avg = this.lengthSum / Math.max(1, this.liveCount);
    if (Math.abs(avg - this.impactAvg) > IMPACT_DRIFT * this.impactAvg) this.recomputeImpacts(avg);
    const lists = termIds.map((t) => this.postings.get(t)).filter((p): p is Postings => p !== undefined);
    const scores = this.scores;
    const heap = new TopK(limit);
    // Common query terms touch most rows: then accumulate densely and scan every slot, instead of
    // remembering which slots were touched (a branch and a scattered write per posting).
    if (lists.reduce<number>((sum, p) => sum + postingCount(p), 0) > this.slotCount / 2) {
      this.accumulate(lists, null);
      // one read per slot, the bar held in a local, and the scores cleared by one fill afterwards
      const end = this.slotCount;
      let bar = -Infinity;
      for (let s = 0; s < end; s++) {
        const sc = scores[s]!;
        if (sc === 0 || sc < bar) continue;
        if (this.searchable(s, docs)) {
          heap.push(s, sc);
          if (heap.size === limit) bar = heap.min;
        }
      }
      scores.fill(0, 0, end);
    } else {
      const touched = this.touched;
      const nt = this.accumulate(lists, touched);
      for (let i = 0; i < nt; i++) {
        const s = touched[i]!;
        if (this.searchable(s, docs)) heap.push(s, scores[s]!);
        scores[s] = 0;
      }
    }
    return heap.sorted();
  }

  /**
   * Adds each term's BM25 contribution into `scores`; with `touched`, also lists the slots it made non-zero
   * and returns how many. The typed-array loop comes in two copies so the per-posting work has no extra branch.
   */
  private accumulate(lists: Postings[], touched: Int32Array | null): number {
    const scores = this.scores;
    const n = this.liveCount;
    let nt = 0;
    for (const p of lists) {
      const df = Math.min(postingCount(p), n);
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      if (typeof p === 'number' || Array.isArray(p)) {
        for (const v of typeof p === 'number' ? [p] : p) {
          const s = Math.floor(v / TF_SPAN);
          const prev = scores[s]!;
          if (touched && prev === 0) touched[nt++] = s;
          scores[s] = prev + idf * this.impact(s, v - s * TF_SPAN);
        }
        continue;
      }
      const slots = p.slots;
      const imps = p.imps;
      if (touched) {
        for (let i = 0, end = p.n; i < end; i++) {
          const s = slots[i]!;
          const prev = scores[s]!;
          if (prev === 0) touched[nt++] = s;
          scores[s] = prev + idf * imps[i]!;
        }
      } else {
        for (let i = 0, end = p.n; i < end; i++) {
          const s = slots[i]!;
          scores[s] = scores[s]! + idf * imps[i]!;
        }
      }
    }
    return nt;
  }

  /**
   * BM25's length normalisation uses the mean row length, which moves as rows come and go: impacts are
   * stored per posting (a query then only multiplies by idf) and recomputed once the mean has drifted by
   * IMPACT_DRIFT, so scores stay within that of exact BM25 at a fraction of its cost per posting.
   */
  private recomputeImpacts(avg: number): void {
    this.impactAvg = Math.max(1, avg);
    const a = BM25_K1 * (1 - BM25_B);
    const b = (BM25_K1 * BM25_B) / this.impactAvg;
    for (const p of this.postings.values()) {
      if (typeof p === 'number' || Array.isArray(p)) continue; // computed when read
      for (let i = 0; i < p.n; i++) {
        const tf = p.tfs[i]!;
        p.imps[i] = (tf * (BM25_K1 + 1)) / (tf + a + b * this.lengths[p.slots[i]!]!);
      }
    }
  }

  vectorLeg(q: Float32Array, docs: Set<number> | null, limit: number): Array<[slot: number, sim: number]> {
    if (limit <= 0 || this.liveCount === 0) return [];
    const exactSlots = this.exactCandidates(docs);
    if (exactSlots) {
      const heap = new TopK(limit);
      for (const s of exactSlots) if (this.hasVector[s] && this.searchable(s, docs)) heap.push(s, this.cosine(s, q));
      return heap.sorted();
    }
    const g = this.graph!;
    // the graph also holds hidden rows and rows outside a document filter: over-fetch only then, and filter
    let k = Math.min(this.graphCount, docs === null && this.hiddenCount === 0 ? limit : limit * 2 + 16);
    for (;;) {
      // one thread: a single query gains nothing from usearch's thread pool, and dispatching to it costs ~10 %
      const m = g.search(q, k, 1) as USearch.Matches;
      const heap = new TopK(limit);
      for (const key of m.keys) {
        const s = Number(key);
        if (this.searchable(s, docs)) heap.push(s, this.cosine(s, q));
      }
      if (heap.size >= limit || k >= this.graphCount) return heap.sorted();
      k = Math.min(this.graphCount, k * 4);
    }
  }

  /** Slots to scan exactly, or null when the graph should be used. */
  private exactCandidates(docs: Set<number> | null): Iterable<number> | null {
    if (docs) {
      let total = 0;
      const lists = [...docs].map((d) => this.liveSlotsOf(d));
      for (const l of lists) total += l.length;
      if (total < this.opts.exactBelow || !this.graph) return lists.flat();
      return null;
    }
    if (this.graph) return null;
    const all: number[] = [];
    for (let s = 0; s < this.slotCount; s++) if (this.alive[s]) all.push(s);
    return all;
  }

  /** The chunk's tokens in order as term ids (term similarity also scores adjacent pairs). */
  tokensOf(slot: number, terms: Dictionary): TermIdSequence {
    return { ids: this.seqOf[slot] ?? EMPTY_SEQ, dictionary: terms };
  }

  close(): void {
    this.graph = null;
    this.pendingGraph.clear();
  }
}

/** Bounded min-heap keeping the `k` highest scores. */
class TopK {
  private readonly keys: number[] = [];
  private readonly vals: number[] = [];
  constructor(private readonly k: number) {}
  get size(): number {
    return this.keys.length;
  }
  /** the lowest score held (meaningful once full) */
  get min(): number {
    return this.vals[0] ?? -Infinity;
  }
  /**
   * a ranks below b: a lower score, or the same score and a higher key. Ties thus go to the lower slot,
   * whatever order candidates arrive in (the dense and the sparse BM25 paths agree).
   */
  private below(a: number, b: number): boolean {
    const va = this.vals[a]!;
    const vb = this.vals[b]!;
    return va < vb || (va === vb && this.keys[a]! > this.keys[b]!);
  }
  push(key: number, val: number): void {
    if (this.k <= 0) return;
    const { keys, vals } = this;
    if (keys.length < this.k) {
      keys.push(key);
      vals.push(val);
      let i = keys.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.below(i, p)) break;
        this.swap(i, p);
        i = p;
      }
      return;
    }
    if (val < vals[0]! || (val === vals[0]! && key > keys[0]!)) return;
    keys[0] = key;
    vals[0] = val;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < keys.length && this.below(l, m)) m = l;
      if (r < keys.length && this.below(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
  private swap(a: number, b: number): void {
    const k = this.keys[a]!;
    this.keys[a] = this.keys[b]!;
    this.keys[b] = k;
    const v = this.vals[a]!;
    this.vals[a] = this.vals[b]!;
    this.vals[b] = v;
  }
  sorted(): Array<[number, number]> {
    return this.keys.map((k, i) => [k, this.vals[i]!] as [number, number]).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }
}

/** Interned terms shared by every partition (a term is stored once however many datasets use it). */
const EMPTY_SEQ = new Uint32Array(0);

class Dictionary {
  private readonly ids = new Map<string, number>();
  private readonly terms: string[] = [];
  /** per-term counter scratch for one row at a time (all zeros between rows) */
  tf = new Uint16Array(1024);
  private uniq = new Uint32Array(256);
  id(term: string): number {
    let i = this.ids.get(term);
    if (i === undefined) {
      i = this.terms.length;
      this.terms.push(term);
      this.ids.set(term, i);
      if (i >= this.tf.length) {
        const tf = new Uint16Array(this.tf.length * 2);
        tf.set(this.tf);
        this.tf = tf;
      }
    }
    return i;
  }
  uniqScratch(n: number): Uint32Array {
    if (this.uniq.length < n) this.uniq = new Uint32Array(Math.max(n, this.uniq.length * 2));
    return this.uniq;
  }
  lookup(term: string): number | undefined {
    return this.ids.get(term);
  }
  term(id: number): string {
    return this.terms[id]!;
  }
}

/**
 * The embedded serving index: everything in this process's memory, one partition per dataset, BM25 over
 * typed-array postings and HNSW (usearch, int8-quantised graph, exact float re-scoring) for vectors.
 *
 * It holds no data of its own worth keeping: the retrieval service fills it from Postgres at start and
 * keeps it in step with Postgres' index change feed, so every replica serves the same rows and a restart
 * loses nothing (see apps/retrieval `MemoryIndexSync`).
 */
export class MemorySearchIndex implements SearchIndex {
  readonly kind = 'embedded' as const;
  readonly followsFeed = true;
  private partitions = new Map<string, Partition>();
  private terms = new Dictionary();
  private readonly opts: Required<MemorySearchIndexOptions>;
  private dimension: number | null = null;

  constructor(options: MemorySearchIndexOptions = {}) {
    this.opts = {
      connectivity: options.connectivity ?? 16,
      expansionAdd: options.expansionAdd ?? 64,
      expansionSearch: options.expansionSearch ?? 128,
      exactBelow: options.exactBelow ?? 2_000,
    };
  }

  async ensureReady(dimension: number): Promise<void> {
    assertDimension(dimension);
    this.dimension ??= dimension;
  }

  /** An empty index with the same options, to be filled aside and then swapped in with replaceWith(). */
  emptyCopy(): MemorySearchIndex {
    return new MemorySearchIndex(this.opts);
  }

  /**
   * Takes over `other`'s rows in one synchronous step (searches see the old rows or the new ones, never a
   * half-filled index) and frees the old ones; `other` is left empty.
   */
  replaceWith(other: MemorySearchIndex): void {
    if (other === this) return;
    const old = this.partitions;
    this.partitions = other.partitions;
    this.terms = other.terms;
    this.dimension = other.dimension ?? this.dimension;
    other.partitions = new Map();
    other.terms = new Dictionary();
    for (const p of old.values()) p.close();
  }

  private key(tenantId: string, datasetId: string): string {
    return `${tenantId}\u0000${datasetId}`;
  }

  private partition(c: IndexedChunk): Partition {
    const k = this.key(c.tenantId, c.datasetId);
    let p = this.partitions.get(k);
    if (!p) {
      p = new Partition(c.tenantId, c.datasetId, c.vector.length, this.opts);
      this.partitions.set(k, p);
    }
    if (p.dim !== c.vector.length) throw new Error(`chunk ${c.id}: vector has ${c.vector.length} dims, dataset index has ${p.dim}`);
    return p;
  }

  async upsert(chunks: IndexedChunk[]): Promise<void> {
    this.upsertSync(chunks);
  }

  /** Synchronous form for the sync loop: a batch is applied between two searches, never during one. */
  upsertSync(chunks: readonly IndexedChunk[]): void {
    for (const c of chunks) {
      if (!c.id || !c.tenantId || !c.datasetId || !c.documentId) throw new Error(`chunk ${String(c.id)}: ids must be non-empty strings`);
      for (const x of c.vector) if (!Number.isFinite(x)) throw new Error(`chunk ${c.id}: vector has a non-finite value`);
    }
    const touched = new Set<Partition>();
    for (const c of chunks) {
      const p = this.partition(c);
      p.add(c, this.terms);
      touched.add(p);
    }
    for (const p of touched) {
      p.flushGraph();
      if (p.needsCompaction()) this.compact(p);
      p.maybeBuildGraph();
    }
  }

  /** Removes ids wherever they are in the tenant's partitions. */
  async deleteByIds(tenantId: string, ids: string[]): Promise<void> {
    this.deleteIdsSync(tenantId, ids);
  }

  deleteIdsSync(tenantId: string, ids: readonly string[]): void {
    for (const p of this.partitions.values()) {
      if (p.tenantId !== tenantId) continue;
      for (const id of ids) {
        const s = p.idToSlot.get(id);
        if (s !== undefined) p.kill(s);
      }
    }
  }

  async deleteByDocument(tenantId: string, documentId: string): Promise<void> {
    this.deleteDocumentSync(tenantId, documentId);
  }

  deleteDocumentSync(tenantId: string, documentId: string): void {
    for (const p of this.partitions.values()) {
      if (p.tenantId !== tenantId) continue;
      const d = p.docIndex.get(documentId);
      if (d === undefined) continue;
      for (const s of p.liveSlotsOf(d)) p.kill(s);
      p.docSlots.delete(d);
    }
  }

  async deleteByDataset(tenantId: string, datasetId: string): Promise<void> {
    this.deleteDatasetSync(tenantId, datasetId);
  }

  deleteDatasetSync(tenantId: string, datasetId: string): void {
    const k = this.key(tenantId, datasetId);
    this.partitions.get(k)?.close();
    this.partitions.delete(k);
  }

  async search(req: SearchRequest): Promise<Candidate[]> {
    return this.searchSync(req);
  }

  searchSync(req: SearchRequest): Candidate[] {
    const textLimit = clampLimit(req.textLimit, MAX_LIMIT);
    const vectorLimit = clampLimit(req.vectorLimit, MAX_LIMIT);
    const termIds: number[] = [];
    for (const t of new Set(req.queryTokens)) {
      const id = t ? this.terms.lookup(t) : undefined;
      if (id !== undefined) termIds.push(id);
    }
    let q: Float32Array | null = null;
    if (req.queryVector) {
      let norm = 0;
      for (const x of req.queryVector) norm += x * x;
      if (norm > 0) {
        q = new Float32Array(req.queryVector.length);
        const inv = 1 / Math.sqrt(norm);
        for (let i = 0; i < q.length; i++) q[i] = req.queryVector[i]! * inv;
      }
    }
    const text: Array<{ p: Partition; slot: number; score: number }> = [];
    const vec: Array<{ p: Partition; slot: number; sim: number }> = [];
    for (const datasetId of new Set(req.filter.datasetIds)) {
      const p = this.partitions.get(this.key(req.filter.tenantId, datasetId));
      if (!p) continue;
      const docs = p.docFilter(req.filter.documentIds);
      if (docs && docs.size === 0) continue;
      for (const [slot, score] of p.textLeg(termIds, docs, textLimit)) text.push({ p, slot, score });
      if (q && vectorLimit > 0 && q.length === p.dim) for (const [slot, sim] of p.vectorLeg(q, docs, vectorLimit)) vec.push({ p, slot, sim });
    }
    // across datasets: keep each leg's best `limit`
    text.sort((a, b) => b.score - a.score);
    vec.sort((a, b) => b.sim - a.sim);
    const toCandidate = (p: Partition, slot: number, textScore: number, sim: number): Candidate => ({
      id: p.ids[slot]!,
      datasetId: p.datasetId,
      documentId: p.docIds[p.docOf[slot]!]!,
      documentName: p.docNames[p.docOf[slot]!]!,
      tokens: p.tokensOf(slot, this.terms),
      vectorSimilarity: sim,
      textScore,
    });
    const textHits = text.slice(0, textLimit).map((h) => toCandidate(h.p, h.slot, h.score, q && q.length === h.p.dim ? h.p.cosine(h.slot, q) : 0));
    const vectorHits = vec.slice(0, vectorLimit).map((h) => toCandidate(h.p, h.slot, 0, h.sim));
    return unionCandidates(textHits, vectorHits);
  }

  async count(filter: SearchFilter): Promise<number> {
    let n = 0;
    for (const datasetId of new Set(filter.datasetIds)) {
      const p = this.partitions.get(this.key(filter.tenantId, datasetId));
      if (!p) continue;
      const docs = p.docFilter(filter.documentIds);
      if (!docs) n += p.liveCount;
      else for (const d of docs) n += p.liveSlotsOf(d).length;
    }
    return n;
  }

  /** Reclaims partitions dominated by dead rows. */
  async optimize(): Promise<void> {
    for (const p of this.partitions.values()) if (p.needsCompaction()) this.compact(p);
  }

  private compact(p: Partition): void {
    const fresh = new Partition(p.tenantId, p.datasetId, p.dim, this.opts);
    for (let s = 0; s < p.slotCount; s++) {
      if (!p.alive[s]) continue;
      fresh.add(
        {
          id: p.ids[s]!,
          tenantId: p.tenantId,
          datasetId: p.datasetId,
          documentId: p.docIds[p.docOf[s]!]!,
          documentName: p.docNames[p.docOf[s]!]!,
          tokens: tokenList(p.tokensOf(s, this.terms)).join(' '),
          vector: p.vectors.subarray(s * p.dim, (s + 1) * p.dim),
          available: p.available[s] === 1,
        },
        this.terms,
      );
    }
    fresh.maybeBuildGraph();
    p.close();
    this.partitions.set(this.key(p.tenantId, p.datasetId), fresh);
  }

  /** Rows held, over all partitions (for metrics). */
  size(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.liveCount;
    return n;
  }

  async health(): Promise<void> {}

  async close(): Promise<void> {
    for (const p of this.partitions.values()) p.close();
    this.partitions.clear();
  }
}
