/**
 * Seasonal baselines on real data: Albany's Airbnb reviews (one review per stay), read directly from
 * the CSV and counted per day (days without a review count 0), as a Dataset on a cluster. Stays per
 * day in July are judged by KS (31 days against 31: a small sample; fixed p < 0.05, since 31 rows
 * are too few to cut into calibration chunks). July 2023 is not an alert against July 2022, but is
 * against February 2023; July 2020 (the collapse of stays) is an alert against July 2019.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromArrow, type Dataset } from 'shoal/data';
import { detectSeasonalDrift } from 'shoal/platform';
import { TestCluster } from '../../harness/test-cluster.js';

const CSV = '/work/shared/data/airbnb-albany/reviews.csv';
const DAY = 86_400_000;

let tc: TestCluster;
let daily: Dataset;
beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  const lines = readFileSync(CSV, 'utf8').trim().split(/\r?\n/);
  const col = lines[0]!.split(',').indexOf('date');
  const counts = new Map<number, number>();
  for (const line of lines.slice(1)) {
    const t = Date.parse(`${line.split(',')[col]}T00:00:00Z`);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const first = Math.min(...counts.keys());
  const last = Math.max(...counts.keys());
  const days = Array.from({ length: (last - first) / DAY + 1 }, (_, i) => first + i * DAY);
  daily = fromArrow(new arrow.Table({
    day: arrow.vectorFromArray(days, new arrow.TimestampMillisecond()),
    stays: arrow.vectorFromArray(days.map((d) => counts.get(d) ?? 0), new arrow.Float64()),
  }), { numPartitions: 3 });
}, 120_000);
afterAll(async () => {
  await tc?.stop();
});

const drift = { thresholds: 'fixed' as const, minReferenceRows: 28 };

describe.runIf(existsSync(CSV) || process.env['CI'])('seasonal baseline on Albany reviews', () => {
  it('July 2023 against July 2022 (seasonal, chosen automatically): no alert', async () => {
    const r = await detectSeasonalDrift(daily, { timestamp: 'day', window: { start: '2023-07-01', end: '2023-08-01' }, drift });
    expect(r.baseline).toMatchObject({ kind: 'seasonal', description: 'same period of 2022 (1 season)' });
    expect(r.columns[0]).toMatchObject({ column: 'stays', method: 'ks', status: 'no-drift', referenceCount: 31, currentCount: 31 });
    expect(r.drifted).toEqual([]);
  }, 180_000);

  it('July 2023 against February 2023: an alert', async () => {
    const r = await detectSeasonalDrift(daily, { timestamp: 'day', window: { start: '2023-07-01', end: '2023-08-01' }, baseline: { start: '2023-02-01', end: '2023-03-01' }, drift });
    expect(r.baseline.kind).toBe('given');
    expect(r.columns[0]).toMatchObject({ method: 'ks', status: 'drift', referenceCount: 28 });
    expect(r.drifted).toEqual(['stays']);
  }, 180_000);

  it('July 2020 against July 2019 (the collapse of stays): an alert', async () => {
    const r = await detectSeasonalDrift(daily, { timestamp: 'day', window: { start: '2020-07-01', end: '2020-08-01' }, drift });
    expect(r.baseline.kind).toBe('seasonal');
    expect(r.drifted).toEqual(['stays']);
    // One row per day on both sides: the row volume is unchanged, the stays per day are not.
    expect(r.volume).toEqual({ windowRows: 31, baselineRowsPerRange: 31, change: 0, alert: false });
  }, 180_000);

  it('a window with no year of history before it falls back to the trailing window, and says so', async () => {
    const r = await detectSeasonalDrift(daily, { timestamp: 'day', window: { start: '2014-09-01', end: '2014-10-01' }, drift: { ...drift, minReferenceRows: 10 } });
    // September has 30 days: the trailing window is the 30 days before it.
    expect(r.baseline.kind).toBe('trailing');
    expect(r.baseline.description).toMatch(/^trailing window 2014-08-02 … 2014-09-01 \(history from 2014-07-01 does not reach a year back\)$/);
  }, 180_000);
});
