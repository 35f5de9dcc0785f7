/**
 * Step logs: what a step writes to stdout and stderr (console included, across its awaits) and its
 * ctx.log lines are recorded with the step in the store and printed by `shoal pipeline show RUN
 * --logs`; a failing step's log ends with its error; a cached step has no log of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from 'shoal/store';
import { MAX_LOG_LINES, PipelineRecords, PipelineRunError, runPipeline } from 'shoal/platform';
import { TestCluster } from '../../harness/test-cluster.js';
import { CliHome } from '../cli/cli-harness.js';
import logged from '../../fixtures/platform/logged.js';

let cluster: TestCluster;
let dir: string;
let store: Store;
const home = new CliHome();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-step-logs-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  cluster = await TestCluster.start({ numCpus: 2, numWorkers: 1 });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await store?.close();
  home.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('step logs', () => {
  it('records stdout, stderr and ctx.log lines of each step, in order, and show --logs prints them', async () => {
    const r = await runPipeline(logged, { store, params: { n: 2 } });
    const logs = await new PipelineRecords(store).getLogs(r.runId, 'chatty');
    expect(logs.map((l) => [l.stream, l.line])).toEqual([
      ['stdout', 'line 0'], ['stdout', 'line 1'], ['stderr', 'a warning'], ['log', "metrics { rmse: 0.5 }"], ['stdout', 'after an await'],
      ['stderr', 'no newline at the end'],
    ]);
    expect(logs.map((l) => l.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    const shown = await home.run(['pipeline', 'show', r.runId, '--logs', '--store', join(dir, 'store.db')]);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toMatch(/── chatty \(succeeded\) ──\n {2}\d\d:\d\d:\d\d\.\d{3} line 0\n/);
    expect(shown.stdout).toMatch(/\[stderr\] a warning\n.*\[log\] metrics \{ rmse: 0\.5 \}\n/);
    expect(shown.stdout).not.toMatch(/── broken/); // skipped: it has no log
    const json = await home.run(['pipeline', 'show', r.runId, '--logs', '--step', 'chatty', '--json', '--store', join(dir, 'store.db')]);
    expect((JSON.parse(json.stdout) as { logs: unknown[] }).logs).toHaveLength(6);
    const bad = await home.run(['pipeline', 'show', r.runId, '--step', 'chatty', '--store', join(dir, 'store.db')]);
    expect(bad.stderr).toMatch(/--step goes with --logs/);
  }, 120_000);

  it('a failing step\'s log ends with its error; a cached step has none of its own and says where its outputs came from', async () => {
    const err = await runPipeline(logged, { store, params: { n: 2, fail: true } }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineRunError);
    const runId = (err as PipelineRunError).runId;
    const logs = await new PipelineRecords(store).getLogs(runId);
    expect(logs.filter((l) => l.step === 'chatty')).toEqual([]); // cached
    const broken = logs.filter((l) => l.step === 'broken');
    expect(broken[0]).toMatchObject({ stream: 'stdout', line: 'about to fail with n=2' });
    expect(broken[1]!.stream).toBe('log');
    expect(broken[1]!.line).toMatch(/^step failed: RangeError: n is out of range/);
    const shown = await home.run(['pipeline', 'show', runId, '--logs', '--store', join(dir, 'store.db')]);
    expect(shown.stdout).toMatch(/── chatty \(cached\) ──\n {2}\(no log: its outputs were taken from step run \S+\)/);
    expect(shown.stdout).toMatch(/── broken \(failed\) ──\n.*about to fail with n=2/);
  }, 120_000);

  it('keeps at most MAX_LOG_LINES lines of a step, saying how many more there were', async () => {
    const r = await runPipeline(logged, { store, params: { n: MAX_LOG_LINES + 5 }, noCache: true });
    const logs = await new PipelineRecords(store).getLogs(r.runId, 'chatty');
    expect(logs).toHaveLength(MAX_LOG_LINES + 1);
    expect(logs[MAX_LOG_LINES - 1]!.line).toBe(`line ${MAX_LOG_LINES - 1}`);
    expect(logs[MAX_LOG_LINES]!).toMatchObject({ stream: 'log', line: `… 9 more lines not kept (at most ${MAX_LOG_LINES} per step)` });
  }, 120_000);
});
