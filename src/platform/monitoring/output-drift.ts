/**
 * Output drift: what the model shows, compared between two windows of serving's exposure log
 * (src/serve/exposure-log.ts: one row per answered request, its `items` in order and, when the
 * answer gave them, their `scores`):
 *
 * - the score distribution of shown items — the input drift test on a `score` column (drift.ts:
 *   KS or normalised Wasserstein by sample size, the threshold calibrated on the reference's chunks);
 * - catalogue coverage: distinct items shown / catalogue size;
 * - concentration of exposures: the Gini coefficient of exposures per catalogue item (0: every item
 *   shown equally often, → 1: all exposures on one item), and the share of exposures that went to
 *   the 10 most shown items.
 *
 * The catalogue is given (its size, or its ids); without it, it is the items shown in either window
 * — coverage then says only how the windows compare. Coverage and Gini are judged by fixed limits on
 * their change (documented defaults): unlike a per-row statistic they have no chunk-to-chunk
 * variation to calibrate on that does not depend on the chunk's size.
 *
 * `detectOutputDrift` runs over Datasets (explode + group-by per side, the score test as drift's
 * tasks); `outputStatistics` and `gini` are the in-process arithmetic, tested on hand-computed values.
 */
import { Table, vectorFromArray, Float64 } from 'apache-arrow';
import { col, type Dataset } from '../../data/index.js';
import { optionRules } from '../../core/index.js';
import { MonitoringInputError } from '../errors.js';
import { detectDrift, detectDriftInProcess, type ColumnDrift } from './drift.js';
import type { DriftOptions } from './drift-options.js';

export interface OutputDriftOptions {
  /** The catalogue: its size, or its item ids. @default the items shown in either window */
  catalogue?: number | readonly string[];
  /** Alert when coverage changes by more than this (absolute). @default 0.1 */
  maxCoverageChange?: number;
  /** Alert when the Gini coefficient of exposures changes by more than this (absolute). @default 0.1 */
  maxGiniChange?: number;
  /** Options of the score distribution's drift test (drift-options.ts). @default drift's defaults */
  scores?: Omit<DriftOptions, 'columns'>;
}

/** Exposure statistics of one window. */
export interface OutputStatistics {
  /** Requests (rows of the exposure log). */
  requests: number;
  /** Items shown, counted with repetition. */
  exposures: number;
  /** Distinct items shown. */
  distinctItems: number;
  catalogueSize: number;
  /** distinctItems / catalogueSize. */
  coverage: number;
  /** Gini coefficient of exposures over the catalogue (items never shown count as 0). */
  gini: number;
  /** Share of exposures that went to the 10 most shown items. */
  top10Share: number;
  /** Scores logged (0 when answers carried none). */
  scores: number;
  /** Mean of the logged scores (null without scores). */
  meanScore: number | null;
}

export type OutputAlertKind = 'score-drift' | 'coverage-change' | 'gini-change';

export interface OutputAlert {
  kind: OutputAlertKind;
  detail: string;
  value: number;
  threshold: number;
}

/** Output drift of a current window against a reference. */
export interface OutputDriftReport {
  reference: OutputStatistics;
  current: OutputStatistics;
  /** The score distribution's drift verdict (`cannot-judge` when a side logged no scores). */
  scores: ColumnDrift;
  /** current − reference. */
  coverageChange: number;
  giniChange: number;
  alerts: OutputAlert[];
  catalogueFrom: 'given' | 'shown items';
}

/**
 * Gini coefficient of non-negative counts: Σᵢ (2i − n − 1)·x₍ᵢ₎ / (n·Σx) over the counts sorted
 * ascending (i from 1); 0 for no exposures.
 */
export function gini(counts: ArrayLike<number>): number {
  const x = Float64Array.from(counts).sort();
  const n = x.length;
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    sum += x[i]!;
    weighted += (2 * (i + 1) - n - 1) * x[i]!;
  }
  return n === 0 || sum === 0 ? 0 : weighted / (n * sum);
}

/** The statistics of one window from its exposures per item (items never shown may be absent). */
export function outputStatistics(exposuresByItem: ReadonlyMap<string, number>, requests: number, catalogueSize: number, scores: { count: number; sum: number }): OutputStatistics {
  const shown = [...exposuresByItem.values()].filter((c) => c > 0);
  if (shown.length > catalogueSize) throw new MonitoringInputError('current', 'items', `${shown.length} distinct items were shown but the catalogue has ${catalogueSize}`);
  const exposures = shown.reduce((a, b) => a + b, 0);
  const counts = new Float64Array(catalogueSize);
  counts.set(shown);
  const top = shown.slice().sort((a, b) => b - a).slice(0, 10).reduce((a, b) => a + b, 0);
  return {
    requests, exposures, distinctItems: shown.length, catalogueSize, coverage: catalogueSize > 0 ? shown.length / catalogueSize : 0, gini: gini(counts),
    top10Share: exposures > 0 ? top / exposures : 0, scores: scores.count, meanScore: scores.count > 0 ? scores.sum / scores.count : null,
  };
}

interface Compiled {
  catalogue: number | readonly string[] | null;
  maxCoverageChange: number;
  maxGiniChange: number;
  scores: Omit<DriftOptions, 'columns'>;
}

function compile(options: OutputDriftOptions | undefined): Compiled {
  const r = optionRules('detectOutputDrift');
  const o = r.object(options);
  r.knownKeys(o, ['catalogue', 'maxCoverageChange', 'maxGiniChange', 'scores']);
  const fraction = (name: 'maxCoverageChange' | 'maxGiniChange'): number => {
    const v = o[name];
    if (v === undefined) return 0.1;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return r.fail(name, 'must be a number from 0 to 1', v);
    return v;
  };
  const c = o.catalogue;
  if (c !== undefined && !(typeof c === 'number' && Number.isSafeInteger(c) && c >= 1) && !(Array.isArray(c) && c.length > 0 && c.every((x) => typeof x === 'string'))) {
    r.fail('catalogue', 'must be the catalogue size (a positive integer) or its item ids (strings)', c);
  }
  if (o.scores !== undefined && (typeof o.scores !== 'object' || o.scores === null || 'columns' in o.scores)) r.fail('scores', 'must be drift options without columns (the score column is fixed)', o.scores);
  return { catalogue: c ?? null, maxCoverageChange: fraction('maxCoverageChange'), maxGiniChange: fraction('maxGiniChange'), scores: o.scores ?? {} };
}

/** One side's exposures per item, requests and score totals. */
interface Side { byItem: Map<string, number>; requests: number; scores: { count: number; sum: number } }

function report(ref: Side, cur: Side, scores: ColumnDrift, o: Compiled): OutputDriftReport {
  let catalogueSize: number;
  let catalogueFrom: OutputDriftReport['catalogueFrom'] = 'given';
  if (typeof o.catalogue === 'number') catalogueSize = o.catalogue;
  else if (o.catalogue) {
    const ids = new Set(o.catalogue);
    catalogueSize = ids.size;
    for (const [side, s] of [['reference', ref], ['current', cur]] as const) {
      const unknown = [...s.byItem.keys()].filter((k) => !ids.has(k));
      if (unknown.length) throw new MonitoringInputError(side, 'items', `${unknown.length} shown items are not in the catalogue given (first: ${JSON.stringify(unknown[0])})`);
    }
  } else {
    catalogueSize = new Set([...ref.byItem.keys(), ...cur.byItem.keys()]).size;
    catalogueFrom = 'shown items';
  }
  const reference = outputStatistics(ref.byItem, ref.requests, catalogueSize, ref.scores);
  const current = outputStatistics(cur.byItem, cur.requests, catalogueSize, cur.scores);
  const coverageChange = current.coverage - reference.coverage;
  const giniChange = current.gini - reference.gini;
  const alerts: OutputAlert[] = [];
  if (scores.status === 'drift') {
    alerts.push({ kind: 'score-drift', detail: `the score distribution drifted: ${scores.method} ${scores.statistic?.toFixed(4)} > threshold ${scores.threshold?.toFixed(4)} (${scores.thresholdSource})`, value: scores.statistic!, threshold: scores.threshold! });
  }
  if (Math.abs(coverageChange) > o.maxCoverageChange) {
    alerts.push({ kind: 'coverage-change', detail: `catalogue coverage went from ${reference.coverage.toFixed(4)} to ${current.coverage.toFixed(4)} (${reference.distinctItems} → ${current.distinctItems} of ${catalogueSize} items)`, value: coverageChange, threshold: o.maxCoverageChange });
  }
  if (Math.abs(giniChange) > o.maxGiniChange) {
    alerts.push({ kind: 'gini-change', detail: `the Gini coefficient of exposures went from ${reference.gini.toFixed(4)} to ${current.gini.toFixed(4)}`, value: giniChange, threshold: o.maxGiniChange });
  }
  return { reference, current, scores, coverageChange, giniChange, alerts, catalogueFrom };
}

function checkColumns(side: 'reference' | 'current', names: readonly string[]): void {
  if (!names.includes('items')) throw new MonitoringInputError(side, 'items', `the ${side} window has no 'items' column: is it an exposure log? (it has: ${names.join(', ')})`);
}

const noScores = (side: string): ColumnDrift => ({
  column: 'score', kind: 'numeric', status: 'cannot-judge', method: null, statistic: null, pValue: null, threshold: null, thresholdSource: null, calibration: null,
  referenceCount: 0, currentCount: 0, reason: `the ${side} window logged no scores`,
});

/** Output drift of `current` against `reference`, two windows of the exposure log as Datasets (see the file header). */
export async function detectOutputDrift(reference: Dataset, current: Dataset, options?: OutputDriftOptions): Promise<OutputDriftReport> {
  const o = compile(options);
  const [rs, cs] = await Promise.all([reference.schema(), current.schema()]);
  checkColumns('reference', rs.fields.map((f) => f.name));
  checkColumns('current', cs.fields.map((f) => f.name));
  const side = async (ds: Dataset, hasScores: boolean): Promise<{ side: Side; scores: Dataset | null }> => {
    const [counts, requests] = await Promise.all([ds.select('items').explode('items').groupBy('items').count().collect(), ds.count()]);
    const byItem = new Map<string, number>();
    const ids = counts.getChild('items')!;
    const n = counts.getChild('count')!;
    for (let i = 0; i < counts.numRows; i++) if (ids.get(i) !== null) byItem.set(String(ids.get(i)), Number(n.get(i)));
    if (!hasScores) return { side: { byItem, requests, scores: { count: 0, sum: 0 } }, scores: null };
    const scores = ds.select('scores').explode('scores').rename('scores', 'score').filter(col('score').isNotNull());
    const agg = (await scores.groupBy().agg({ op: 'count', column: 'score', as: 'n' }, { op: 'sum', column: 'score', as: 's' }).collect());
    const count = Number(agg.getChild('n')?.get(0) ?? 0);
    return { side: { byItem, requests, scores: { count, sum: Number(agg.getChild('s')?.get(0) ?? 0) } }, scores: count > 0 ? scores : null };
  };
  const [ref, cur] = await Promise.all([side(reference, rs.fields.some((f) => f.name === 'scores')), side(current, cs.fields.some((f) => f.name === 'scores'))]);
  const scores = !ref.scores ? noScores('reference') : !cur.scores ? noScores('current')
    : (await detectDrift(ref.scores, cur.scores, { ...o.scores, columns: ['score'] })).columns[0]!;
  return report(ref.side, cur.side, scores, o);
}

/** {@link detectOutputDrift} over in-memory exposure-log tables (the same arithmetic, no cluster). */
export async function detectOutputDriftInProcess(reference: Table, current: Table, options?: OutputDriftOptions): Promise<OutputDriftReport> {
  const o = compile(options);
  const side = (t: Table, name: 'reference' | 'current'): { side: Side; scores: Float64Array } => {
    checkColumns(name, t.schema.fields.map((f) => f.name));
    const byItem = new Map<string, number>();
    const items = t.getChild('items')!;
    const sc = t.getChild('scores');
    const values: number[] = [];
    for (let r = 0; r < t.numRows; r++) {
      const list = items.get(r) as { toArray(): unknown[] } | null;
      if (list) for (const id of list.toArray()) if (id !== null) byItem.set(String(id), (byItem.get(String(id)) ?? 0) + 1);
      const s = sc?.get(r) as { toArray(): ArrayLike<number | null> } | null | undefined;
      if (s) for (const v of Array.from(s.toArray())) if (v !== null && Number.isFinite(v)) values.push(v);
    }
    return { side: { byItem, requests: t.numRows, scores: { count: values.length, sum: values.reduce((a, b) => a + b, 0) } }, scores: Float64Array.from(values) };
  };
  const ref = side(reference, 'reference');
  const cur = side(current, 'current');
  const table = (v: Float64Array): Table => new Table({ score: vectorFromArray(Array.from(v), new Float64()) });
  const scores = ref.scores.length === 0 ? noScores('reference') : cur.scores.length === 0 ? noScores('current')
    : (await detectDriftInProcess(table(ref.scores), table(cur.scores), { ...o.scores, columns: ['score'] })).columns[0]!;
  return report(ref.side, cur.side, scores, o);
}
