/**
 * A fitted ALS model: factor matrices keyed by the original ids, predictions (`transform`), top-k
 * recommendations computed in tasks by blocked matrix multiply, and save/load.
 */
import {
  Field, Float32, List, makeData, makeVector, Struct, Table, tableFromJSON, Utf8, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { free, get, isInitialized, optionRules, put, type ObjectRef } from '../../core/index.js';
import { encodeIds, labelPositions, lookupIds, materialize, readRawRatingColumns, type RatingsInput, type RawIds } from './als-data.js';
import type { SaveOptions } from '../../store/index.js';
import { readALSModel, writeALSModel } from './als-model-io.js';
import type { ColdStartStrategy } from './als-options.js';
import { topKTask } from './als-tasks.js';
import { topK } from './kernels.js';
import { FoldInSolver, foldInParams, type FoldInOptions, type FoldInResult } from './fold-in.js';
import { InvalidTrainingDataError } from '../errors.js';

/** What a model needs to know about how it was trained (column names, cold start). */
export interface ALSModelParams {
  userCol: string;
  itemCol: string;
  ratingCol: string;
  predictionCol: string;
  coldStartStrategy: ColdStartStrategy;
  /** Training parameters, for reference. */
  [key: string]: unknown;
}

/** Factors of one side as plain arrays: `factors` is ids.length × rank, row-major, rows in ascending id order. */
export interface FactorMatrix {
  /** Integer ids, ascending; with `labels`, the positions 0..n-1 of the labels. */
  ids: Float64Array;
  factors: Float32Array;
  rank: number;
  /** The original string ids (sorted, unique) when the training column held strings; absent for integer ids. */
  labels?: readonly string[] | undefined;
}

/** Options of the `recommendFor*` methods. */
export interface RecommendOptions {
  /**
   * (user, item) rows — a table, plain rows or a Dataset with the model's user and item columns,
   * typically the training ratings — whose pairs are never recommended. @default none
   */
  exclude?: RatingsInput | undefined;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Ids as an Int32 vector when they fit, else Int64. */
function idVector(ids: ArrayLike<number>): Vector {
  let fits = true;
  for (let i = 0; i < ids.length; i++) if (ids[i]! < INT32_MIN || ids[i]! > INT32_MAX) fits = false;
  if (fits) return makeVector(Int32Array.from(ids));
  return makeVector(BigInt64Array.from(Array.from(ids, (x) => BigInt(x))));
}

/** A Utf8 vector in one chunk. */
function utf8Vector(strings: readonly string[]): Vector {
  const enc = new TextEncoder();
  const bytes = strings.map((x) => enc.encode(x));
  const offsets = new Int32Array(bytes.length + 1);
  for (let i = 0; i < bytes.length; i++) offsets[i + 1] = offsets[i]! + bytes[i]!.length;
  const data = new Uint8Array(offsets[bytes.length]!);
  bytes.forEach((b, i) => data.set(b, offsets[i]!));
  return makeVector(makeData({ type: new Utf8(), length: bytes.length, nullCount: 0, valueOffsets: offsets, data }));
}

/** The user-facing ids of rows `rows` of a side: its strings when it has labels, else its integer ids. */
function sideIdVector(m: FactorMatrix, rows: ArrayLike<number>): Vector {
  const labels = m.labels;
  if (labels) return utf8Vector(Array.from(rows, (r) => labels[r]!));
  return idVector(Float64Array.from(rows, (r) => m.ids[r]!));
}

function factorTable(m: FactorMatrix): Table {
  const n = m.ids.length;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = i * m.rank;
  const child = makeData({ type: new Float32(), length: n * m.rank, data: m.factors });
  const list = makeData({ type: new List(new Field('element', new Float32(), false)), length: n, nullCount: 0, valueOffsets: offsets, child });
  return new Table({ id: m.labels ? utf8Vector(m.labels) : idVector(m.ids), features: makeVector(list) });
}

function filterRows(table: Table, keep: Uint8Array): Table {
  const columns: Record<string, Vector> = {};
  for (const field of table.schema.fields) {
    const v = table.getChild(field.name)!;
    const values: unknown[] = [];
    for (let i = 0; i < table.numRows; i++) if (keep[i]) values.push(v.get(i));
    columns[field.name] = vectorFromArray(values, field.type as DataType);
  }
  return new Table(columns);
}

export class ALSModel {
  /** Label positions per side with string ids, built on first use. */
  private positions: { users?: Map<string, number> | undefined; items?: Map<string, number> | undefined } = {};

  constructor(
    /** Latent factors per user and item. */
    readonly rank: number,
    /** User factors as arrays (rows in ascending id order). */
    readonly userFactorMatrix: FactorMatrix,
    /** Item factors as arrays (rows in ascending id order). */
    readonly itemFactorMatrix: FactorMatrix,
    readonly params: ALSModelParams,
  ) {}

  /** User factors as an Arrow table: `id` (Int32, or Int64 when an id does not fit; Utf8 for string ids) and `features` (List<Float32>). */
  get userFactors(): Table {
    return factorTable(this.userFactorMatrix);
  }

  /** Item factors as an Arrow table: `id` and `features` (List<Float32>). */
  get itemFactors(): Table {
    return factorTable(this.itemFactorMatrix);
  }

  /** Predicted rating of one (user, item) pair (ids as trained: integers or strings); NaN when either is unknown. */
  predict(user: number | string, item: number | string): number {
    const [u] = this.rowsOf('users', typeof user === 'string' ? [user] : Float64Array.of(user), this.params.userCol);
    const [i] = this.rowsOf('items', typeof item === 'string' ? [item] : Float64Array.of(item), this.params.itemCol);
    return this.dot(u!, i!);
  }

  /** Factor rows of raw ids of `side` (-1 for unknown ids). */
  private rowsOf(side: 'users' | 'items', raw: RawIds, column: string): Int32Array {
    const m = side === 'users' ? this.userFactorMatrix : this.itemFactorMatrix;
    let pos = this.positions[side];
    if (m.labels && !pos) pos = this.positions[side] = labelPositions(m.labels);
    return lookupIds(m.ids, encodeIds(raw, pos, column));
  }

  /**
   * Fits one user's factors against the model's item factors held fixed — the ALS half-step for
   * that user alone, with the model's loss and regularization: how a known user's new rating
   * updates their vector, and how a user the model never saw gets one. `items` are item ids as
   * trained (numbers or strings) paired with `ratings`; ratings of items the model does not know
   * are left out and listed in `unknown`. The model is not changed. YᵀY of the item factors
   * (implicit feedback) is computed on the first call and reused.
   */
  foldInUser(items: readonly (number | string)[] | Float64Array, ratings: ArrayLike<number>, options: FoldInOptions = {}): FoldInResult {
    return this.foldIn('items', items, ratings, options);
  }

  /**
   * Fits one item's factors against the user factors held fixed (a new listing from the users who
   * rated it); like {@link foldInUser} with the sides swapped.
   */
  foldInItem(users: readonly (number | string)[] | Float64Array, ratings: ArrayLike<number>, options: FoldInOptions = {}): FoldInResult {
    return this.foldIn('users', users, ratings, options);
  }

  private foldIns: { users?: FoldInSolver | undefined; items?: FoldInSolver | undefined } = {};

  private foldIn(fixedSide: 'users' | 'items', ids: readonly (number | string)[] | Float64Array, ratings: ArrayLike<number>, options: FoldInOptions): FoldInResult {
    const column = fixedSide === 'users' ? this.params.userCol : this.params.itemCol;
    if (ids.length !== ratings.length) throw new InvalidTrainingDataError(`fold-in: ${ids.length} ${column} ids but ${ratings.length} ratings (they must pair up)`, column);
    let raw: RawIds;
    if (ids instanceof Float64Array) raw = ids;
    else if (ids.every((x) => typeof x === 'string')) raw = ids as readonly string[];
    else if (ids.every((x) => typeof x === 'number')) raw = Float64Array.from(ids as readonly number[]);
    else throw new InvalidTrainingDataError(`fold-in: the ${column} ids mix numbers and strings`, column);
    const rows = this.rowsOf(fixedSide, raw, column);
    const known: number[] = [];
    const unknown: (number | string)[] = [];
    rows.forEach((r, k) => (r >= 0 ? known.push(k) : unknown.push(raw[k]!)));
    const m = fixedSide === 'users' ? this.userFactorMatrix : this.itemFactorMatrix;
    const solver = (this.foldIns[fixedSide] ??= new FoldInSolver(m.factors, foldInParams(this.rank, this.params)));
    const factors = solver.solve(Int32Array.from(known, (k) => rows[k]!), Float32Array.from(known, (k) => ratings[k]!), options);
    return { factors, used: known.length, unknown };
  }

  private dot(u: number, i: number): number {
    if (u < 0 || i < 0) return NaN;
    const r = this.rank;
    const U = this.userFactorMatrix.factors;
    const V = this.itemFactorMatrix.factors;
    let s = 0;
    for (let f = 0; f < r; f++) s += U[u * r + f]! * V[i * r + f]!;
    return Math.fround(s);
  }

  /**
   * Adds the prediction column (`predictionCol`, Float32) to a table of (user, item) rows. Pairs with
   * a user or item unseen in training get NaN, or are dropped with `coldStartStrategy: 'drop'`.
   * Runs on the driver: a dot product per row against factors the model holds.
   */
  async transform(input: RatingsInput, options: { coldStartStrategy?: ColdStartStrategy } = {}): Promise<Table> {
    const strategy = optionRules('ALSModel.transform()').oneOf('coldStartStrategy', options.coldStartStrategy, ['nan', 'drop'], this.params.coldStartStrategy);
    const m = await materialize(input);
    const table = Array.isArray(m) ? tableFromJSON(m as Record<string, unknown>[]) : (m as Table);
    const cols = await readRawRatingColumns(table, this.params.userCol, this.params.itemCol, undefined);
    const u = this.rowsOf('users', cols.users, this.params.userCol);
    const it = this.rowsOf('items', cols.items, this.params.itemCol);
    const pred = new Float32Array(cols.numRows);
    const keep = new Uint8Array(cols.numRows);
    let kept = 0;
    for (let k = 0; k < cols.numRows; k++) {
      pred[k] = this.dot(u[k]!, it[k]!);
      if (!Number.isNaN(pred[k]!)) {
        keep[k] = 1;
        kept++;
      }
    }
    const withPred = table.assign(new Table({ [this.params.predictionCol]: makeVector(pred) }));
    return strategy === 'drop' && kept < cols.numRows ? filterRows(withPred, keep) : withPred;
  }

  /**
   * Top `k` items for every user: `[userCol]`, `recommendations` (List<Struct<[itemCol], rating>>), like Spark.
   * With `exclude` (rows of (userCol, itemCol), typically the training ratings) a user is never
   * recommended an item it has a row for; the next best take their places.
   */
  recommendForAllUsers(k: number, options: RecommendOptions = {}): Promise<Table> {
    return this.recommend('users', undefined, k, options.exclude);
  }

  /** Top `k` items for the given users (ids — integers or strings as trained — or a table/Dataset with the user column); unknown users are skipped. */
  async recommendForUserSubset(users: ArrayLike<number> | readonly string[] | RatingsInput, k: number, options: RecommendOptions = {}): Promise<Table> {
    return this.recommend('users', await this.subsetIndices(users, 'users', this.params.userCol), k, options.exclude);
  }

  /** Top `k` users for every item: `[itemCol]`, `recommendations` (List<Struct<[userCol], rating>>); `exclude` as above. */
  recommendForAllItems(k: number, options: RecommendOptions = {}): Promise<Table> {
    return this.recommend('items', undefined, k, options.exclude);
  }

  /** Top `k` users for the given items; unknown items are skipped. */
  async recommendForItemSubset(items: ArrayLike<number> | readonly string[] | RatingsInput, k: number, options: RecommendOptions = {}): Promise<Table> {
    return this.recommend('items', await this.subsetIndices(items, 'items', this.params.itemCol), k, options.exclude);
  }

  /** Per factor row of `side`, the target rows `exclude` pairs it with (pairs with an id the model does not know are ignored). */
  private async excludedTargets(side: 'users' | 'items', exclude: RatingsInput): Promise<Map<number, Set<number>>> {
    const cols = await readRawRatingColumns(exclude, this.params.userCol, this.params.itemCol, undefined);
    const u = this.rowsOf('users', cols.users, this.params.userCol);
    const it = this.rowsOf('items', cols.items, this.params.itemCol);
    const out = new Map<number, Set<number>>();
    for (let j = 0; j < cols.numRows; j++) {
      const [q, t] = side === 'users' ? [u[j]!, it[j]!] : [it[j]!, u[j]!];
      if (q < 0 || t < 0) continue;
      let set = out.get(q);
      if (!set) out.set(q, (set = new Set()));
      set.add(t);
    }
    return out;
  }

  private async subsetIndices(sel: ArrayLike<number> | readonly string[] | RatingsInput, side: 'users' | 'items', col: string): Promise<Int32Array> {
    let raw: RawIds;
    if (sel instanceof Float64Array || sel instanceof Int32Array || (Array.isArray(sel) && sel.every((x) => typeof x === 'number'))) {
      raw = Float64Array.from(sel as ArrayLike<number>);
    } else if (Array.isArray(sel) && sel.length > 0 && sel.every((x) => typeof x === 'string')) {
      raw = sel as string[];
    } else {
      const m = await materialize(sel as RatingsInput);
      const t = Array.isArray(m) ? tableFromJSON(m as Record<string, unknown>[]) : (m as Table);
      raw = (await readRawRatingColumns(t, col, col, undefined)).users;
    }
    const idx = this.rowsOf(side, raw, col);
    const seen = new Set<number>();
    const out: number[] = [];
    for (const i of idx) if (i >= 0 && !seen.has(i)) (seen.add(i), out.push(i));
    return Int32Array.from(out);
  }

  private async recommend(side: 'users' | 'items', subset: Int32Array | undefined, k: number, exclude: RatingsInput | undefined): Promise<Table> {
    optionRules('ALSModel recommendations').int('k', k, 1);
    const excluded = exclude === undefined ? undefined : await this.excludedTargets(side, exclude);
    const rank = this.rank;
    const q = side === 'users' ? this.userFactorMatrix : this.itemFactorMatrix;
    const t = side === 'users' ? this.itemFactorMatrix : this.userFactorMatrix;
    const rows = subset ?? Int32Array.from({ length: q.ids.length }, (_, i) => i);
    const numQ = rows.length;
    // A row's top list must reach k + (its excluded targets) deep for k to survive the filter. Rows
    // are grouped by that depth rounded up to a power of two, so one user with thousands of ratings
    // does not make every row's list (and the memory of all lists) that deep.
    const groups = new Map<number, number[]>();
    for (let r = 0; r < numQ; r++) {
      const need = k + (excluded?.get(rows[r]!)?.size ?? 0);
      const depth = need === k ? k : 2 ** Math.ceil(Math.log2(need));
      let g = groups.get(depth);
      if (!g) groups.set(depth, (g = []));
      g.push(r);
    }
    const targetRef = isInitialized() && numQ > 0 ? put(t.factors) : undefined;
    const listOf: Array<{ indices: Int32Array; scores: Float32Array; k: number; j: number }> = new Array(numQ);
    for (const [depth, members] of groups) {
      const queries = new Float32Array(members.length * rank);
      members.forEach((r, j) => queries.set(q.factors.subarray(rows[r]! * rank, (rows[r]! + 1) * rank), j * rank));
      const top = await this.topKOf(queries, members.length, depth, t, targetRef);
      members.forEach((r, j) => (listOf[r] = { ...top, j }));
    }
    if (targetRef) free(targetRef);
    // Per query row: its top targets in order, minus the excluded ones, at most k.
    const idxAll = new Int32Array(numQ * k);
    const scoreAll = new Float32Array(numQ * k);
    const offsets = new Int32Array(numQ + 1);
    let m = 0;
    for (let r = 0; r < numQ; r++) {
      const skip = excluded?.get(rows[r]!);
      const l = listOf[r]!;
      let kept = 0;
      for (let p = l.j * l.k; p < (l.j + 1) * l.k && kept < k; p++) {
        if (skip?.has(l.indices[p]!)) continue;
        idxAll[m] = l.indices[p]!;
        scoreAll[m] = l.scores[p]!;
        m++;
        kept++;
      }
      offsets[r + 1] = m;
    }
    const qCol = side === 'users' ? this.params.userCol : this.params.itemCol;
    const tCol = side === 'users' ? this.params.itemCol : this.params.userCol;
    const tIdVec = sideIdVector(t, idxAll.subarray(0, m));
    const structType = new Struct([new Field(tCol, tIdVec.type as DataType, false), new Field('rating', new Float32(), false)]);
    const structData = makeData({
      type: structType, length: m, nullCount: 0,
      children: [tIdVec.data[0]!, makeData({ type: new Float32(), length: m, data: scoreAll.subarray(0, m) })],
    });
    const list = makeData({ type: new List(new Field('element', structType, false)), length: numQ, nullCount: 0, valueOffsets: offsets, child: structData });
    return new Table({ [qCol]: sideIdVector(q, rows), recommendations: makeVector(list) });
  }

  /** Top `depth` targets of each query row (row-major, `k` = min(depth, targets) per row): blocked multiply in tasks on a cluster, else here. */
  private async topKOf(queries: Float32Array, numQ: number, depth: number, t: FactorMatrix, targetRef: ObjectRef<Float32Array> | undefined): Promise<{ indices: Int32Array; scores: Float32Array; k: number }> {
    const rank = this.rank;
    if (!targetRef || numQ === 0) return topK(queries, [t.factors], rank, depth);
    // Blocked matrix multiply in tasks: the targets once in the object store, query rows in chunks.
    const numChunks = Math.max(1, Math.min(numQ, Math.ceil((numQ * t.ids.length * rank) / 5e7), 64));
    const refs = [];
    for (let c = 0; c < numChunks; c++) {
      const r0 = Math.floor((c * numQ) / numChunks);
      const r1 = Math.floor(((c + 1) * numQ) / numChunks);
      refs.push(topKTask.remote(queries.slice(r0 * rank, r1 * rank), rank, depth, targetRef));
    }
    const parts = await get(refs);
    const kk = Math.min(depth, t.ids.length);
    const indices = new Int32Array(numQ * kk);
    const scores = new Float32Array(numQ * kk);
    let at = 0;
    for (const p of parts) {
      indices.set(p.indices, at);
      scores.set(p.scores, at);
      at += p.indices.length;
    }
    return { indices, scores, k: kk };
  }

  /**
   * Writes the model to `dir`: metadata.json (versioned, with checksums) and binary Float32/Float64
   * arrays, all at once (a staging folder renamed into place). Throws `ArtifactExistsError`, writing
   * nothing, when `dir` already holds something, unless `{ overwrite: true }`.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    await writeALSModel(dir, {
      rank: this.rank, params: this.params,
      userIds: this.userFactorMatrix.ids, userFactors: this.userFactorMatrix.factors,
      itemIds: this.itemFactorMatrix.ids, itemFactors: this.itemFactorMatrix.factors,
      userLabels: this.userFactorMatrix.labels, itemLabels: this.itemFactorMatrix.labels,
    }, options);
  }

  /** Reads a model saved with `save()`. Throws ModelFormatError (missing, truncated, corrupt) or ModelVersionError (newer format). */
  static async load(dir: string): Promise<ALSModel> {
    const m = await readALSModel(dir);
    const p = m.params;
    const str = (k: string, d: string): string => (typeof p[k] === 'string' ? (p[k] as string) : d);
    const params: ALSModelParams = {
      ...p,
      userCol: str('userCol', 'user'), itemCol: str('itemCol', 'item'), ratingCol: str('ratingCol', 'rating'),
      predictionCol: str('predictionCol', 'prediction'), coldStartStrategy: p.coldStartStrategy === 'drop' ? 'drop' : 'nan',
    };
    return new ALSModel(
      m.rank,
      { ids: m.userIds, factors: m.userFactors, rank: m.rank, labels: m.userLabels },
      { ids: m.itemIds, factors: m.itemFactors, rank: m.rank, labels: m.itemLabels },
      params,
    );
  }
}
