/**
 * Output drift on a real cluster over exposure logs as serving writes them (ParquetExposureLog,
 * read back with readParquet): the Dataset path's report equals the in-process one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from 'shoal/data';
import { detectOutputDrift, detectOutputDriftInProcess } from 'shoal/platform';
import { ParquetExposureLog, type ExposureRecord } from 'shoal/serve';
import { TestCluster } from '../../harness/test-cluster.js';

let tc: TestCluster;
let dir: string;
beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  dir = mkdtempSync(join(tmpdir(), 'shoal-output-drift-'));
}, 120_000);
afterAll(async () => {
  await tc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes a window of the exposure log (several part files) and returns its folder. */
async function window(name: string, n: number, item: (i: number, k: number) => string, score: (i: number, k: number) => number): Promise<string> {
  const log = new ParquetExposureLog(join(dir, name), { batchSize: Math.ceil(n / 3), flushIntervalMs: 60_000 });
  for (let i = 0; i < n; i++) {
    const rec: ExposureRecord = {
      requestId: `${name}-${i}`, timeMs: 1_700_000_000_000 + i, user: `u${i % 40}`, modelVersion: 'v1', arm: 'stable',
      items: [0, 1, 2].map((k) => item(i, k)), scores: i % 50 === 7 ? null : [0, 1, 2].map((k) => score(i, k)),
    };
    log.append(rec);
  }
  expect(await log.close()).toBe(n);
  return join(dir, name);
}

describe('detectOutputDrift over exposure-log Datasets', () => {
  it('equals the in-process report; a narrower, higher-scored window alerts on scores, coverage and concentration', async () => {
    const ref = await window('ref', 600, (i, k) => `l${(i * 7 + k * 13) % 90}`, (i, k) => 0.5 + 0.3 * Math.sin(i * 1.7 + k));
    const cur = await window('cur', 500, (i, k) => `l${(i + k) % 30}`, (i, k) => 0.8 + 0.3 * Math.sin(i * 1.3 + k));
    const options = { catalogue: 120 };
    const got = await detectOutputDrift(readParquet(ref), readParquet(cur), options);
    const want = await detectOutputDriftInProcess(await readParquet(ref).collect(), await readParquet(cur).collect(), options);
    // The same figures; the mean score up to summation order (partials summed per partition).
    for (const side of ['reference', 'current'] as const) {
      expect({ ...got[side], meanScore: 0 }).toEqual({ ...want[side], meanScore: 0 });
      expect(got[side].meanScore).toBeCloseTo(want[side].meanScore!, 12);
    }
    expect(got.reference.requests).toBe(600);
    expect(got.reference.exposures).toBe(1800);
    expect(got.reference.scores).toBe(1800 - 12 * 3);
    expect(got.current.distinctItems).toBe(30);
    expect(got.current.coverage).toBeCloseTo(30 / 120, 12);
    expect(got.scores.method).toBe('wasserstein');
    expect(got.scores.statistic).toBeCloseTo(want.scores.statistic!, 9);
    expect(got.alerts.map((a) => a.kind).sort()).toEqual(['coverage-change', 'gini-change', 'score-drift']);
  }, 120_000);
});
