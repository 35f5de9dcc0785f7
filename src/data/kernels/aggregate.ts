/**
 * Two-phase grouped aggregation for distributed execution:
 *
 *   partialAggregate(partition)  → state table (keys + state columns), one row per group
 *   hashPartition(states, keys)  → route each group's states to one reducer
 *   mergeAggregates(states[])    → state table, one row per group (associative, commutative)
 *   finalizeAggregates(state)    → result table
 *
 * States are ordinary Arrow tables so they shuffle like any other partition. Per aggregate the state is:
 * count → n; sum → sum + non-null count; mean → sum + n; min/max → the value (input type);
 * stddev → n, mean, M2 (Welford, merged with Chan et al.); countDistinct → list of distinct values;
 * collectList → list of values. Sums are accumulated in float64 (exact for integers up to 2^53).
 * With no keys the result has exactly one row, even for empty input (SQL global aggregate).
 */
import * as arrow from 'apache-arrow';
import { invalidOption, SchemaMismatchError } from '../errors.js';
import { type Column, columnFromValues, columnFromVector, columnToVector } from '../types/column.js';
import { compareNumbers, compareValues } from '../types/compare.js';
import { type LogicalType, arrowTypeOf, isListType, isNumericType, typeToString } from '../types/logical-type.js';
import { concatTables } from './concat.js';
import { partitionByHashes } from './hash-partition.js';
import { quantileStateFinal, quantileStateMerge, quantileStatePartial, sketchK } from './quantile-sketch.js';
import { denseKeyRange, groupIds, groupIdsPartitioned, type GroupIds, hashRows, keyColumns } from './row-key.js';
import { requireColumn } from './table-util.js';
import { tableFromVectors, takeVector } from './take.js';

export type AggOp = 'count' | 'sum' | 'mean' | 'min' | 'max' | 'countDistinct' | 'stddev' | 'collectList' | 'approxQuantile';

export interface AggSpec {
  readonly op: AggOp;
  /** Input column; omit for `count` to count rows (`count(*)`). */
  readonly column?: string;
  /** Output column name. @default `${op}(${column ?? '*'})` */
  readonly as?: string;
  /** approxQuantile: the quantile(s) in [0, 1]; one gives a float64 column, a list a list<float64> column. */
  readonly probability?: number | readonly number[];
  /** approxQuantile: rank error as a fraction of the group's values (see quantile-sketch.ts); 0 = exact. @default 0.0001 */
  readonly relativeError?: number;
}

/** Default approxQuantile rank error (Spark's default accuracy 10000). */
export const DEFAULT_QUANTILE_RELATIVE_ERROR = 1e-4;

/** Builders for aggregate specs: `agg.sum('price', 'total')`. */
export const agg = {
  count: (column?: string, as?: string): AggSpec => ({ op: 'count', ...(column !== undefined ? { column } : {}), ...(as !== undefined ? { as } : {}) }),
  sum: (column: string, as?: string): AggSpec => ({ op: 'sum', column, ...(as !== undefined ? { as } : {}) }),
  mean: (column: string, as?: string): AggSpec => ({ op: 'mean', column, ...(as !== undefined ? { as } : {}) }),
  min: (column: string, as?: string): AggSpec => ({ op: 'min', column, ...(as !== undefined ? { as } : {}) }),
  max: (column: string, as?: string): AggSpec => ({ op: 'max', column, ...(as !== undefined ? { as } : {}) }),
  countDistinct: (column: string, as?: string): AggSpec => ({ op: 'countDistinct', column, ...(as !== undefined ? { as } : {}) }),
  stddev: (column: string, as?: string): AggSpec => ({ op: 'stddev', column, ...(as !== undefined ? { as } : {}) }),
  collectList: (column: string, as?: string): AggSpec => ({ op: 'collectList', column, ...(as !== undefined ? { as } : {}) }),
  /** Approximate quantile(s) of a numeric column from a mergeable sketch (rank within relativeError·N + 1 of q·N). */
  approxQuantile: (column: string, probability: number | readonly number[], options: { relativeError?: number; as?: string } = {}): AggSpec => {
    const spec: AggSpec = {
      op: 'approxQuantile',
      column,
      probability,
      ...(options.relativeError !== undefined ? { relativeError: options.relativeError } : {}),
      ...(options.as !== undefined ? { as: options.as } : {}),
    };
    validateQuantileSpec(spec);
    return spec;
  },
} as const;

export function aggOutputName(spec: AggSpec): string {
  return spec.as ?? `${spec.op}(${spec.column ?? '*'})`;
}

const STATE_PARTS: Record<AggOp, readonly string[]> = {
  count: ['n'],
  sum: ['sum', 'n'],
  mean: ['sum', 'n'],
  min: ['v'],
  max: ['v'],
  countDistinct: ['set'],
  stddev: ['n', 'mean', 'm2'],
  collectList: ['list'],
  approxQuantile: ['values', 'weights'],
};

/**
 * Name of a state column. The sum and the non-null count of a column are one state whichever
 * aggregates need them (sum, mean, count of that column), so they are computed and shuffled once.
 */
function stateName(spec: AggSpec, part: string): string {
  switch (spec.op) {
    case 'sum':
    case 'mean':
      return part === 'sum' ? `$sum(${spec.column!})` : `$n(${spec.column!})`;
    case 'count':
      return spec.column === undefined ? '$rows' : `$n(${spec.column})`;
    default:
      return `${aggOutputName(spec)}$${part}`;
  }
}

/** Type of the sum state of a numeric column: int64 for integers (so `sum` stays an integer), else float64. */
function sumVector(c: Column, s: Float64Array): arrow.Vector {
  return c.type === 'int32' || c.type === 'int64' ? columnToVector({ type: 'int64', length: s.length, values: s, valid: null }) : f64Vector(s);
}

function validateSpecs(keys: readonly string[], aggs: readonly AggSpec[]): void {
  const names = new Set(keys);
  for (const a of aggs) {
    if (!(a.op in STATE_PARTS)) throw invalidOption('aggs[].op', `must be one of ${Object.keys(STATE_PARTS).join(', ')}; got ${String(a.op)}`);
    if (a.column === undefined && a.op !== 'count') throw invalidOption(`aggs[${aggOutputName(a)}].column`, `is required for ${a.op}`);
    if (a.op === 'approxQuantile') validateQuantileSpec(a);
    const name = aggOutputName(a);
    if (names.has(name)) throw invalidOption('aggs[].as', `must be unique and differ from key names; "${name}" repeats`);
    names.add(name);
  }
}

function validateQuantileSpec(a: AggSpec): void {
  const name = aggOutputName(a);
  const ps = typeof a.probability === 'number' ? [a.probability] : a.probability;
  if (ps === undefined || !Array.isArray(ps) || ps.length === 0) throw invalidOption(`${name} probability`, 'is required: a number or a non-empty list of numbers in [0, 1]');
  for (const p of ps) if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw invalidOption(`${name} probability`, `must be in [0, 1]; got ${String(p)}`);
  const e = a.relativeError ?? DEFAULT_QUANTILE_RELATIVE_ERROR;
  if (typeof e !== 'number' || !(e >= 0 && e < 1)) throw invalidOption(`${name} relativeError`, `must be in [0, 1); got ${String(e)}`);
}

/** Per-group accumulators over float64 arrays, shared by both phases. */
class Groups {
  constructor(
    readonly groupOf: Int32Array,
    readonly numGroups: number,
  ) {}
}

function isValid(c: Column, i: number): boolean {
  return c.valid === null || c.valid[i] === 1;
}

function f64(n: number): Float64Array {
  return new Float64Array(n);
}

function f64Vector(values: Float64Array, valid?: Uint8Array): arrow.Vector {
  return columnToVector({ type: 'float64', length: values.length, values, valid: valid ?? null });
}

function groupKeys(table: arrow.Table, keys: readonly string[], ids?: GroupIds, cols?: readonly Column[]): { groups: Groups; keyVectors: arrow.Vector[]; hashes: Uint32Array | null } {
  const n = table.numRows;
  if (keys.length === 0) return { groups: new Groups(new Int32Array(n), 1), keyVectors: [], hashes: null };
  const keyCols = cols ?? keyColumns(table, keys);
  const { groupOf, firstRows, numGroups, groupHash } = ids ?? groupIds(keyCols, n);
  const keyVectors = keys.map((k, i) => keyVector(requireColumn(table, k), keyCols[i]!, firstRows));
  return { groups: new Groups(groupOf, numGroups), keyVectors, hashes: groupHash };
}

/**
 * The key values of each group (rows `firstRows` of a key column). A key split over several chunks
 * (concatenated states) is gathered from the column form already made for grouping when that
 * converts back to the same Arrow type, instead of joining the chunks first.
 */
function keyVector(v: arrow.Vector, c: Column, firstRows: Int32Array): arrow.Vector {
  const numeric = c.type === 'int32' || c.type === 'int64' || c.type === 'float64';
  if (v.data.length <= 1 || !numeric || !arrow.util.compareTypes(v.type as arrow.DataType, arrowTypeOf(c.type))) return takeVector(v, firstRows);
  const G = firstRows.length;
  const src = c.values as Float64Array | Int32Array;
  const values = c.type === 'int32' ? new Int32Array(G) : new Float64Array(G);
  for (let g = 0; g < G; g++) values[g] = src[firstRows[g]!]!;
  let valid: Uint8Array | null = null;
  if (c.valid !== null) {
    valid = new Uint8Array(G);
    for (let g = 0; g < G; g++) valid[g] = c.valid[firstRows[g]!]!;
  }
  if (c.exact === undefined) return columnToVector({ type: c.type, length: G, values, valid });
  const exact = new BigInt64Array(G);
  for (let g = 0; g < G; g++) exact[g] = c.exact[firstRows[g]!]!;
  return columnToVector({ type: c.type, length: G, values, valid, exact });
}

/** The values of a numeric column as float64 (the column's own array unless it is int32). */
function numericF64(c: Column): Float64Array {
  return c.values instanceof Int32Array ? new Float64Array(c.values) : (c.values as Float64Array);
}

/** sum[g] += x and count[g] += 1 for the valid rows of a numeric column. */
function sumCountInto(vals: Float64Array, valid: Uint8Array | null, groupOf: Int32Array, sum: Float64Array, count: Float64Array, n: number): void {
  if (valid === null) {
    for (let i = 0; i < n; i++) {
      const g = groupOf[i]!;
      sum[g]! += vals[i]!;
      count[g]!++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (valid[i] !== 1) continue;
      const g = groupOf[i]!;
      sum[g]! += vals[i]!;
      count[g]!++;
    }
  }
}

/** out[g] += vals[i] over every row (state columns have no nulls). */
function addInto(vals: Float64Array, groupOf: Int32Array, out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[groupOf[i]!]! += vals[i]!;
}

/** Rows per group. */
function countRows(groupOf: Int32Array, out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[groupOf[i]!]!++;
}

/** Index of the min/max row per group (-1 when the group has no non-null value). */
function extremeRows(c: Column, g: Groups, wantMax: boolean): Int32Array {
  const best = new Int32Array(g.numGroups).fill(-1);
  const exact = c.exact;
  const cmp: (a: number, b: number) => number =
    exact !== undefined
      ? (a, b) => (exact[a]! < exact[b]! ? -1 : exact[a]! > exact[b]! ? 1 : 0)
      : c.type === 'utf8' || c.type === 'bool' || isListType(c.type)
      ? (a, b) => compareValues((c.values as unknown[])[a] ?? (c.values as Uint8Array)[a], (c.values as unknown[])[b] ?? (c.values as Uint8Array)[b])
      : (a, b) => compareNumbers((c.values as Float64Array)[a]!, (c.values as Float64Array)[b]!);
  for (let i = 0; i < c.length; i++) {
    if (!isValid(c, i)) continue;
    const grp = g.groupOf[i]!;
    const cur = best[grp]!;
    if (cur < 0) best[grp] = i;
    else {
      const r = cmp(i, cur);
      if (wantMax ? r > 0 : r < 0) best[grp] = i;
    }
  }
  return best;
}

function listState(c: Column, g: Groups, distinctValues: boolean, fromState: boolean): Column {
  const lists: unknown[][] = Array.from({ length: g.numGroups }, () => []);
  const seen = distinctValues ? Array.from({ length: g.numGroups }, () => new Set<string>()) : null;
  const elemType: LogicalType = fromState ? (c.type as { list: LogicalType }).list : c.type;
  const push = (grp: number, v: unknown): void => {
    if (v === null) return;
    if (seen !== null) {
      const k = typeof v === 'number' && v === 0 ? '0' : typeof v === 'string' ? `s${v}` : JSON.stringify(v);
      if (seen[grp]!.has(k)) return;
      seen[grp]!.add(k);
    }
    lists[grp]!.push(v);
  };
  for (let i = 0; i < c.length; i++) {
    if (!isValid(c, i)) continue;
    const grp = g.groupOf[i]!;
    if (fromState) for (const v of (c.values as unknown[][])[i]!) push(grp, v);
    else push(grp, c.type === 'bool' ? (c.values as Uint8Array)[i] === 1 : (c.values as unknown[])[i]);
  }
  return columnFromValues({ list: elemType }, lists);
}

function inputColumn(table: arrow.Table, spec: AggSpec): Column {
  const name = spec.column!;
  const c = columnFromVector(requireColumn(table, name), name);
  if ((spec.op === 'sum' || spec.op === 'mean' || spec.op === 'stddev' || spec.op === 'approxQuantile') && !isNumericType(c.type) && c.type !== 'null') {
    throw new SchemaMismatchError(`${spec.op}(${name}) needs a numeric column, but "${name}" is ${typeToString(c.type)}`, name);
  }
  return c;
}

/** Phase 1: aggregates one partition into a state table (keys + state columns, one row per group). */
export function partialAggregate(table: arrow.Table, keys: readonly string[], aggs: readonly AggSpec[]): arrow.Table {
  validateSpecs(keys, aggs);
  return groupedStates(table, keys, aggs).state;
}

/**
 * Phase 1 followed by the shuffle's routing: the state table of one partition split into
 * `numPartitions` tables by the hash of the keys (as `hashPartition` would split it), reusing the
 * hashes computed while grouping. When the keys barely repeat (more than half of a sample of rows are
 * distinct keys) grouping would not shrink the data, so each row becomes its own state row instead
 * (`rowStates`) — the merge phase groups them; the result is the same.
 */
export function partialAggregatePartitioned(table: arrow.Table, keys: readonly string[], aggs: readonly AggSpec[], numPartitions: number): arrow.Table[] {
  validateSpecs(keys, aggs);
  if (keys.length === 0) return [groupedStates(table, keys, aggs).state];
  const n = table.numRows;
  const cols = keyColumns(table, keys);
  // Grouping one integer key in a small range costs little (no hashing), so it always comes first.
  const dense = cols.length === 1 && denseKeyRange(cols[0]!, n) !== null;
  if (!dense && mostlyDistinct(table, keys, aggs)) {
    const { state, hashes } = rowStates(table, keys, aggs);
    return partitionByHashes(state, hashes, numPartitions);
  }
  if (numPartitions === 1) return [groupedStates(table, keys, aggs, groupIds(cols, n), cols).state];
  // Groups numbered partition by partition: each partition's states are a zero-copy slice.
  const { ids, starts } = groupIdsPartitioned(cols, n, numPartitions);
  const { state } = groupedStates(table, keys, aggs, ids, cols);
  return Array.from({ length: numPartitions }, (_, p) => state.slice(starts[p]!, starts[p + 1]!));
}

/** Rows sampled to decide whether to group before a shuffle. */
const DISTINCT_SAMPLE_ROWS = 16_384;

/** Aggregates with a one-row state (`rowStates`); others (lists of values, sketches) always group first. */
const ROW_STATE_OPS: ReadonlySet<AggOp> = new Set<AggOp>(['count', 'sum', 'mean', 'min', 'max', 'stddev']);

/** True when more than half of the first rows of a large partition have distinct keys. */
function mostlyDistinct(table: arrow.Table, keys: readonly string[], aggs: readonly AggSpec[]): boolean {
  if (table.numRows < 2 * DISTINCT_SAMPLE_ROWS || !aggs.every((a) => ROW_STATE_OPS.has(a.op))) return false;
  return groupIds(keyColumns(table, keys), DISTINCT_SAMPLE_ROWS).numGroups * 2 > DISTINCT_SAMPLE_ROWS;
}

function identity(n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

/** 1 for valid rows, 0 for nulls, as float64 (a count state). */
function validCounts(c: Column): Float64Array {
  const n = f64(c.length);
  if (c.type === 'null') return n;
  if (c.valid === null) return n.fill(1);
  for (let i = 0; i < c.length; i++) n[i] = c.valid[i]!;
  return n;
}

/** The values of a numeric column as float64, nulls as 0 (a sum state); always a fresh array. */
function valuesOrZero(c: Column): Float64Array {
  const s = f64(c.length);
  if (c.type === 'null') return s;
  s.set(c.values as Float64Array | Int32Array);
  if (c.valid !== null) for (let i = 0; i < c.length; i++) if (c.valid[i] !== 1) s[i] = 0;
  return s;
}

/**
 * The columns of a state table being built: the keys first, then each named state once (sum, mean
 * and count of one column share theirs, so a later aggregate may ask for one that is already there).
 */
class StateColumns {
  private readonly fields: arrow.Field[];
  private readonly vectors: arrow.Vector[];
  private readonly names = new Set<string>();
  constructor(keys: readonly string[], keyVectors: readonly arrow.Vector[]) {
    this.fields = keys.map((k, i) => new arrow.Field(k, keyVectors[i]!.type as arrow.DataType, true));
    this.vectors = [...keyVectors];
  }
  /** True when the state is already in the table (shared with an earlier aggregate). */
  has(name: string): boolean {
    return this.names.has(name);
  }
  /** True when a column already in the table is `v`'s own single chunk. */
  holds(v: arrow.Vector): boolean {
    return this.vectors.some((u) => u.data.length === 1 && u.data[0] === v.data[0]);
  }
  add(name: string, v: arrow.Vector): void {
    if (this.names.has(name)) return;
    this.names.add(name);
    this.fields.push(new arrow.Field(name, v.type as arrow.DataType, true));
    this.vectors.push(v);
  }
  table(numRows: number): arrow.Table {
    return tableFromVectors(this.fields, this.vectors, numRows);
  }
}

/**
 * The state table that treats every row as its own group (same columns and types as
 * `groupedStates`), with the row hashes of the keys. Only for aggregates in ROW_STATE_OPS.
 */
function rowStates(table: arrow.Table, keys: readonly string[], aggs: readonly AggSpec[]): { state: arrow.Table; hashes: Uint32Array } {
  const n = table.numRows;
  const keyVectors = keys.map((k) => requireColumn(table, k));
  const states = new StateColumns(keys, keyVectors);
  const out = (spec: AggSpec, part: string, v: arrow.Vector): void => states.add(stateName(spec, part), v);
  const has = (spec: AggSpec, part: string): boolean => states.has(stateName(spec, part));
  for (const spec of aggs) {
    if (spec.op === 'count') {
      if (!has(spec, 'n')) out(spec, 'n', f64Vector(spec.column === undefined ? f64(n).fill(1) : validCounts(columnFromVector(requireColumn(table, spec.column), spec.column))));
      continue;
    }
    const c = inputColumn(table, spec);
    switch (spec.op) {
      case 'sum':
      case 'mean': {
        if (!has(spec, 'sum')) out(spec, 'sum', sumVector(c, valuesOrZero(c)));
        if (!has(spec, 'n')) out(spec, 'n', f64Vector(validCounts(c)));
        break;
      }
      case 'min':
      case 'max': {
        // The input vector itself, copied when a key or another state already holds it: the IPC
        // writer mishandles a batch holding the same buffers twice (see unshareColumns).
        const v = requireColumn(table, spec.column!);
        out(spec, 'v', states.holds(v) ? takeVector(v, identity(n)) : v);
        break;
      }
      case 'stddev':
        out(spec, 'n', f64Vector(validCounts(c)));
        out(spec, 'mean', f64Vector(valuesOrZero(c)));
        out(spec, 'm2', f64Vector(f64(n)));
        break;
      default:
        throw new Error(`internal: ${spec.op} has no one-row state`);
    }
  }
  return { state: states.table(n), hashes: hashRows(keyColumns(table, keys), n) };
}

/** Groups one partition and aggregates each group into its state row; `hashes` are the groups' key hashes (null without keys). */
function groupedStates(table: arrow.Table, keys: readonly string[], aggs: readonly AggSpec[], ids?: GroupIds, cols?: readonly Column[]): { state: arrow.Table; hashes: Uint32Array | null } {
  const { groups: g, keyVectors, hashes } = groupKeys(table, keys, ids, cols);
  const G = g.numGroups;
  const states = new StateColumns(keys, keyVectors);
  const out = (spec: AggSpec, part: string, v: arrow.Vector): void => states.add(stateName(spec, part), v);
  const has = (spec: AggSpec, part: string): boolean => states.has(stateName(spec, part));
  const sumCounts = new Map<string, { s: Float64Array; n: Float64Array }>();
  for (const spec of aggs) {
    if (spec.op === 'count') {
      if (has(spec, 'n')) continue;
      const n = f64(G);
      if (spec.column === undefined) countRows(g.groupOf, n, table.numRows);
      else {
        const c = columnFromVector(requireColumn(table, spec.column), spec.column);
        for (let i = 0; i < c.length; i++) if (isValid(c, i) && c.type !== 'null') n[g.groupOf[i]!]!++;
      }
      out(spec, 'n', f64Vector(n));
      continue;
    }
    const c = inputColumn(table, spec);
    switch (spec.op) {
      case 'sum':
      case 'mean': {
        // sum and mean of one column share one pass (each state column still gets its own buffer).
        if (has(spec, 'sum') && has(spec, 'n')) break;
        let sc = sumCounts.get(spec.column!);
        if (sc === undefined) {
          sc = { s: f64(G), n: f64(G) };
          if (c.type !== 'null') sumCountInto(numericF64(c), c.valid, g.groupOf, sc.s, sc.n, c.length);
          sumCounts.set(spec.column!, sc);
        }
        const { s, n } = sc;
        out(spec, 'sum', sumVector(c, s));
        out(spec, 'n', f64Vector(n));
        break;
      }
      case 'min':
      case 'max':
        out(spec, 'v', takeVector(requireColumn(table, spec.column!), extremeRows(c, g, spec.op === 'max')));
        break;
      case 'stddev': {
        const n = f64(G);
        const mean = f64(G);
        const m2 = f64(G);
        const vals = c.values as Float64Array;
        if (c.type !== 'null') {
          for (let i = 0; i < c.length; i++) {
            if (!isValid(c, i)) continue;
            const grp = g.groupOf[i]!;
            const x = vals[i]!;
            const k = ++n[grp]!;
            const d = x - mean[grp]!;
            mean[grp]! += d / k;
            m2[grp]! += d * (x - mean[grp]!);
          }
        }
        out(spec, 'n', f64Vector(n));
        out(spec, 'mean', f64Vector(mean));
        out(spec, 'm2', f64Vector(m2));
        break;
      }
      case 'countDistinct':
      case 'collectList': {
        const part = spec.op === 'countDistinct' ? 'set' : 'list';
        out(spec, part, columnToVector(listState(c, g, spec.op === 'countDistinct', false)));
        break;
      }
      case 'approxQuantile': {
        const s = quantileStatePartial(c, g.groupOf, G, sketchK(spec.relativeError ?? DEFAULT_QUANTILE_RELATIVE_ERROR));
        out(spec, 'values', columnToVector(s.values));
        out(spec, 'weights', columnToVector(s.weights));
        break;
      }
    }
  }
  return { state: states.table(G), hashes };
}

function stateColumn(table: arrow.Table, spec: AggSpec, part: string): Column {
  const name = stateName(spec, part);
  return columnFromVector(requireColumn(table, name), name);
}

/** Phase 2: combines state tables (from any number of partials or earlier merges) into one row per group. */
export function mergeAggregates(partials: readonly arrow.Table[], keys: readonly string[], aggs: readonly AggSpec[]): arrow.Table {
  validateSpecs(keys, aggs);
  const nonEmpty = partials.filter((p) => p.numRows > 0);
  if (partials.length === 0) throw invalidOption('partials', 'must contain at least one state table');
  if (nonEmpty.length === 0) return partials[0]!;
  const table = concatTables(nonEmpty);
  const { groups: g, keyVectors } = groupKeys(table, keys);
  const G = g.numGroups;
  const states = new StateColumns(keys, keyVectors);
  const out = (spec: AggSpec, part: string, v: arrow.Vector): void => states.add(stateName(spec, part), v);
  const has = (spec: AggSpec, part: string): boolean => states.has(stateName(spec, part));
  const sumPart = (spec: AggSpec, part: string): Float64Array => {
    const s = f64(G);
    const v = requireColumn(table, stateName(spec, part));
    if (v.type.typeId === arrow.Type.Float && (v.type as arrow.Float).precision === arrow.Precision.DOUBLE && v.nullCount === 0) {
      // Float64 pieces are summed where they are (no copy into one array first).
      let at = 0;
      for (const d of v.data as arrow.Data[]) {
        addInto(d.values as Float64Array, g.groupOf.subarray(at, at + d.length), s, d.length);
        at += d.length;
      }
    } else {
      const c = stateColumn(table, spec, part);
      addInto(numericF64(c), g.groupOf, s, c.length);
    }
    return s;
  };
  for (const spec of aggs) {
    switch (spec.op) {
      case 'count':
        if (!has(spec, 'n')) out(spec, 'n', f64Vector(sumPart(spec, 'n')));
        break;
      case 'sum':
      case 'mean': {
        if (!has(spec, 'sum')) {
          const sumType = stateColumn(table, spec, 'sum').type;
          const s = sumPart(spec, 'sum');
          out(spec, 'sum', sumType === 'int64' ? columnToVector({ type: 'int64', length: G, values: s, valid: null }) : f64Vector(s));
        }
        if (!has(spec, 'n')) out(spec, 'n', f64Vector(sumPart(spec, 'n')));
        break;
      }
      case 'min':
      case 'max': {
        const name = stateName(spec, 'v');
        const c = stateColumn(table, spec, 'v');
        out(spec, 'v', takeVector(requireColumn(table, name), extremeRows(c, g, spec.op === 'max')));
        break;
      }
      case 'stddev': {
        const nc = stateColumn(table, spec, 'n').values as Float64Array;
        const mc = stateColumn(table, spec, 'mean').values as Float64Array;
        const qc = stateColumn(table, spec, 'm2').values as Float64Array;
        const n = f64(G);
        const mean = f64(G);
        const m2 = f64(G);
        for (let i = 0, iEnd = table.numRows; i < iEnd; i++) {
          const nb = nc[i]!;
          if (nb === 0) continue;
          const grp = g.groupOf[i]!;
          const na = n[grp]!;
          const total = na + nb;
          const delta = mc[i]! - mean[grp]!;
          mean[grp]! += (delta * nb) / total;
          m2[grp]! += qc[i]! + (delta * delta * na * nb) / total;
          n[grp] = total;
        }
        out(spec, 'n', f64Vector(n));
        out(spec, 'mean', f64Vector(mean));
        out(spec, 'm2', f64Vector(m2));
        break;
      }
      case 'countDistinct':
      case 'collectList': {
        const part = spec.op === 'countDistinct' ? 'set' : 'list';
        out(spec, part, columnToVector(listState(stateColumn(table, spec, part), g, spec.op === 'countDistinct', true)));
        break;
      }
      case 'approxQuantile': {
        const s = quantileStateMerge({ values: stateColumn(table, spec, 'values'), weights: stateColumn(table, spec, 'weights') }, g.groupOf, G);
        out(spec, 'values', columnToVector(s.values));
        out(spec, 'weights', columnToVector(s.weights));
        break;
      }
    }
  }
  return states.table(G);
}

/** Phase 3: turns a merged state table into the result: keys, then one column per aggregate. */
export function finalizeAggregates(state: arrow.Table, keys: readonly string[], aggs: readonly AggSpec[]): arrow.Table {
  validateSpecs(keys, aggs);
  const G = state.numRows;
  const fields: arrow.Field[] = [];
  const vectors: arrow.Vector[] = [];
  for (const k of keys) {
    const v = requireColumn(state, k);
    fields.push(new arrow.Field(k, v.type as arrow.DataType, true));
    vectors.push(v);
  }
  const out = (spec: AggSpec, v: arrow.Vector): void => {
    fields.push(new arrow.Field(aggOutputName(spec), v.type as arrow.DataType, true));
    vectors.push(v);
  };
  for (const spec of aggs) {
    switch (spec.op) {
      case 'count':
        out(spec, columnToVector({ type: 'int64', length: G, values: stateColumn(state, spec, 'n').values, valid: null }));
        break;
      case 'sum': {
        const s = stateColumn(state, spec, 'sum');
        const n = stateColumn(state, spec, 'n').values as Float64Array;
        const valid = new Uint8Array(G);
        for (let i = 0; i < G; i++) valid[i] = n[i]! > 0 ? 1 : 0;
        out(spec, columnToVector({ type: s.type, length: G, values: s.values, valid }));
        break;
      }
      case 'mean': {
        const s = stateColumn(state, spec, 'sum').values as Float64Array;
        const n = stateColumn(state, spec, 'n').values as Float64Array;
        const m = f64(G);
        const valid = new Uint8Array(G);
        for (let i = 0; i < G; i++) {
          if (n[i]! > 0) {
            m[i] = s[i]! / n[i]!;
            valid[i] = 1;
          }
        }
        out(spec, f64Vector(m, valid));
        break;
      }
      case 'min':
      case 'max':
        out(spec, requireColumn(state, stateName(spec, 'v')));
        break;
      case 'stddev': {
        const n = stateColumn(state, spec, 'n').values as Float64Array;
        const m2 = stateColumn(state, spec, 'm2').values as Float64Array;
        const sd = f64(G);
        const valid = new Uint8Array(G);
        for (let i = 0; i < G; i++) {
          if (n[i]! >= 2) {
            sd[i] = Math.sqrt(Math.max(0, m2[i]!) / (n[i]! - 1));
            valid[i] = 1;
          }
        }
        out(spec, f64Vector(sd, valid));
        break;
      }
      case 'countDistinct': {
        const c = stateColumn(state, spec, 'set');
        const counts = f64(G);
        for (let i = 0; i < G; i++) counts[i] = ((c.values as unknown[][])[i] ?? []).length;
        out(spec, columnToVector({ type: 'int64', length: G, values: counts, valid: null }));
        break;
      }
      case 'collectList':
        out(spec, requireColumn(state, stateName(spec, 'list')));
        break;
      case 'approxQuantile':
        out(spec, columnToVector(quantileStateFinal({ values: stateColumn(state, spec, 'values'), weights: stateColumn(state, spec, 'weights') }, spec.probability!)));
        break;
    }
  }
  return tableFromVectors(fields, vectors, G);
}

/** Single-partition group-by: partial, merge and finalize in one call. */
export function aggregate(table: arrow.Table, keys: readonly string[], aggs: readonly AggSpec[]): arrow.Table {
  return finalizeAggregates(mergeAggregates([partialAggregate(table, keys, aggs)], keys, aggs), keys, aggs);
}

/** Names of the state columns `partialAggregate` produces for `aggs` (after the key columns). */
export function aggregateStateColumns(aggs: readonly AggSpec[]): string[] {
  return [...new Set(aggs.flatMap((a) => STATE_PARTS[a.op].map((p) => stateName(a, p))))];
}
