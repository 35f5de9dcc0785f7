/**
 * Drift on a real cluster: the summaries run as one task per partition and merge on the driver; the
 * report equals the in-process one over the same rows (fixed thresholds: every statistic, p-value and
 * quality alert), and calibrated thresholds come out of the per-partition chunks.
 */
import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromArrow } from 'shoal/data';
import { detectDrift, detectDriftInProcess } from 'shoal/platform';
import { TestCluster } from '../../harness/test-cluster.js';

const G = JSON.parse(readFileSync(new URL('../../fixtures/platform/monitoring/scipy-golden.json', import.meta.url), 'utf8')) as Record<string, { reference: (number | string)[]; shifted: (number | string)[] }>;

let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
}, 120_000);
afterAll(async () => {
  await tc?.stop();
});

/** A table of the four golden cases side by side (cut to the shortest), plus a column that changes type. */
function table(side: 'reference' | 'shifted', n: number): arrow.Table {
  const pick = (k: string): (number | string)[] => G[k]![side].slice(0, n);
  return new arrow.Table({
    ks: arrow.vectorFromArray(pick('ks'), new arrow.Float64()),
    chi: arrow.vectorFromArray(pick('chi2'), new arrow.Utf8()),
    w: arrow.vectorFromArray(pick('wasserstein').map((x, i) => (side === 'shifted' && i % 9 === 0 ? null : x)), new arrow.Float64()),
    js: arrow.vectorFromArray(pick('jensen_shannon'), new arrow.Utf8()),
    beds: side === 'reference' ? arrow.vectorFromArray(pick('ks').map((_, i) => i % 4), new arrow.Int32()) : arrow.vectorFromArray(pick('ks').map((_, i) => String(i % 4)), new arrow.Utf8()),
  });
}

describe('detectDrift over Datasets', () => {
  it('equals the in-process report with fixed thresholds (3 and 4 partitions)', async () => {
    const ref = table('reference', 300);
    const cur = table('shifted', 300);
    const want = await detectDriftInProcess(ref, cur, { thresholds: 'fixed', smallSampleMax: 200 });
    const got = await detectDrift(fromArrow(ref, { numPartitions: 3 }), fromArrow(cur, { numPartitions: 4 }), { thresholds: 'fixed', smallSampleMax: 200 });
    expect(got.columns.map((c) => [c.column, c.method, c.status])).toEqual(want.columns.map((c) => [c.column, c.method, c.status]));
    for (const [i, c] of got.columns.entries()) {
      expect(c.statistic).toBeCloseTo(want.columns[i]!.statistic!, 9);
      if (c.pValue !== null) expect(c.pValue).toBeCloseTo(want.columns[i]!.pValue!, 9);
    }
    expect(got.quality).toEqual(want.quality);
    expect(got.quality.map((q) => `${q.kind}:${q.column}`)).toEqual(['type-changed:beds', 'null-rate:w']);
    expect([got.referenceRows, got.currentRows]).toEqual([300, 300]);
  }, 180_000);

  it('small columns use exact values merged across partitions; calibrated thresholds from partition chunks', async () => {
    const ref = table('reference', 300);
    const cur = table('shifted', 300);
    const got = await detectDrift(fromArrow(ref, { numPartitions: 3 }), fromArrow(cur, { numPartitions: 2 }), { columns: ['ks', 'chi'], chunks: 5 });
    const want = await detectDriftInProcess(ref, cur, { columns: ['ks', 'chi'], chunks: 5 });
    expect(got.columns.map((c) => c.method)).toEqual(['ks', 'chi2']);
    for (const [i, c] of got.columns.entries()) {
      expect(c.statistic).toBeCloseTo(want.columns[i]!.statistic!, 9);
      expect(c.thresholdSource).toBe('calibrated');
      expect(c.calibration!.chunks).toBe(5);
      expect(Number.isFinite(c.threshold)).toBe(true);
    }
  }, 180_000);
});
