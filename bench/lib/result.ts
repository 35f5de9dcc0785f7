/**
 * The result record every suite returns, and how it is written to bench/results/<suite>.json.
 *
 * `value` is the median of the per-run values (one value per run, `runs` runs); `min`/`max` are the
 * spread over runs. The baseline is measured in the same invocation, interleaved with the metric
 * run by run, and summarized the same way.
 *
 * `ratio = value / baselineValue`, always in that direction. Read it with `better`:
 *   - better = 'higher' (rates: tasks/s, GB/s): ratio > 1 means faster than the baseline.
 *   - better = 'lower' (latencies, durations): ratio < 1 means faster than the baseline.
 * `targetMet` compares `value` with `target` in the `better` direction (>= for higher, <= for lower).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './paths.js';
import { max, median, min } from './stats.js';

export type Better = 'higher' | 'lower';

export interface BenchResult {
  metric: string;
  /** Median over runs. */
  value: number;
  unit: string;
  better: Better;
  /** Name of the baseline (what the value is compared with), measured in the same run. */
  baseline: string;
  /** Median over runs of the baseline. */
  baselineValue: number;
  /** value / baselineValue (see `better` for how to read it). */
  ratio: number;
  /** The goal for `value` (null when the metric has none). */
  target: number | null;
  targetMet: boolean | null;
  /** Spread of the per-run values. */
  min: number;
  max: number;
  baselineMin: number;
  baselineMax: number;
  runs: number;
  /** Per-run values, in run order. */
  samples: number[];
  baselineSamples: number[];
  /** What exactly was measured, caveats. */
  notes?: string | undefined;
}

export interface MetricSpec {
  metric: string;
  unit: string;
  better: Better;
  target?: number | null | undefined;
  /** One value per run. */
  samples: number[];
  baseline: string;
  baselineSamples: number[];
  notes?: string | undefined;
}

export function makeResult(s: MetricSpec): BenchResult {
  const value = median(s.samples);
  const baselineValue = median(s.baselineSamples);
  const target = s.target ?? null;
  return {
    metric: s.metric,
    value,
    unit: s.unit,
    better: s.better,
    baseline: s.baseline,
    baselineValue,
    ratio: value / baselineValue,
    target,
    targetMet: target === null || !Number.isFinite(value) ? null : s.better === 'higher' ? value >= target : value <= target,
    min: min(s.samples),
    max: max(s.samples),
    baselineMin: min(s.baselineSamples),
    baselineMax: max(s.baselineSamples),
    runs: s.samples.length,
    samples: s.samples,
    baselineSamples: s.baselineSamples,
    ...(s.notes ? { notes: s.notes } : {}),
  };
}

/** Writes bench/results/<suite>.json atomically (write .tmp, rename). Returns the path. */
export function writeResults(suite: string, results: BenchResult[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${suite}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}
