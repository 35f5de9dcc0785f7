/** Retraining policies against a real store (SQLite in a temp folder): each fires on its signal, with its reason, and not before. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorRecords, onlineMetrics, type Exposure, type Outcome } from '../../../src/platform/index.js';
import { firstFiring } from '../../../src/platform/retraining/retraining-policy.js';
import { openStore, type Store } from '../../../src/store/index.js';

let dir: string;
let store: Store;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-policy-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** An online result of `n` stable exposures of v1, `hits` of them hit. */
async function online(at: number, n: number, hits: number): Promise<void> {
  const exposures: Exposure[] = Array.from({ length: n }, (_, i) => ({ requestId: `${at}-${i}`, timeMs: at - DAY, user: `u${i}`, items: ['a'], modelVersion: 'v1', arm: 'stable' }));
  const outcomes: Outcome[] = exposures.slice(0, hits).map((e) => ({ user: e.user, item: 'a', timeMs: e.timeMs + 1 }));
  await new MonitorRecords(store).addResult({ monitor: 'fb', kind: 'online', status: 'ok', at, summary: '', evidence: onlineMetrics(exposures, outcomes, { asOf: at, maturityMs: 1000 }) });
}

describe('retraining policies', () => {
  it('schedule: fires once its next occurrence after the last retrain is due', async () => {
    const p = [{ kind: 'schedule' as const, cron: '0 3 * * *' }];
    expect(await firstFiring(store, p, T0, T0 + 2 * 3600_000)).toBeUndefined();
    const f = await firstFiring(store, p, T0, T0 + 4 * 3600_000);
    expect(f).toMatchObject({ policy: 'schedule', reason: 'schedule 0 3 * * * was due at 2026-11-01T03:00:00.000Z' });
  });

  it('drift: fires on an alert result newer than the last retrain, not on cannot-judge', async () => {
    const m = new MonitorRecords(store);
    const p = [{ kind: 'drift' as const, monitor: 'listings' }];
    await m.addResult({ monitor: 'listings', kind: 'drift', status: 'cannot-judge', at: T0 + DAY, summary: 'cannot judge: price', evidence: null });
    expect(await firstFiring(store, p, T0, T0 + 2 * DAY)).toBeUndefined();
    await m.addResult({ monitor: 'listings', kind: 'drift', status: 'alert', at: T0 + 2 * DAY, summary: 'drifted: price', evidence: null });
    expect(await firstFiring(store, p, T0, T0 + 3 * DAY)).toMatchObject({ policy: 'drift', reason: 'drift monitor listings alerted at 2026-11-03T00:00:00.000Z: drifted: price' });
    expect(await firstFiring(store, p, T0 + 2 * DAY + 1, T0 + 3 * DAY)).toBeUndefined();
  });

  it('online-metric-drop: fires when the stable hit rate fell more than allowed below its first judged result', async () => {
    const p = [{ kind: 'online-metric-drop' as const, monitor: 'fb', maxRelativeDrop: 0.2, minExposures: 50 }];
    await online(T0 + DAY, 100, 40);
    await online(T0 + 2 * DAY, 100, 35); // −12.5 %: within the allowed drop
    expect(await firstFiring(store, p, T0, T0 + 3 * DAY)).toBeUndefined();
    await online(T0 + 3 * DAY, 20, 0); // too few exposures to judge
    expect(await firstFiring(store, p, T0, T0 + 4 * DAY)).toBeUndefined();
    await online(T0 + 4 * DAY, 100, 30); // −25 %
    expect(await firstFiring(store, p, T0, T0 + 5 * DAY)).toMatchObject({
      policy: 'online-metric-drop', reason: 'hit rate of v1 (stable arm) fell to 30.00% from 40.00% (more than 20.00% lower)',
    });
  });

  it('data-volume: fires at the minimum, and policies are checked in order', async () => {
    let rows = 99;
    const p = [{ kind: 'data-volume' as const, minNewRows: 100, newRows: () => Promise.resolve(rows) }, { kind: 'schedule' as const, cron: '0 3 * * *' }];
    expect((await firstFiring(store, p, T0, T0 + 4 * 3600_000))?.policy).toBe('schedule');
    rows = 100;
    expect(await firstFiring(store, p, T0, T0 + 4 * 3600_000)).toMatchObject({ policy: 'data-volume', reason: '100 new rows since 2026-11-01T00:00:00.000Z (at least 100)' });
  });
});
