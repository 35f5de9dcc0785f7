/**
 * Drift statistics against scipy (golden values from scripts/monitoring-golden.py): each statistic
 * on exact inputs to 1e-9, the test chosen by kind and size, calibrated thresholds (chunk vs rest,
 * mean + 3σ) against the same computation in numpy, binned Wasserstein within a bin of the exact
 * one, data-quality alerts, and the bad inputs.
 */
import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from 'shoal';
import { fromArrow } from 'shoal/data';
import {
  MonitoringInputError, chiSquare, chooseBaseline, detectDriftInProcess, detectSeasonalDrift, jensenShannon, kolmogorovSf, ksPValue, ksStatistic, wassersteinSamples, type ColumnDrift, type DriftReport,
} from 'shoal/platform';
import { gammaQ } from '../../../src/platform/monitoring/drift-stats.js';

interface Calib { mean: number; std: number; threshold: number }
const G = JSON.parse(readFileSync(new URL('../../fixtures/platform/monitoring/scipy-golden.json', import.meta.url), 'utf8')) as {
  ks: { reference: number[]; same: number[]; shifted: number[]; same_d: number; shifted_d: number; same_p_asymp: number; shifted_p_asymp: number; calibration_10: Calib };
  kolmogorov_sf: [number, number][];
  chi2_sf: [number, number, number][];
  chi2: { reference: string[]; same: string[]; shifted: string[]; same_stat: [number, number, number]; shifted_stat: [number, number, number]; calibration_10: Calib };
  wasserstein: { reference: number[]; same: number[]; shifted: number[]; same_w: WCase; shifted_w: WCase };
  jensen_shannon: { reference: string[]; same: string[]; shifted: string[]; same_js: number; shifted_js: number; calibration_10: Calib };
};
interface WCase { binned: number; exact: number; bin_width: number; calibration_10: Calib }

const num = (xs: number[]): arrow.Table => new arrow.Table({ x: arrow.vectorFromArray(xs, new arrow.Float64()) });
const cat = (xs: string[]): arrow.Table => new arrow.Table({ x: arrow.vectorFromArray(xs, new arrow.Utf8()) });
const sorted = (xs: number[]): Float64Array => Float64Array.from(xs).sort();
const colOf = (r: DriftReport): ColumnDrift => r.columns.find((c) => c.column === 'x')!;
const close = (got: number | null, want: number, tol = 1e-9): void => {
  expect(got).not.toBeNull();
  expect(Math.abs(got! - want)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
};

describe('drift statistics match scipy', () => {
  it('two-sample KS statistic and the asymptotic p-value (kstwobign.sf)', () => {
    const ref = sorted(G.ks.reference);
    close(ksStatistic(ref, sorted(G.ks.same)), G.ks.same_d);
    close(ksStatistic(ref, sorted(G.ks.shifted)), G.ks.shifted_d);
    close(ksPValue(G.ks.same_d, 400, 300), G.ks.same_p_asymp);
    close(ksPValue(G.ks.shifted_d, 400, 300), G.ks.shifted_p_asymp);
    for (const [x, sf] of G.kolmogorov_sf) close(kolmogorovSf(x), sf);
  });

  it('χ² survival function and the 2×k contingency test (no Yates correction)', () => {
    for (const [k, x, sf] of G.chi2_sf) close(gammaQ(k / 2, x / 2), sf);
    const counts = (xs: string[], keys: string[]): number[] => keys.map((k) => xs.filter((x) => x === k).length);
    const keys = ['a', 'b', 'c', 'd'];
    for (const [cur, want] of [[G.chi2.same, G.chi2.same_stat], [G.chi2.shifted, G.chi2.shifted_stat]] as const) {
      const got = chiSquare(counts(G.chi2.reference, keys), counts(cur, keys));
      close(got.statistic, want[0]);
      close(got.pValue, want[1]);
      expect(got.dof).toBe(want[2]);
    }
  });

  it('Wasserstein on raw samples and Jensen–Shannon on counts', () => {
    const sd = Math.sqrt(G.wasserstein.reference.reduce((a, x, _, all) => a + (x - all.reduce((s, y) => s + y, 0) / all.length) ** 2, 0) / G.wasserstein.reference.length);
    close(wassersteinSamples(sorted(G.wasserstein.reference), sorted(G.wasserstein.shifted)) / sd, G.wasserstein.shifted_w.exact);
    const keys = [...new Set([...G.jensen_shannon.reference, ...G.jensen_shannon.shifted])].sort();
    const counts = (xs: string[]): number[] => keys.map((k) => xs.filter((x) => x === k).length);
    close(jensenShannon(counts(G.jensen_shannon.reference), counts(G.jensen_shannon.shifted)), G.jensen_shannon.shifted_js);
  });
});

describe('detectDriftInProcess: the test by kind and size, thresholds', () => {
  it('small numeric → KS; fixed threshold p < 0.05; calibrated = mean + 3σ of chunk-vs-rest D', async () => {
    const fixed = colOf(await detectDriftInProcess(num(G.ks.reference), num(G.ks.shifted), { thresholds: 'fixed' }));
    expect(fixed).toMatchObject({ method: 'ks', thresholdSource: 'fixed', threshold: 0.05, status: 'drift', referenceCount: 400, currentCount: 300 });
    close(fixed.statistic, G.ks.shifted_d);
    close(fixed.pValue, G.ks.shifted_p_asymp);
    const same = colOf(await detectDriftInProcess(num(G.ks.reference), num(G.ks.same)));
    expect(same).toMatchObject({ method: 'ks', thresholdSource: 'calibrated', status: 'no-drift' });
    close(same.threshold, G.ks.calibration_10.threshold);
    close(same.calibration!.std, G.ks.calibration_10.std);
    // Chunks of 40 rows vary more than a 300-row window: the calibrated threshold (0.220) is above the
    // shifted window's D (0.158), so it is not an alert, where the fixed p-value rule says drift.
    expect(G.ks.shifted_d).toBeLessThan(G.ks.calibration_10.threshold);
    expect(colOf(await detectDriftInProcess(num(G.ks.reference), num(G.ks.shifted))).status).toBe('no-drift');
  });

  it('small categorical → χ²', async () => {
    const shifted = colOf(await detectDriftInProcess(cat(G.chi2.reference), cat(G.chi2.shifted), { thresholds: 'fixed' }));
    expect(shifted).toMatchObject({ kind: 'categorical', method: 'chi2', status: 'drift' });
    close(shifted.statistic, G.chi2.shifted_stat[0]);
    close(shifted.pValue, G.chi2.shifted_stat[1]);
    const same = colOf(await detectDriftInProcess(cat(G.chi2.reference), cat(G.chi2.same)));
    close(same.threshold, G.chi2.calibration_10.threshold);
    expect(same.status).toBe('no-drift');
    expect(colOf(await detectDriftInProcess(cat(G.chi2.reference), cat(G.chi2.shifted))).status).toBe('drift');
  });

  it('large numeric → normalised Wasserstein on 100 shared bins: equal to scipy on the same bins, within a bin of the exact distance', async () => {
    for (const [cur, want] of [[G.wasserstein.same, G.wasserstein.same_w], [G.wasserstein.shifted, G.wasserstein.shifted_w]] as const) {
      const c = colOf(await detectDriftInProcess(num(G.wasserstein.reference), num(cur)));
      expect(c).toMatchObject({ method: 'wasserstein', thresholdSource: 'calibrated' });
      close(c.statistic, want.binned);
      expect(Math.abs(c.statistic! - want.exact)).toBeLessThanOrEqual(want.bin_width);
      close(c.threshold, want.calibration_10.threshold);
    }
    expect(colOf(await detectDriftInProcess(num(G.wasserstein.reference), num(G.wasserstein.same))).status).toBe('no-drift');
    expect(colOf(await detectDriftInProcess(num(G.wasserstein.reference), num(G.wasserstein.shifted))).status).toBe('drift');
  });

  it('large categorical → Jensen–Shannon', async () => {
    const same = colOf(await detectDriftInProcess(cat(G.jensen_shannon.reference), cat(G.jensen_shannon.same)));
    expect(same).toMatchObject({ method: 'jensen-shannon', status: 'no-drift' });
    close(same.statistic, G.jensen_shannon.same_js);
    close(same.threshold, G.jensen_shannon.calibration_10.threshold);
    const shifted = colOf(await detectDriftInProcess(cat(G.jensen_shannon.reference), cat(G.jensen_shannon.shifted)));
    expect(shifted.status).toBe('drift');
    close(shifted.statistic, G.jensen_shannon.shifted_js);
  });

  it('a reference too small to judge gives cannot-judge with the reason, not an alert', async () => {
    const r = await detectDriftInProcess(num(G.ks.reference.slice(0, 40)), num(G.ks.shifted));
    expect(r.drifted).toEqual([]);
    expect(colOf(r)).toMatchObject({ status: 'cannot-judge', statistic: null, referenceCount: 40 });
    expect(colOf(r).reason).toMatch(/reference has 40 non-null values of 'x'; at least 100/);
  });
});

describe('data quality', () => {
  const ref = new arrow.Table({
    price: arrow.vectorFromArray(G.ks.reference, new arrow.Float64()),
    hood: arrow.vectorFromArray(G.ks.reference.map((_, i) => ['a', 'b', 'c'][i % 3]!), new arrow.Utf8()),
    beds: arrow.vectorFromArray(G.ks.reference.map((_, i) => i % 4), new arrow.Int32()),
  });
  it('names a column that disappeared or changed type, null-rate rises and out-of-range values', async () => {
    const cur = new arrow.Table({
      price: arrow.vectorFromArray(G.ks.same.map((x, i) => (i % 5 === 0 ? null : i % 7 === 0 ? x + 100 : x)), new arrow.Float64()),
      beds: arrow.vectorFromArray(G.ks.same.map((_, i) => String(i % 4)), new arrow.Utf8()),
    });
    const r = await detectDriftInProcess(ref, cur);
    const kinds = r.quality.map((q) => `${q.kind}:${q.column}`);
    expect(kinds).toEqual(['column-missing:hood', 'type-changed:beds', 'null-rate:price', 'out-of-range:price']);
    expect(r.quality[1]!.detail).toBe("column 'beds' changed type: Int32 in the reference, Utf8 in the current window");
    expect(r.quality[2]!.value).toBeCloseTo(60 / 300, 12);
    expect(r.columns.map((c) => c.column)).toEqual(['price']);
  });

  it('the same distribution raises no quality alert', async () => {
    const cur = new arrow.Table({
      price: arrow.vectorFromArray(G.ks.same, new arrow.Float64()),
      hood: arrow.vectorFromArray(G.ks.same.map((_, i) => ['a', 'b', 'c'][i % 3]!), new arrow.Utf8()),
      beds: arrow.vectorFromArray(G.ks.same.map((_, i) => i % 4), new arrow.Int32()),
    });
    const r = await detectDriftInProcess(ref, cur);
    expect(r.quality).toEqual([]);
    expect(r.drifted).toEqual([]);
  });
});

describe('bad input', () => {
  it('options are checked, naming the option', async () => {
    const t = num([1, 2, 3]);
    await expect(detectDriftInProcess(t, t, { chunks: 1 })).rejects.toThrow(InvalidOptionError);
    await expect(detectDriftInProcess(t, t, { chunks: 1 })).rejects.toThrow("detectDriftInProcess option 'chunks' must be an integer ≥ 2 ≤ 1000; got 1");
    await expect(detectDriftInProcess(t, t, { thresholds: 'loose' as 'fixed' })).rejects.toThrow(/option 'thresholds'/);
    await expect(detectDriftInProcess(t, t, { bin: 3 } as object)).rejects.toThrow(/'bin' is not an option of detectDriftInProcess/);
  });
  it('a column the reference lacks is a MonitoringInputError naming it', async () => {
    const err = await detectDriftInProcess(num([1]), num([1]), { columns: ['y'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MonitoringInputError);
    expect(err).toMatchObject({ code: 'MONITORING_INPUT', column: 'y', side: 'reference' });
  });
});

describe('chooseBaseline', () => {
  const ms = (s: string): number => Date.parse(`${s}T00:00:00Z`);
  const july23 = { startMs: ms('2023-07-01'), endMs: ms('2023-08-01') };
  it('takes the same period of earlier years as far as the history reaches', () => {
    expect(chooseBaseline(july23, ms('2014-07-01'), 1)).toEqual({ kind: 'seasonal', ranges: [{ startMs: ms('2022-07-01'), endMs: ms('2022-08-01') }], description: 'same period of 2022 (1 season)' });
    const three = chooseBaseline(july23, ms('2021-03-01'), 5);
    expect(three.ranges.map((r) => new Date(r.startMs).toISOString().slice(0, 10))).toEqual(['2022-07-01', '2021-07-01']);
    expect(three.description).toBe('same period of 2021, 2022 (2 seasons)');
  });
  it('falls back to the trailing window when the history does not reach a year back, and says so', () => {
    expect(chooseBaseline(july23, ms('2023-01-15'), 1)).toEqual({
      kind: 'trailing', ranges: [{ startMs: ms('2023-05-31'), endMs: ms('2023-07-01') }],
      description: 'trailing window 2023-05-31 … 2023-07-01 (history from 2023-01-15 does not reach a year back)',
    });
  });
});

describe('detectSeasonalDrift: bad input (refused before any task runs)', () => {
  const ds = fromArrow(new arrow.Table({ day: arrow.vectorFromArray([0], new arrow.TimestampMillisecond()), x: arrow.vectorFromArray([1], new arrow.Float64()) }));
  it('names the option or the column at fault', async () => {
    await expect(detectSeasonalDrift(ds, { timestamp: 'day', window: { start: '2023-08-01', end: '2023-07-01' } })).rejects.toThrow(/detectSeasonalDrift option 'window' must end after it starts/);
    await expect(detectSeasonalDrift(ds, { timestamp: 'day', window: { start: 'soon', end: '2023-07-01' } })).rejects.toThrow(/option 'window.start' must be a Date, epoch milliseconds or an ISO date; got "soon"/);
    await expect(detectSeasonalDrift(ds, { timestamp: 'day', window: { start: 0, end: 1 }, season: 2 } as object as Parameters<typeof detectSeasonalDrift>[1])).rejects.toThrow(/'season' is not an option of detectSeasonalDrift/);
    const err = await detectSeasonalDrift(ds, { timestamp: 'when', window: { start: 0, end: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MonitoringInputError);
    expect((err as Error).message).toBe("monitoring: timestamp column 'when' is not in the data (it has: day, x)");
  });
});
