/**
 * From user input to ALS's blocked layout: read (user, item, rating) columns from an Arrow table,
 * an array of rows or a Dataset (anything with `toArrow()`), map arbitrary integer ids — or string
 * ids, through their sorted labels — to dense indices (sorted by id), split indices into
 * contiguous blocks, and build each block's ratings as
 * CSR whose columns point into the factor parts its solve task will receive.
 */
import { DataType, type Dictionary, type Table, type Vector } from 'apache-arrow';
import { InvalidIdError, InvalidTrainingDataError } from '../errors.js';
import type { RatingsBlock } from './kernels.js';

/** Anything with an Arrow form: a shoal Dataset (`toArrow()`), possibly async. */
export interface ArrowConvertible {
  toArrow(): Table | Promise<Table>;
}

/** What ALS accepts as input: an Arrow table, plain rows, or a Dataset. */
export type RatingsInput = Table | ReadonlyArray<Record<string, unknown>> | ArrowConvertible;

export interface RatingColumns {
  users: Float64Array;
  items: Float64Array;
  /** Undefined when the rating column was not requested. */
  ratings: Float32Array | undefined;
  numRows: number;
}

/** Like RatingColumns, with id columns that may hold strings. */
export interface RawRatingColumns {
  users: RawIds;
  items: RawIds;
  ratings: Float32Array | undefined;
  numRows: number;
}

const isTable = (x: unknown): x is Table =>
  typeof x === 'object' && x !== null && 'schema' in x && typeof (x as Table).getChild === 'function' && typeof (x as Table).numRows === 'number';

/** Resolves a Dataset to its Arrow table; passes tables and row arrays through. */
export async function materialize(input: RatingsInput): Promise<Table | ReadonlyArray<Record<string, unknown>>> {
  if (Array.isArray(input)) return input as ReadonlyArray<Record<string, unknown>>;
  if (isTable(input)) return input;
  if (typeof input === 'object' && input !== null && typeof (input as ArrowConvertible).toArrow === 'function') {
    const t = await (input as ArrowConvertible).toArrow();
    if (!isTable(t)) throw new InvalidTrainingDataError('input.toArrow() did not return an Arrow Table');
    return t;
  }
  throw new InvalidTrainingDataError(
    `ALS input must be an Arrow Table, an array of rows or a Dataset with toArrow() (got ${input === null ? 'null' : typeof input})`,
  );
}

function idFromValue(v: unknown, column: string, row: number): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (v === null || v === undefined) throw new InvalidIdError(column, row, v);
  throw new InvalidIdError(column, row, v, typeof v === 'string' ? `${ID_RULE}, not both in one column` : ID_RULE);
}

function columnOf(table: Table, name: string): Vector {
  const v = table.getChild(name);
  if (!v) {
    throw new InvalidTrainingDataError(
      `column "${name}" is missing (columns: ${table.schema.fields.map((f) => `"${f.name}"`).join(', ') || 'none'})`, name,
    );
  }
  return v;
}

function firstNull(v: Vector): number {
  for (let i = 0; i < v.length; i++) if (!v.isValid(i)) return i;
  return -1;
}

/** An id column as read: integer ids as numbers, or string ids. */
export type RawIds = Float64Array | readonly string[];

/** The rule ALS states when an id is neither an integer nor a string. */
export const ID_RULE = 'ids must be integers or strings';

const isStringType = (t: DataType): boolean =>
  DataType.isUtf8(t) || DataType.isLargeUtf8(t) || (DataType.isDictionary(t) && isStringType((t as Dictionary).dictionary));

function readIdColumn(table: Table, name: string): RawIds {
  const v = columnOf(table, name);
  const n = table.numRows;
  if (v.nullCount > 0) {
    const r = firstNull(v);
    throw new InvalidIdError(name, r, null);
  }
  if (isStringType(v.type)) {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = v.get(i) as string;
    return out;
  }
  if (!DataType.isInt(v.type) && !DataType.isFloat(v.type)) {
    throw new InvalidIdError(name, 0, n > 0 ? v.get(0) : undefined, ID_RULE);
  }
  const arr = v.toArray() as ArrayLike<number | bigint>;
  const out = new Float64Array(n);
  if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) out[i] = idFromValue(arr[i], name, i);
  } else {
    const nums = arr as ArrayLike<number>;
    for (let i = 0; i < n; i++) {
      const x = nums[i]!;
      if (!Number.isSafeInteger(x)) throw new InvalidIdError(name, i, x, ID_RULE);
      out[i] = x;
    }
  }
  return out;
}

function readRatingColumn(table: Table, name: string): Float32Array {
  const v = columnOf(table, name);
  const n = table.numRows;
  if (!DataType.isInt(v.type) && !DataType.isFloat(v.type)) {
    throw new InvalidTrainingDataError(`column "${name}" must be numeric (it is ${String(v.type)})`, name);
  }
  if (v.nullCount > 0) {
    const r = firstNull(v);
    throw new InvalidTrainingDataError(`${name} at row ${r} is null; drop or fill missing ratings first`, name, r);
  }
  const arr = v.toArray() as ArrayLike<number | bigint>;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = Number(arr[i]!);
    if (!Number.isFinite(x)) throw new InvalidTrainingDataError(`${name} at row ${i} must be a finite number (got ${x})`, name, i);
    out[i] = x;
  }
  return out;
}

/**
 * Reads the id columns (integers or strings) and the rating column when `ratingCol` is given.
 * Throws InvalidIdError for null ids and ids that are neither integers nor strings, and
 * InvalidTrainingDataError for missing columns and null, NaN or non-numeric ratings.
 */
export async function readRawRatingColumns(input: RatingsInput, userCol: string, itemCol: string, ratingCol: string | undefined): Promise<RawRatingColumns> {
  const m = await materialize(input);
  if (isTable(m)) {
    const users = readIdColumn(m, userCol);
    const items = readIdColumn(m, itemCol);
    const ratings = ratingCol === undefined ? undefined : readRatingColumn(m, ratingCol);
    return { users, items, ratings, numRows: m.numRows };
  }
  const n = m.length;
  // A column of rows holds strings when its first row does; every other row must then too.
  const first = n > 0 && typeof m[0] === 'object' && m[0] !== null ? m[0] : undefined;
  const userStrings = typeof first?.[userCol] === 'string';
  const itemStrings = typeof first?.[itemCol] === 'string';
  const users: Float64Array | string[] = userStrings ? new Array<string>(n) : new Float64Array(n);
  const items: Float64Array | string[] = itemStrings ? new Array<string>(n) : new Float64Array(n);
  const ratings = ratingCol === undefined ? undefined : new Float32Array(n);
  const put = (out: Float64Array | string[], v: unknown, col: string, i: number): void => {
    if (out instanceof Float64Array) out[i] = typeof v === 'number' && Number.isSafeInteger(v) ? v : idFromValue(v, col, i);
    else if (typeof v === 'string') out[i] = v;
    else throw new InvalidIdError(col, i, v, `${ID_RULE}, not both in one column (row 0 is a string)`);
  };
  for (let i = 0; i < n; i++) {
    const row = m[i];
    if (typeof row !== 'object' || row === null) throw new InvalidTrainingDataError(`row ${i} must be an object (got ${row === null ? 'null' : typeof row})`, undefined, i);
    put(users, row[userCol], userCol, i);
    put(items, row[itemCol], itemCol, i);
    if (ratings && ratingCol !== undefined) {
      const r = row[ratingCol];
      if (typeof r !== 'number' || !Number.isFinite(r)) {
        throw new InvalidTrainingDataError(`${ratingCol} at row ${i} must be a finite number (got ${r === undefined ? 'undefined' : JSON.stringify(r)})`, ratingCol, i);
      }
      ratings[i] = r;
    }
  }
  return { users, items, ratings, numRows: n };
}

/** Integer ids only: like readRawRatingColumns, with InvalidIdError for a string id column. */
export async function readRatingColumns(input: RatingsInput, userCol: string, itemCol: string, ratingCol: string | undefined): Promise<RatingColumns> {
  const c = await readRawRatingColumns(input, userCol, itemCol, ratingCol);
  const numeric = (ids: RawIds, col: string): Float64Array => {
    if (ids instanceof Float64Array) return ids;
    if (ids.length === 0) return new Float64Array(0);
    throw new InvalidIdError(col, 0, ids[0]);
  };
  return { users: numeric(c.users, userCol), items: numeric(c.items, itemCol), ratings: c.ratings, numRows: c.numRows };
}

/**
 * Dense indices of raw ids. Integer ids as `indexIds`; string ids get `labels` (sorted, unique)
 * and `ids` 0..labels.length-1, the position of each label.
 */
export function indexRawIds(raw: RawIds): IdIndex & { labels: string[] | undefined } {
  if (raw instanceof Float64Array) return { ...indexIds(raw), labels: undefined };
  const labels = Array.from(new Set(raw)).sort();
  const pos = labelPositions(labels);
  const index = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) index[i] = pos.get(raw[i]!)!;
  return { ids: Float64Array.from(labels, (_, k) => k), index, labels };
}

/** Position of each label, for `encodeIds`. */
export function labelPositions(labels: readonly string[]): Map<string, number> {
  const pos = new Map<string, number>();
  labels.forEach((l, k) => pos.set(l, k));
  return pos;
}

/**
 * Raw ids of a query (transform, recommend, exclude) in the model's id space: numbers as they are
 * for a model with integer ids; for a model with string labels (`positions` from labelPositions),
 * each string's label position, or -1 when unseen. Throws when the query's kind of ids differs
 * from the model's.
 */
export function encodeIds(raw: RawIds, positions: ReadonlyMap<string, number> | undefined, column: string): Float64Array {
  if (positions === undefined) {
    if (raw instanceof Float64Array) return raw;
    if (raw.length === 0) return new Float64Array(0);
    throw new InvalidIdError(column, 0, raw[0], 'the model was trained on integer ids');
  }
  if (raw instanceof Float64Array) {
    if (raw.length === 0) return raw;
    throw new InvalidTrainingDataError(`column "${column}" holds numbers but the model was trained on string ids; pass the ids as strings`, column, 0);
  }
  return Float64Array.from(raw, (s) => positions.get(s) ?? -1);
}

/** Dense indices of ids: `ids` sorted ascending and unique, `index[i]` the position of row i's id. */
export interface IdIndex {
  ids: Float64Array;
  index: Int32Array;
}

/** Maps raw integer ids to dense indices 0..n-1 in ascending id order. */
export function indexIds(raw: Float64Array): IdIndex {
  const n = raw.length;
  const index = new Int32Array(n);
  if (n === 0) return { ids: new Float64Array(0), index };
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = raw[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min + 1;
  if (range <= Math.max(1 << 24, 4 * n)) {
    // Compact id range: a lookup table, no hashing or sorting.
    const lookup = new Int32Array(range).fill(-1);
    for (let i = 0; i < n; i++) lookup[raw[i]! - min] = 0;
    let k = 0;
    for (let v = 0; v < range; v++) if (lookup[v] === 0) lookup[v] = k++;
    const ids = new Float64Array(k);
    for (let v = 0; v < range; v++) if (lookup[v]! >= 0) ids[lookup[v]!] = v + min;
    for (let i = 0; i < n; i++) index[i] = lookup[raw[i]! - min]!;
    return { ids, index };
  }
  const sorted = Float64Array.from(raw).sort();
  let k = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[k++] = sorted[i]!;
  const ids = sorted.slice(0, k);
  const map = new Map<number, number>();
  for (let i = 0; i < k; i++) map.set(ids[i]!, i);
  for (let i = 0; i < n; i++) index[i] = map.get(raw[i]!)!;
  return { ids, index };
}

/** Position of each id of `query` in sorted `ids`, or -1 (binary search). */
export function lookupIds(ids: Float64Array, query: Float64Array): Int32Array {
  const out = new Int32Array(query.length);
  for (let q = 0; q < query.length; q++) {
    const v = query[q]!;
    let lo = 0;
    let hi = ids.length - 1;
    out[q] = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = ids[mid]!;
      if (x === v) {
        out[q] = mid;
        break;
      }
      if (x < v) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return out;
}

/** Start index of each of `numBlocks` contiguous blocks over n rows, plus n at the end. */
export function blockBounds(n: number, numBlocks: number): Int32Array {
  const b = new Int32Array(numBlocks + 1);
  for (let i = 0; i <= numBlocks; i++) b[i] = Math.floor((i * n) / numBlocks);
  return b;
}

/** Block of each row, from bounds. */
export function blockOfRows(bounds: Int32Array): Uint16Array {
  const n = bounds[bounds.length - 1]!;
  const out = new Uint16Array(n);
  for (let b = 0; b + 1 < bounds.length; b++) out.fill(b, bounds[b]!, bounds[b + 1]!);
  return out;
}

/** Ratings grouped by row (counting sort; input order kept within a row). */
export interface Csr {
  rowPtr: Int32Array;
  cols: Int32Array;
  values: Float32Array;
}

export function buildCsr(rows: Int32Array, cols: Int32Array, values: Float32Array, numRows: number): Csr {
  const rowPtr = new Int32Array(numRows + 1);
  for (let i = 0; i < rows.length; i++) rowPtr[rows[i]! + 1]!++;
  for (let r = 0; r < numRows; r++) rowPtr[r + 1]! += rowPtr[r]!;
  const fill = rowPtr.slice(0, numRows);
  const outCols = new Int32Array(rows.length);
  const outVals = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const at = fill[rows[i]!]!++;
    outCols[at] = cols[i]!;
    outVals[at] = values[i]!;
  }
  return { rowPtr, cols: outCols, values: outVals };
}

export interface BlockedRatings {
  blocks: RatingsBlock[];
  /**
   * Gather mode only: `gather[d][s]` lists the rows of source block s (local indices, ascending)
   * that destination block d needs — Spark's out-blocks.
   */
  gather: Int32Array[][] | undefined;
}

/**
 * Splits a CSR (rows = destination entities) into destination blocks. Columns are rewritten to
 * (part, row): with `gather` false, parts are whole source blocks; with `gather` true, part s is
 * the compacted list of rows of source block s that this destination block references.
 */
export function blockRatings(csr: Csr, dstBounds: Int32Array, srcBounds: Int32Array, gather: boolean): BlockedRatings {
  const srcBlockOf = blockOfRows(srcBounds);
  const numDst = dstBounds.length - 1;
  const numSrc = srcBounds.length - 1;
  const blocks: RatingsBlock[] = [];
  const gatherLists: Int32Array[][] = [];
  const marks = gather ? Array.from({ length: numSrc }, (_, s) => new Int32Array(srcBounds[s + 1]! - srcBounds[s]!).fill(-1)) : [];
  for (let d = 0; d < numDst; d++) {
    const r0 = dstBounds[d]!;
    const r1 = dstBounds[d + 1]!;
    const k0 = csr.rowPtr[r0]!;
    const k1 = csr.rowPtr[r1]!;
    const rowPtr = new Int32Array(r1 - r0 + 1);
    for (let r = r0; r <= r1; r++) rowPtr[r - r0] = csr.rowPtr[r]! - k0;
    const colPart = new Uint16Array(k1 - k0);
    const colRow = new Int32Array(k1 - k0);
    for (let k = k0; k < k1; k++) {
      const c = csr.cols[k]!;
      const s = srcBlockOf[c]!;
      colPart[k - k0] = s;
      colRow[k - k0] = c - srcBounds[s]!;
    }
    if (gather) {
      for (let k = 0; k < colRow.length; k++) marks[colPart[k]!]![colRow[k]!] = 0;
      const lists: Int32Array[] = [];
      for (let s = 0; s < numSrc; s++) {
        const mark = marks[s]!;
        let count = 0;
        for (let i = 0; i < mark.length; i++) if (mark[i] === 0) count++;
        const list = new Int32Array(count);
        let pos = 0;
        for (let i = 0; i < mark.length; i++) {
          if (mark[i] === 0) {
            list[pos] = i;
            mark[i] = pos++;
          }
        }
        lists.push(list);
      }
      for (let k = 0; k < colRow.length; k++) colRow[k] = marks[colPart[k]!]![colRow[k]!]!;
      for (let s = 0; s < numSrc; s++) {
        const mark = marks[s]!;
        for (const i of lists[s]!) mark[i] = -1;
      }
      gatherLists.push(lists);
    }
    blocks.push({ numRows: r1 - r0, rowPtr, colPart, colRow, ratings: csr.values.slice(k0, k1) });
  }
  return { blocks, gather: gather ? gatherLists : undefined };
}
