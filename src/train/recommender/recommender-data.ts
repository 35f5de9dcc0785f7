/**
 * From interactions and an item-feature table to the rows the two-tower network trains on: each
 * interaction is a positive, each gets `negatives` items sampled uniformly from those its user has
 * no row for (sampled once per fit: the `Trainer` trains on a fixed dataset), and a share of rows
 * hides the item id (`itemIdDropout`). Features are standardized over the catalogue.
 */
import { makeVector, Table, tableFromJSON } from 'apache-arrow';
import { InvalidTrainingDataError, MissingItemFeaturesError } from '../errors.js';
import { indexIds, lookupIds, materialize, readRatingColumns, type RatingsInput } from '../als/als-data.js';
import { seededRandom } from '../tune/search-space.js';

/** The catalogue: item ids (ascending) and their raw feature rows. */
export interface ItemFeatures {
  ids: Float64Array;
  /** ids.length × numFeatures, row-major. */
  features: Float32Array;
  numFeatures: number;
}

async function tableOf(input: RatingsInput): Promise<Table> {
  const m = await materialize(input);
  return Array.isArray(m) ? tableFromJSON(m as Record<string, unknown>[]) : (m as Table);
}

/** One row's features from a list/vector cell, or undefined when null, NaN, non-numeric or of another width. */
function listCell(v: unknown, width: number | undefined): Float32Array | undefined {
  if (v === null || v === undefined) return undefined;
  const arr = typeof (v as { toArray?: unknown }).toArray === 'function' ? (v as { toArray(): ArrayLike<unknown> }).toArray() : v;
  if (!Array.isArray(arr) && !ArrayBuffer.isView(arr)) return undefined;
  const a = arr as ArrayLike<unknown>;
  if (width !== undefined && a.length !== width) return undefined;
  const out = new Float32Array(a.length);
  for (let j = 0; j < a.length; j++) {
    if (a[j] === null || a[j] === undefined) return undefined;
    const x = Number(a[j]);
    if (!Number.isFinite(x)) return undefined;
    out[j] = x;
  }
  return out;
}

/**
 * Reads the item-feature table: the item column (integer ids, unique) and either the list column
 * `featuresCol` or the numeric `featureCols`. Rows sorted by id. A null/NaN/mis-sized feature row
 * is a MissingItemFeaturesError naming the items.
 */
export async function readItemFeatures(input: RatingsInput, itemCol: string, featuresCol: string, featureCols: readonly string[] | undefined): Promise<ItemFeatures> {
  const table = await tableOf(input);
  if (table.numRows === 0) throw new InvalidTrainingDataError('the item-feature table is empty: every item to score needs a feature row');
  const rawIds = (await readRatingColumns(table, itemCol, itemCol, undefined)).users;
  const cols = featureCols ?? [featuresCol];
  for (const c of cols) {
    if (!table.getChild(c)) throw new InvalidTrainingDataError(`the item-feature table has no column '${c}' (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`, c);
  }
  const n = table.numRows;
  const rows: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(n);
  if (featureCols) {
    const vecs = featureCols.map((c) => table.getChild(c)!);
    for (let r = 0; r < n; r++) rows[r] = listCell(vecs.map((v) => v.get(r) as unknown), featureCols.length);
  } else {
    const v = table.getChild(featuresCol)!;
    let width: number | undefined;
    for (let r = 0; r < n; r++) {
      rows[r] = listCell(v.get(r), width);
      width ??= rows[r]?.length;
    }
  }
  const bad: number[] = [];
  for (let r = 0; r < n; r++) if (!rows[r]) bad.push(rawIds[r]!);
  if (bad.length) {
    throw new MissingItemFeaturesError(
      `${bad.length} item(s) have null, NaN or mis-sized features in ${featureCols ? `columns ${featureCols.join(', ')}` : `column '${featuresCol}'`} (first: item ${bad[0]})`,
      bad.slice(0, 10), bad.length,
    );
  }
  const d = rows[0]!.length;
  if (d === 0) throw new InvalidTrainingDataError(`the item features in column '${featuresCol}' are empty vectors`, featuresCol);
  const { ids, index } = indexIds(rawIds);
  if (ids.length !== n) {
    const seen = new Set<number>();
    const dup = Array.from(rawIds).find((id) => (seen.has(id) ? true : (seen.add(id), false)));
    throw new InvalidTrainingDataError(`the item-feature table has more than one row for item ${dup} (one row per item)`, itemCol);
  }
  const features = new Float32Array(n * d);
  for (let r = 0; r < n; r++) features.set(rows[r]!, index[r]! * d);
  return { ids, features, numFeatures: d };
}

/** Per-column mean and standard deviation (std 0 → 1, so constant columns become 0). */
export function featureStats(f: ItemFeatures): { mean: Float32Array; std: Float32Array } {
  const d = f.numFeatures;
  const n = f.ids.length;
  const mean = new Float32Array(d);
  const std = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += f.features[i * d + j]!;
    const m = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (f.features[i * d + j]! - m) ** 2;
    mean[j] = m;
    std[j] = v > 0 ? Math.sqrt(v / n) : 1;
  }
  return { mean, std };
}

export function standardize(features: Float32Array, d: number, mean: Float32Array, std: Float32Array): Float32Array {
  const out = new Float32Array(features.length);
  for (let i = 0; i < features.length; i++) out[i] = (features[i]! - mean[i % d]!) / std[i % d]!;
  return out;
}

/** Interactions as dense indices: users indexed, items mapped onto the catalogue. */
export interface IndexedInteractions {
  userIds: Float64Array;
  /** Per user (dense index), its items (catalogue indices), deduplicated. */
  ptr: Int32Array;
  items: Int32Array;
}

export async function readInteractions(input: RatingsInput, userCol: string, itemCol: string, catalogue: Float64Array): Promise<IndexedInteractions> {
  const cols = await readRatingColumns(input, userCol, itemCol, undefined);
  if (cols.numRows === 0) throw new InvalidTrainingDataError('there are no interactions to train on (the ratings are empty)');
  const item = lookupIds(catalogue, cols.items);
  const missing = new Set<number>();
  for (let r = 0; r < cols.numRows; r++) if (item[r]! < 0) missing.add(cols.items[r]!);
  if (missing.size) {
    const list = [...missing].sort((a, b) => a - b);
    throw new MissingItemFeaturesError(
      `${list.length} rated item(s) have no row in the item-feature table (first: ${list.slice(0, 5).join(', ')}): every rated item needs features`,
      list.slice(0, 10), list.length,
    );
  }
  const { ids, index } = indexIds(cols.users);
  const sets = Array.from({ length: ids.length }, () => new Set<number>());
  for (let r = 0; r < cols.numRows; r++) sets[index[r]!]!.add(item[r]!);
  const ptr = new Int32Array(ids.length + 1);
  sets.forEach((s, u) => (ptr[u + 1] = ptr[u]! + s.size));
  const items = new Int32Array(ptr[ids.length]!);
  sets.forEach((s, u) => items.set(Int32Array.from(s).sort(), ptr[u]!));
  return { userIds: ids, ptr, items };
}

/** Column names of the training table. */
export const USER_COLUMN = 'user_index';
export const ITEM_COLUMN = 'item_slot';
export const LABEL_COLUMN = 'label';
export const featureColumn = (j: number): string => `f${j}`;

/**
 * The training table: one row per interaction (label 1) and `negatives` sampled rows per
 * interaction (label 0) — a different sample for each `epoch` — columns [user_index, item_slot, f0..f(d-1), label] (Float32). `slots[i]`
 * is item i's id-embedding row (0 = none); rows hide it with probability `idDropout`.
 */
export function trainingTable(
  x: IndexedInteractions, numItems: number, features: Float32Array, d: number, slots: Int32Array,
  o: { negatives: number; idDropout: number; seed: number; epoch?: number },
): Table {
  const numUsers = x.userIds.length;
  const positives = x.items.length;
  const maxRows = positives * (1 + o.negatives);
  const user = new Float32Array(maxRows);
  const slot = new Float32Array(maxRows);
  const label = new Float32Array(maxRows);
  const item = new Int32Array(maxRows);
  // Epoch 0 draws what a fit without per-epoch resampling draws; each later epoch its own sample.
  const rand = seededRandom(o.seed * 2_654_435_761 + 97 + (o.epoch ?? 0) * 1_000_003);
  let n = 0;
  const add = (u: number, i: number, y: number): void => {
    user[n] = u;
    item[n] = i;
    slot[n] = rand() < o.idDropout ? 0 : slots[i]!;
    label[n] = y;
    n++;
  };
  const rated = new Uint8Array(numItems);
  for (let u = 0; u < numUsers; u++) {
    const own = x.items.subarray(x.ptr[u]!, x.ptr[u + 1]!);
    for (const i of own) rated[i] = 1;
    const free = numItems - own.length;
    for (const i of own) {
      add(u, i, 1);
      for (let k = 0; k < o.negatives && free > 0; k++) {
        let j = Math.floor(rand() * numItems);
        while (rated[j]) j = Math.floor(rand() * numItems);
        add(u, j, 0);
      }
    }
    for (const i of own) rated[i] = 0;
  }
  const columns: Record<string, ReturnType<typeof makeVector>> = {
    [USER_COLUMN]: makeVector(user.subarray(0, n)),
    [ITEM_COLUMN]: makeVector(slot.subarray(0, n)),
  };
  for (let j = 0; j < d; j++) {
    const c = new Float32Array(n);
    for (let r = 0; r < n; r++) c[r] = features[item[r]! * d + j]!;
    columns[featureColumn(j)] = makeVector(c);
  }
  columns[LABEL_COLUMN] = makeVector(label.subarray(0, n));
  return new Table(columns);
}
