/**
 * Drift of a current window against a reference, per column, with the test chosen by the column's
 * kind and the sample size (Evidently's rule): small samples get Kolmogorov–Smirnov (numeric) or
 * χ² (categorical) on exact values; large ones normalised Wasserstein on histograms over shared
 * bin edges (numeric) or Jensen–Shannon on category counts. Thresholds are calibrated on the
 * reference's own variation (NannyML): the reference is cut into chunks, each chunk is compared
 * with the rest, and the threshold is mean + 3σ of those statistics. A reference too small to
 * judge gives a `cannot-judge` result, never an alert.
 *
 * Statistics come from per-partition summaries (column-summary.ts) merged on the driver: a first
 * pass gives counts, moments, ranges, exact values of small sides and category counts; a second
 * pass, once the driver has fixed shared bin edges, gives histograms and out-of-range counts.
 * `detectDrift` runs the passes as tasks over Datasets; `detectDriftInProcess` over Arrow tables,
 * through the same summaries.
 */
import type { Table } from 'apache-arrow';
import type { Dataset } from '../../data/index.js';
import { MonitoringInputError } from '../errors.js';
import { mergeChunks, mergeSummaryRows, summariesToTable, summarizeTable, type ColumnSummary, type DriftKind, type SummaryPayload } from './column-summary.js';
import { compileDriftOptions, type CompiledDriftOptions, type DriftOptions } from './drift-options.js';
import { chiSquare, jensenShannon, ksPValue, ksStatistic, wassersteinOnSupport } from './drift-stats.js';
import { summaryTask } from './summary-task.js';

export type DriftMethod = 'ks' | 'chi2' | 'wasserstein' | 'jensen-shannon';

/** The drift verdict of one column. */
export interface ColumnDrift {
  column: string;
  kind: DriftKind;
  /** `cannot-judge`: the reference (or the window) is too small; `reason` says why. */
  status: 'drift' | 'no-drift' | 'cannot-judge';
  method: DriftMethod | null;
  /** KS D, χ² statistic, normalised Wasserstein, or Jensen–Shannon distance (natural log). */
  statistic: number | null;
  /** For KS (asymptotic) and χ². */
  pValue: number | null;
  /** Calibrated: drift when statistic > threshold. Fixed: for KS and χ², drift when pValue < threshold; else statistic > threshold. */
  threshold: number | null;
  thresholdSource: 'calibrated' | 'fixed' | null;
  /** The chunk-vs-rest statistics' mean and σ (calibrated thresholds). */
  calibration: { chunks: number; mean: number; std: number } | null;
  referenceCount: number;
  currentCount: number;
  reason: string | null;
}

export type QualityAlertKind = 'column-missing' | 'type-changed' | 'null-rate' | 'out-of-range';

/** A data-quality alert naming its column. */
export interface QualityAlert {
  kind: QualityAlertKind;
  column: string;
  detail: string;
  /** What was found (a rate or share; 1 for a missing column or changed type). */
  value: number;
  /** The limit it broke. */
  threshold: number;
}

/** Drift and data quality of a window against a reference. */
export interface DriftReport {
  columns: ColumnDrift[];
  quality: QualityAlert[];
  /** Columns whose status is `drift`. */
  drifted: string[];
  referenceRows: number;
  currentRows: number;
}

/** Summaries of one side for a payload: chunk → column → summary (merged over partitions). */
export type Summarize = (side: 'reference' | 'current', payload: SummaryPayload) => Promise<Map<number, Map<string, ColumnSummary>>>;

/** Column name → printed Arrow type of a side. */
export type SchemaTypes = Map<string, string>;

const FIXED = { ks: 0.05, chi2: 0.05, wasserstein: 0.1, 'jensen-shannon': 0.1 } as const;

/** Drift of `current` against `reference`, both Datasets; the statistics run as tasks per partition. */
export async function detectDrift(reference: Dataset, current: Dataset, options?: DriftOptions): Promise<DriftReport> {
  const o = compileDriftOptions(options);
  const [rs, cs] = await Promise.all([reference.schema(), current.schema()]);
  const types = (s: typeof rs): SchemaTypes => new Map(s.fields.map((f) => [f.name, String(f.type)]));
  const summarize: Summarize = async (side, payload) => {
    const ds = side === 'reference' ? reference : current;
    const present = payload.columns.filter((c) => (side === 'reference' ? rs : cs).fields.some((f) => f.name === c));
    if (present.length === 0) return new Map();
    const rows = await ds.select(...present).mapBatches(summaryTask, { args: [{ ...payload, columns: present }] }).collect();
    return mergeSummaryRows(rows, payload.exactCap);
  };
  return driftFromSummaries(types(rs), types(cs), summarize, o);
}

/** {@link detectDrift} over in-memory Arrow tables (each table one partition), through the same summaries. */
export async function detectDriftInProcess(reference: Table, current: Table, options?: DriftOptions): Promise<DriftReport> {
  const o = compileDriftOptions(options, 'detectDriftInProcess');
  const types = (t: Table): SchemaTypes => new Map(t.schema.fields.map((f) => [f.name, String(f.type)]));
  const summarize: Summarize = (side, payload) => Promise.resolve(mergeSummaryRows(summariesToTable(summarizeTable(side === 'reference' ? reference : current, payload)), payload.exactCap));
  return driftFromSummaries(types(reference), types(current), summarize, o);
}

const std = (s: ColumnSummary): number => (s.count > 0 ? Math.sqrt(s.m2 / s.count) : 0);
const sorted = (v: readonly number[]): Float64Array => Float64Array.from(v).sort();
const totalRows = (m: Map<string, ColumnSummary>): number => Math.max(0, ...[...m.values()].map((s) => s.rows));

/** Equal-width edges over [lo, hi] (one unit wide when lo = hi). */
export function equalWidthEdges(lo: number, hi: number, bins: number): number[] {
  if (!(hi > lo)) return [lo - 0.5, lo + 0.5];
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
}

function centers(edges: readonly number[]): number[] {
  return edges.slice(0, -1).map((e, i) => (e + edges[i + 1]!) / 2);
}

/** One statistic of `cur` against `ref` by `method` (`edges` for Wasserstein). */
function statistic(method: DriftMethod, ref: ColumnSummary, cur: ColumnSummary, edges: readonly number[] | undefined): { statistic: number; pValue: number | null } {
  switch (method) {
    case 'ks': {
      const d = ksStatistic(sorted(ref.values!), sorted(cur.values!));
      return { statistic: d, pValue: ksPValue(d, ref.count, cur.count) };
    }
    case 'chi2': {
      const keys = [...new Set([...Object.keys(ref.categories), ...Object.keys(cur.categories)])];
      const c = chiSquare(keys.map((k) => ref.categories[k] ?? 0), keys.map((k) => cur.categories[k] ?? 0));
      return { statistic: c.statistic, pValue: c.pValue };
    }
    case 'jensen-shannon': {
      const keys = [...new Set([...Object.keys(ref.categories), ...Object.keys(cur.categories)])];
      return { statistic: jensenShannon(keys.map((k) => ref.categories[k] ?? 0), keys.map((k) => cur.categories[k] ?? 0)), pValue: null };
    }
    case 'wasserstein': {
      const w = wassersteinOnSupport(centers(edges!), ref.hist!, cur.hist!);
      const sd = std(ref);
      return { statistic: sd > 0 ? w / sd : w === 0 ? 0 : Infinity, pValue: null };
    }
  }
}

/** The drift report from a side summarizer (the core of detectDrift and detectDriftInProcess). */
export async function driftFromSummaries(refTypes: SchemaTypes, curTypes: SchemaTypes, summarize: Summarize, o: CompiledDriftOptions): Promise<DriftReport> {
  if (o.columns) {
    const missing = o.columns.filter((c) => !refTypes.has(c));
    if (missing.length > 0) throw new MonitoringInputError('reference', missing[0]!, `column '${missing[0]}' is not in the reference (it has: ${[...refTypes.keys()].join(', ')})`);
  }
  const calibrated = o.thresholds === 'calibrated';
  const base = { exactCap: o.smallSampleMax };
  const wanted = o.columns ?? [...refTypes.keys()];
  const [ref1, cur1] = await Promise.all([
    summarize('reference', { ...base, columns: wanted, chunks: calibrated ? o.chunks : 1 }),
    summarize('current', { ...base, columns: wanted, chunks: 1 }),
  ]);
  const refAll = mergeChunks(ref1, o.smallSampleMax);
  const curAll = mergeChunks(cur1, o.smallSampleMax);
  const quality: QualityAlert[] = [];
  const judged: string[] = [];
  for (const c of wanted) {
    const r = refAll.get(c);
    if (!r) {
      if (o.columns) throw new MonitoringInputError('reference', c, `column '${c}' (${refTypes.get(c)}) has no drift test: numbers, dates, strings and booleans do`);
      continue;
    }
    if (!curTypes.has(c)) {
      quality.push({ kind: 'column-missing', column: c, detail: `column '${c}' (${r.type}) is in the reference but not in the current window`, value: 1, threshold: 0 });
      continue;
    }
    if (curTypes.get(c) !== r.type) {
      quality.push({ kind: 'type-changed', column: c, detail: `column '${c}' changed type: ${r.type} in the reference, ${curTypes.get(c)} in the current window`, value: 1, threshold: 0 });
      continue;
    }
    judged.push(c);
  }
  // Second pass: histograms on edges shared by both sides (large numeric columns) and out-of-range counts.
  const edges: Record<string, number[]> = {};
  for (const c of judged) {
    const r = refAll.get(c)!;
    const cur = curAll.get(c);
    if (r.kind !== 'numeric' || r.count === 0 || !cur) continue;
    const lo = Math.min(r.min, cur.count > 0 ? cur.min : r.min);
    const hi = Math.max(r.max, cur.count > 0 ? cur.max : r.max);
    edges[c] = equalWidthEdges(lo, hi, o.bins);
  }
  const ranges: Record<string, [number, number]> = {};
  for (const c of Object.keys(edges)) ranges[c] = [refAll.get(c)!.min, refAll.get(c)!.max];
  let ref2 = ref1;
  let cur2 = cur1;
  if (Object.keys(edges).length > 0) {
    [ref2, cur2] = await Promise.all([
      summarize('reference', { ...base, columns: Object.keys(edges), chunks: calibrated ? o.chunks : 1, edges }),
      summarize('current', { ...base, columns: Object.keys(edges), chunks: 1, edges, ranges }),
    ]);
  }
  const withHist = (first: Map<number, Map<string, ColumnSummary>>, second: Map<number, Map<string, ColumnSummary>>) => {
    for (const [chunk, byCol] of second) for (const [c, s] of byCol) {
      const f = first.get(chunk)?.get(c);
      if (f) {
        f.hist = s.hist;
        f.outOfRange = s.outOfRange;
      }
    }
    return first;
  };
  const refChunks = withHist(ref1, ref2);
  const ref = mergeChunks(refChunks, o.smallSampleMax);
  const cur = mergeChunks(withHist(cur1, cur2), o.smallSampleMax);
  const columns: ColumnDrift[] = [];
  for (const c of judged) {
    const r = ref.get(c)!;
    const w = cur.get(c) ?? { ...r, rows: 0, nulls: 0, count: 0, values: [], categories: {}, hist: null, outOfRange: 0 };
    quality.push(...qualityAlerts(c, r, w, refChunks, calibrated));
    columns.push(judgeColumn(c, r, w, refChunks, edges[c], o));
  }
  return { columns, quality, drifted: columns.filter((c) => c.status === 'drift').map((c) => c.column), referenceRows: totalRows(ref), currentRows: totalRows(cur) };
}

function judgeColumn(c: string, r: ColumnSummary, w: ColumnSummary, refChunks: Map<number, Map<string, ColumnSummary>>, edges: readonly number[] | undefined, o: CompiledDriftOptions): ColumnDrift {
  const small = r.count <= o.smallSampleMax && w.count <= o.smallSampleMax;
  const method: DriftMethod = r.kind === 'numeric' ? (small ? 'ks' : 'wasserstein') : small ? 'chi2' : 'jensen-shannon';
  const out: ColumnDrift = {
    column: c, kind: r.kind, status: 'cannot-judge', method, statistic: null, pValue: null, threshold: null, thresholdSource: null, calibration: null,
    referenceCount: r.count, currentCount: w.count, reason: null,
  };
  if (r.count < o.minReferenceRows) return { ...out, reason: `the reference has ${r.count} non-null values of '${c}'; at least ${o.minReferenceRows} are needed to judge drift` };
  if (w.count === 0) return { ...out, reason: `the current window has no non-null values of '${c}'` };
  const s = statistic(method, r, w, edges);
  if (o.thresholds === 'fixed') {
    const threshold = FIXED[method];
    const drift = s.pValue !== null ? s.pValue < threshold : s.statistic > threshold;
    return { ...out, ...s, status: drift ? 'drift' : 'no-drift', threshold, thresholdSource: 'fixed' };
  }
  const stats: number[] = [];
  for (const chunk of refChunks.keys()) {
    const part = refChunks.get(chunk)?.get(c);
    if (!part || part.count === 0) continue;
    const rest = mergeChunks(refChunks, o.smallSampleMax, chunk).get(c);
    if (!rest || rest.count === 0) continue;
    // Small columns compare exact values; the rest of a small reference is small too.
    const m: DriftMethod = method === 'ks' && (!part.values || !rest.values) ? 'wasserstein' : method;
    stats.push(statistic(m, rest, part, edges).statistic);
  }
  if (stats.length < 2) return { ...out, reason: `the reference's '${c}' has values in ${stats.length} of ${o.chunks} chunks; at least 2 are needed to calibrate a threshold` };
  const mean = stats.reduce((a, b) => a + b, 0) / stats.length;
  const sd = Math.sqrt(stats.reduce((a, b) => a + (b - mean) ** 2, 0) / stats.length);
  const threshold = mean + 3 * sd;
  return { ...out, ...s, status: s.statistic > threshold ? 'drift' : 'no-drift', threshold, thresholdSource: 'calibrated', calibration: { chunks: stats.length, mean, std: sd } };
}

/**
 * Null rate above the reference's (mean + 3σ over chunks, and never below the reference rate plus
 * 3 binomial σ at the window's size); values outside the reference's range in a larger share than
 * exchangeable samples give (2/(n+1) for n reference values, plus 3 binomial σ).
 */
function qualityAlerts(c: string, r: ColumnSummary, w: ColumnSummary, refChunks: Map<number, Map<string, ColumnSummary>>, calibrated: boolean): QualityAlert[] {
  const out: QualityAlert[] = [];
  if (w.rows > 0 && r.rows > 0) {
    const p = r.nulls / r.rows;
    let limit = p + 3 * Math.sqrt((p * (1 - p)) / w.rows);
    if (calibrated) {
      const rates = [...refChunks.values()].map((m) => m.get(c)).filter((s): s is ColumnSummary => !!s && s.rows > 0).map((s) => s.nulls / s.rows);
      if (rates.length >= 2) {
        const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
        limit = Math.max(limit, mean + 3 * Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / rates.length));
      }
    }
    const rate = w.nulls / w.rows;
    if (rate > limit) out.push({ kind: 'null-rate', column: c, detail: `null rate of '${c}' is ${rate.toFixed(4)} (${w.nulls} of ${w.rows} rows); the reference's is ${p.toFixed(4)}, limit ${limit.toFixed(4)}`, value: rate, threshold: limit });
  }
  if (r.kind === 'numeric' && r.count > 0 && w.count > 0) {
    const outside = w.outOfRange;
    {
      const share = outside / w.count;
      const e = 2 / (r.count + 1);
      const limit = e + 3 * Math.sqrt((e * (1 - e)) / w.count);
      if (share > limit) out.push({ kind: 'out-of-range', column: c, detail: `${outside} of ${w.count} values of '${c}' (${(share * 100).toFixed(2)} %) are outside the reference's range [${r.min}, ${r.max}]; limit ${(limit * 100).toFixed(2)} %`, value: share, threshold: limit });
    }
  }
  return out;
}
