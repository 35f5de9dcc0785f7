/** Options of drift detection, compiled once at the boundary (unknown keys refused). */
import { optionRules } from '../../core/index.js';

/** How a drift check runs (every field optional). */
export interface DriftOptions {
  /** Columns to judge. @default every column of the reference drift has a test for (numbers, dates, strings, booleans) */
  columns?: readonly string[];
  /** A side with at most this many non-null values is small: KS (numeric) or χ² (categorical) on exact values; above it, normalised Wasserstein (numeric, on histograms) or Jensen–Shannon (categorical). @default 1000 (Evidently's cut) */
  smallSampleMax?: number;
  /** Bins of the shared histogram edges (equal width over the range of both windows) for large numeric columns. @default 100 */
  bins?: number;
  /** 'calibrated': the threshold is mean + 3σ of the statistic over the reference's chunks, each against the rest (NannyML's way); 'fixed': Evidently's defaults (p < 0.05 for KS and χ², 0.1 for Wasserstein and Jensen–Shannon). @default 'calibrated' */
  thresholds?: 'calibrated' | 'fixed';
  /** Chunks the reference is cut into for calibration (rows by position, interleaved within each partition). @default 10 */
  chunks?: number;
  /** Non-null reference values below which a column cannot be judged (the result says so instead of alerting). @default 10 per chunk (100) */
  minReferenceRows?: number;
}

export interface CompiledDriftOptions {
  readonly columns: readonly string[] | null;
  readonly smallSampleMax: number;
  readonly bins: number;
  readonly thresholds: 'calibrated' | 'fixed';
  readonly chunks: number;
  readonly minReferenceRows: number;
}

const KNOWN = ['columns', 'smallSampleMax', 'bins', 'thresholds', 'chunks', 'minReferenceRows'];

export function compileDriftOptions(input: DriftOptions | undefined, caller = 'detectDrift'): CompiledDriftOptions {
  const r = optionRules(caller);
  const o = r.object(input);
  r.knownKeys(o, KNOWN);
  const chunks = r.int('chunks', o.chunks, 10, { min: 2, max: 1000 });
  return {
    columns: o.columns === undefined ? null : r.columns('columns', o.columns),
    smallSampleMax: r.int('smallSampleMax', o.smallSampleMax, 1000, { min: 1, max: 1_000_000 }),
    bins: r.int('bins', o.bins, 100, { min: 2, max: 100_000 }),
    thresholds: r.oneOf('thresholds', o.thresholds, ['calibrated', 'fixed'], 'calibrated'),
    chunks,
    minReferenceRows: r.int('minReferenceRows', o.minReferenceRows, chunks * 10, { min: 1 }),
  };
}
