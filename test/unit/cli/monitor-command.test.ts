/** `shoal monitor status|report` against a store in a temp folder (the CLI's main(), its output captured). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/index.js';
import { DecisionRecords, MonitorRecords, onlineMetrics, raiseAlert } from '../../../src/platform/index.js';
import { openStore } from '../../../src/store/index.js';

let dir: string;
let db: string;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'shoal', ...args, '--store', db], { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-cli-monitor-'));
  db = join(dir, 'store.db');
  const store = await openStore({ url: db, artifactDir: join(dir, 'artifacts') });
  const m = new MonitorRecords(store);
  for (let d = 0; d < 3; d++) {
    const exposures = [0, 1, 2, 3].map((i) => ({ requestId: `r${d}-${i}`, timeMs: T0 + d * DAY, user: `u${i}`, items: ['a', 'b'], modelVersion: 'v1', arm: i === 3 ? 'holdout' : 'stable' }));
    const outcomes = d === 2 ? [] : [{ user: 'u0', item: 'a', timeMs: T0 + d * DAY + 1 }];
    await m.addResult({ monitor: 'feedback', kind: 'online', status: 'ok', at: T0 + d * DAY + DAY / 2, summary: `day ${d}`, evidence: onlineMetrics(exposures, outcomes, { asOf: T0 + d * DAY + DAY / 2, maturityMs: 1 }) });
  }
  await m.addResult({ monitor: 'listings', kind: 'drift', status: 'cannot-judge', at: T0 + DAY, summary: 'cannot judge: price (the reference has 5 non-null values)', evidence: { columns: [], quality: [], drifted: [], referenceRows: 5, currentRows: 5 } });
  await raiseAlert(store, { source: 'retraining:recs', kind: 'retraining-failed', severity: 'critical', message: 'the pipeline failed <b>; the champion v1 stays', at: T0 + DAY });
  await new DecisionRecords(store).add({
    model: 'recs', decision: 'retrain-failed', reason: 'the pipeline failed; the champion v1 stays', at: T0 + DAY, policy: 'drift', pipelineRunId: null, candidateVersion: null, championVersion: 1, evidence: null,
  });
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shoal monitor', () => {
  it('status lists monitors, decisions with reasons and alerts', async () => {
    const r = await cli('monitor', 'status');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/feedback +online +ok .* day 2/);
    expect(r.out).toMatch(/listings +drift +cannot-judge .*cannot judge: price/);
    expect(r.out).toMatch(/recs +retrain-failed +drift +- +v1 +the pipeline failed; the champion v1 stays/);
    expect(r.out).toMatch(/retraining:recs +retraining-failed +critical/);
    const json = JSON.parse((await cli('monitor', 'status', '--json')).out) as { monitors: unknown[] };
    expect(json.monitors).toHaveLength(2);
  });

  it('report writes an HTML page with plots, decisions and alerts (escaped)', async () => {
    const out = join(dir, 'r.html');
    const r = await cli('monitor', 'report', '--from', '2026-11-01', '--to', '2026-11-05', '--out', out);
    expect(r.out).toBe(`wrote ${out}: 4 monitor results, 1 alerts, 1 retraining decisions\n`);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('feedback: hit rate by model version / arm');
    expect(html).toContain('■ v1/stable');
    expect(html).toContain('the pipeline failed &lt;b&gt;');
    expect((await cli('monitor', 'report', '--from', '2026-11-03', '--to', '2026-11-01')).err).toMatch(/^error: --to \(2026-11-01T00:00:00\.000Z\) must be after --from/);
    expect((await cli('monitor', 'report', '--from', 'yesterday')).err).toMatch(/^error: --from must be a date/);
  });
});
