/**
 * Per-partition column summaries for drift and data quality, small enough to ship to the driver
 * and mergeable there: counts and nulls, moments (count/mean/M2, merged with Chan's formula),
 * min/max, the exact values while a side is small, category counts, and — in a second pass, once
 * the driver has fixed shared bin edges — histograms. Each row carries a `chunk` so the reference
 * can be cut into chunks (for calibrated thresholds) in the same pass.
 */
import { DataType, Int32, Table, Utf8, vectorFromArray, type Schema } from 'apache-arrow';

/** Numeric (ints, floats, decimals, dates and timestamps as numbers) or categorical (strings, booleans, dictionaries). */
export type DriftKind = 'numeric' | 'categorical';

/** One column's merged statistics over a window (or one chunk of it). */
export interface ColumnSummary {
  kind: DriftKind;
  /** The Arrow type, as printed (`Float64`, `Utf8`), to tell a changed type. */
  type: string;
  rows: number;
  nulls: number;
  /** Non-null (and, for numbers, non-NaN) values. */
  count: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  /** The non-null values while there are at most the cap of them, else null. */
  values: number[] | null;
  /** Category → count (categorical only). */
  categories: Record<string, number>;
  /** Counts per bin of the shared edges (second pass, numeric only), else null. */
  hist: number[] | null;
  /** Values outside the payload's range for the column (second pass, numeric only). */
  outOfRange: number;
}

/** What a summary task computes (a mapBatches argument). */
export interface SummaryPayload {
  readonly columns: readonly string[];
  /** Keep exact values up to this many per partition (and merged). */
  readonly exactCap: number;
  /** Chunks to cut rows into by position (row i of the partition goes to chunk i mod chunks); 1: no chunks. */
  readonly chunks: number;
  /** Shared bin edges per numeric column (second pass); absent in the first. */
  readonly edges?: Readonly<Record<string, readonly number[]>>;
  /** The reference's [min, max] per numeric column (second pass): values outside are counted. */
  readonly ranges?: Readonly<Record<string, readonly [number, number]>>;
}

/** The kind a column's Arrow type is judged as, or null when drift has no test for it. */
export function driftKindOf(t: DataType): DriftKind | null {
  if (DataType.isDictionary(t)) return driftKindOf(t.dictionary) === 'categorical' ? 'categorical' : null;
  if (DataType.isInt(t) || DataType.isFloat(t) || DataType.isDecimal(t) || DataType.isDate(t) || DataType.isTimestamp(t)) return 'numeric';
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isBool(t)) return 'categorical';
  return null;
}

/** An empty summary of a column of this type. */
export function emptySummary(kind: DriftKind, type: string): ColumnSummary {
  return { kind, type, rows: 0, nulls: 0, count: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, values: [], categories: {}, hist: null, outOfRange: 0 };
}

/** Binary search: the bin of x in edges (last bin closed on the right, as numpy.histogram); −1 outside. */
export function binOf(edges: readonly number[], x: number): number {
  const last = edges.length - 1;
  if (!(x >= edges[0]!) || !(x <= edges[last]!)) return -1;
  if (x === edges[last]) return last - 1;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Summaries of the payload's columns in one table: a map chunk → column → summary. */
export function summarizeTable(table: Table, payload: SummaryPayload): Map<number, Map<string, ColumnSummary>> {
  const out = new Map<number, Map<string, ColumnSummary>>();
  for (const name of payload.columns) {
    const field = table.schema.fields.find((f) => f.name === name);
    const vec = table.getChild(name);
    if (!field || !vec) continue;
    const kind = driftKindOf(field.type);
    if (kind === null) continue;
    const type = String(field.type);
    const edges = payload.edges?.[name];
    const range = payload.ranges?.[name];
    const get = (chunk: number): ColumnSummary => {
      let byCol = out.get(chunk);
      if (!byCol) out.set(chunk, (byCol = new Map()));
      let s = byCol.get(name);
      if (!s) {
        byCol.set(name, (s = emptySummary(kind, type)));
        if (edges) s.hist = new Array<number>(edges.length - 1).fill(0);
      }
      return s;
    };
    for (let c = 0; c < Math.min(payload.chunks, Math.max(table.numRows, 1)); c++) get(c);
    for (let i = 0; i < table.numRows; i++) {
      const s = get(i % payload.chunks);
      s.rows++;
      const raw: unknown = vec.get(i);
      if (raw === null || raw === undefined) {
        s.nulls++;
        continue;
      }
      if (kind === 'categorical') {
        const key = String(raw);
        s.count++;
        s.categories[key] = (s.categories[key] ?? 0) + 1;
        continue;
      }
      const x = raw instanceof Date ? raw.getTime() : Number(raw);
      if (Number.isNaN(x)) {
        s.nulls++;
        continue;
      }
      s.count++;
      const delta = x - s.mean;
      s.mean += delta / s.count;
      s.m2 += delta * (x - s.mean);
      if (x < s.min) s.min = x;
      if (x > s.max) s.max = x;
      if (s.values) {
        if (s.values.length < payload.exactCap) s.values.push(x);
        else s.values = null;
      }
      if (range && (x < range[0] || x > range[1])) s.outOfRange++;
      if (s.hist && edges) {
        const b = binOf(edges, x);
        if (b >= 0) s.hist[b]!++;
      }
    }
  }
  return out;
}

/** Merges b into a (same column); `exactCap` bounds the merged exact values. */
export function mergeSummary(a: ColumnSummary, b: ColumnSummary, exactCap: number): ColumnSummary {
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const mean = count === 0 ? 0 : a.mean + (delta * b.count) / count;
  const m2 = count === 0 ? 0 : a.m2 + b.m2 + (delta * delta * a.count * b.count) / count;
  const values = a.values && b.values && a.values.length + b.values.length <= exactCap ? [...a.values, ...b.values] : null;
  const categories = { ...a.categories };
  for (const [k, n] of Object.entries(b.categories)) categories[k] = (categories[k] ?? 0) + n;
  const hist = a.hist && b.hist ? a.hist.map((x, i) => x + (b.hist![i] ?? 0)) : (a.hist ?? b.hist);
  return {
    kind: a.kind, type: a.type, rows: a.rows + b.rows, nulls: a.nulls + b.nulls, count, mean, m2,
    min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), values, categories, hist: hist ? [...hist] : null, outOfRange: a.outOfRange + b.outOfRange,
  };
}

/** A summaries map as an Arrow table (chunk, column, summary JSON) — what a summary task returns. */
export function summariesToTable(s: Map<number, Map<string, ColumnSummary>>): Table {
  const chunk: number[] = [];
  const column: string[] = [];
  const summary: string[] = [];
  for (const [c, byCol] of s) {
    for (const [name, v] of byCol) {
      chunk.push(c);
      column.push(name);
      summary.push(JSON.stringify({ ...v, min: Number.isFinite(v.min) ? v.min : null, max: Number.isFinite(v.max) ? v.max : null }));
    }
  }
  // Plain Utf8 (not dictionaries, whose ids differ per table) so partitions' rows concatenate.
  return new Table({ chunk: vectorFromArray(chunk, new Int32()), column: vectorFromArray(column, new Utf8()), summary: vectorFromArray(summary, new Utf8()) });
}

/** Merges rows of summary tables (from every partition) into chunk → column → summary. */
export function mergeSummaryRows(table: Table, exactCap: number): Map<number, Map<string, ColumnSummary>> {
  const out = new Map<number, Map<string, ColumnSummary>>();
  const cs = table.getChild('chunk');
  const ns = table.getChild('column');
  const ss = table.getChild('summary');
  for (let i = 0; i < table.numRows; i++) {
    const chunk = Number(cs?.get(i));
    const name = String(ns?.get(i));
    const parsed = JSON.parse(String(ss?.get(i))) as ColumnSummary & { min: number | null; max: number | null };
    const s: ColumnSummary = { ...parsed, min: parsed.min ?? Infinity, max: parsed.max ?? -Infinity };
    let byCol = out.get(chunk);
    if (!byCol) out.set(chunk, (byCol = new Map()));
    const prev = byCol.get(name);
    byCol.set(name, prev ? mergeSummary(prev, s, exactCap) : s);
  }
  return out;
}

/** Merges the chunks of a summaries map (optionally all but one) into column → summary. */
export function mergeChunks(s: Map<number, Map<string, ColumnSummary>>, exactCap: number, except?: number): Map<string, ColumnSummary> {
  const out = new Map<string, ColumnSummary>();
  for (const [c, byCol] of s) {
    if (c === except) continue;
    for (const [name, v] of byCol) {
      const prev = out.get(name);
      out.set(name, prev ? mergeSummary(prev, v, exactCap) : { ...v, values: v.values ? [...v.values] : null, hist: v.hist ? [...v.hist] : null, categories: { ...v.categories } });
    }
  }
  return out;
}

/** Column name → kind and printed type for the columns of a schema drift can judge. */
export function schemaKinds(schema: Schema): Map<string, { kind: DriftKind | null; type: string }> {
  return new Map(schema.fields.map((f) => [f.name, { kind: driftKindOf(f.type), type: String(f.type) }]));
}
