/**
 * Seasonal baselines: rental demand peaks every summer, so a July window is judged against earlier
 * Julys where the history reaches back that far (WhyLabs' seasonal baseline), and only else against
 * the trailing window of the same length. The result always says which baseline it used. Seasons
 * are calendar years, shifted in UTC (29 February maps to 1 March of a common year, as Date does).
 */
import { col, lit, type Dataset } from '../../data/index.js';
import { optionRules } from '../../core/index.js';
import { MonitoringInputError } from '../errors.js';
import { detectDrift, type DriftReport } from './drift.js';
import type { DriftOptions } from './drift-options.js';

/** A half-open time range [startMs, endMs). */
export interface TimeRange {
  startMs: number;
  endMs: number;
}

/** The baseline a window was judged against. */
export interface BaselineChoice {
  /** `seasonal`: the same period of earlier years; `trailing`: the period just before the window; `given`: the caller's. */
  kind: 'seasonal' | 'trailing' | 'given';
  ranges: TimeRange[];
  /** As people read it: `same period of 2022 (1 season)`. */
  description: string;
}

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function shiftYears(ms: number, years: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.getTime();
}

/**
 * The baseline of `window` given history from `historyStartMs`: the same period of up to `seasons`
 * earlier years that the history covers whole; none covered → the trailing window of the same length.
 */
export function chooseBaseline(window: TimeRange, historyStartMs: number, seasons = 1): BaselineChoice {
  const ranges: TimeRange[] = [];
  for (let k = 1; k <= seasons; k++) {
    const r = { startMs: shiftYears(window.startMs, k), endMs: shiftYears(window.endMs, k) };
    if (r.startMs < historyStartMs) break;
    ranges.push(r);
  }
  if (ranges.length > 0) {
    const years = ranges.map((r) => new Date(r.startMs).getUTCFullYear()).reverse();
    return { kind: 'seasonal', ranges, description: `same period of ${years.join(', ')} (${ranges.length} season${ranges.length > 1 ? 's' : ''})` };
  }
  const len = window.endMs - window.startMs;
  const r = { startMs: Math.max(historyStartMs, window.startMs - len), endMs: window.startMs };
  return { kind: 'trailing', ranges: [r], description: `trailing window ${iso(r.startMs)} … ${iso(r.endMs)} (history from ${iso(historyStartMs)} does not reach a year back)` };
}

/** What {@link detectSeasonalDrift} judges. */
export interface SeasonalDriftOptions {
  /** The timestamp (or date) column that places rows in time. */
  timestamp: string;
  /** The window to judge, [start, end) (Dates, epoch ms or ISO strings). */
  window: { start: Date | number | string; end: Date | number | string };
  /** `auto`: seasonal where history allows, else trailing; `trailing`; or a given range. @default 'auto' */
  baseline?: 'auto' | 'trailing' | { start: Date | number | string; end: Date | number | string };
  /** Earlier years to pool for a seasonal baseline, as far as the history reaches. @default 1 */
  seasons?: number;
  /** The largest change of row count against the baseline (per season) before a volume alert, as a fraction. @default 0.5 */
  maxVolumeChange?: number;
  /** Drift options for the comparison. */
  drift?: DriftOptions;
}

/** A drift report with the baseline it used and the window's volume against it. */
export interface SeasonalDriftReport extends DriftReport {
  baseline: BaselineChoice;
  /** Rows in the window against the baseline's rows per range; `alert` when the change exceeds maxVolumeChange. */
  volume: { windowRows: number; baselineRowsPerRange: number; change: number; alert: boolean };
}

function toMs(v: Date | number | string, option: string): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || v.length === 10 ? v : `${v}Z`);
  if (!Number.isFinite(ms)) optionRules('detectSeasonalDrift').fail(option, 'must be a Date, epoch milliseconds or an ISO date', v);
  return ms;
}

const inRange = (ts: string, r: TimeRange) => col(ts).ge(lit(new Date(r.startMs))).and(col(ts).lt(lit(new Date(r.endMs))));

/** Drift of a window of `data` against its seasonal (or trailing, or given) baseline; the statistics run over the Dataset. */
export async function detectSeasonalDrift(data: Dataset, options: SeasonalDriftOptions): Promise<SeasonalDriftReport> {
  const r = optionRules('detectSeasonalDrift');
  const o = r.object(options);
  r.knownKeys(o, ['timestamp', 'window', 'baseline', 'seasons', 'maxVolumeChange', 'drift']);
  const ts = r.column('timestamp', o.timestamp, '');
  if (typeof o.window !== 'object' || o.window === null) r.fail('window', 'must be { start, end }', o.window);
  const window = { startMs: toMs(o.window.start, 'window.start'), endMs: toMs(o.window.end, 'window.end') };
  if (!(window.endMs > window.startMs)) r.fail('window', 'must end after it starts', o.window);
  const seasons = r.int('seasons', o.seasons, 1, { min: 1, max: 100 });
  const maxVolumeChange = r.positive('maxVolumeChange', o.maxVolumeChange, 0.5);
  const schema = await data.schema();
  if (!schema.fields.some((f) => f.name === ts)) throw new MonitoringInputError('reference', ts, `timestamp column '${ts}' is not in the data (it has: ${schema.fields.map((f) => f.name).join(', ')})`);
  let baseline: BaselineChoice;
  if (o.baseline !== undefined && typeof o.baseline === 'object') {
    const g = { startMs: toMs(o.baseline.start, 'baseline.start'), endMs: toMs(o.baseline.end, 'baseline.end') };
    baseline = { kind: 'given', ranges: [g], description: `given ${iso(g.startMs)} … ${iso(g.endMs)}` };
  } else {
    const mode = r.oneOf('baseline', o.baseline, ['auto', 'trailing'], 'auto');
    const [row] = await data.agg({ op: 'min', column: ts, as: 'first' }).take(1);
    const first = row?.['first'];
    const historyStartMs = first === null || first === undefined ? NaN : first instanceof Date ? first.getTime() : Number(first);
    if (!Number.isFinite(historyStartMs)) throw new MonitoringInputError('reference', ts, `the data has no values of '${ts}': no history to take a baseline from`);
    baseline = chooseBaseline(window, historyStartMs, mode === 'auto' ? seasons : 0);
  }
  const reference = data.filter(baseline.ranges.map((b) => inRange(ts, b)).reduce((a, b) => a.or(b)));
  const current = data.filter(inRange(ts, window));
  const columns = o.drift?.columns ?? schema.fields.map((f) => f.name).filter((c) => c !== ts);
  const report = await detectDrift(reference, current, { ...o.drift, columns });
  const perRange = report.referenceRows / baseline.ranges.length;
  const change = perRange > 0 ? report.currentRows / perRange - 1 : report.currentRows > 0 ? Infinity : 0;
  return { ...report, baseline, volume: { windowRows: report.currentRows, baselineRowsPerRange: perRange, change, alert: Math.abs(change) > maxVolumeChange } };
}
