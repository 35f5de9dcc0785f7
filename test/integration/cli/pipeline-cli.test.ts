/**
 * `shoal pipeline run|list|show|resume` as a real process against a real cluster, recording into
 * the store under its SHOAL_HOME; the pipeline modules are the TypeScript fixtures (loaded through tsx).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../../harness/test-cluster.js';
import { CliHome, REPO_ROOT } from './cli-harness.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'platform');
let cluster: TestCluster;
const home = new CliHome();
let env: Record<string, string>;

beforeAll(async () => {
  cluster = await TestCluster.start({ numCpus: 2, numWorkers: 1, connect: false });
  env = { SHOAL_TOKEN_FILE: cluster.headInfo.tokenFile };
});
afterAll(async () => {
  await cluster?.stop();
  home.cleanup();
});

const shoal = (args: string[]) => home.run(['pipeline', ...args, ...(['run', 'resume'].includes(args[0]!) ? ['--address', cluster.address] : [])], { env, timeoutMs: 90_000 });

describe('shoal pipeline', () => {
  let failedRun: string;

  it('run prints the DAG with states; a second run shows the cache hits; --no-cache runs everything', async () => {
    const data = join(home.dir, 'data.txt');
    await writeFile(data, '1\n2\n');
    const first = await shoal(['run', join(FIXTURES, 'cache-v1.ts'), '--param', `path=${data}`, '--param', 'scale=3']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^pipeline run \S+ {2}cache-demo {2}FINISHED/);
    expect(first.stdout).toMatch(/params: path=".*data\.txt" scale=3 text="x"/);
    expect(first.stdout).toMatch(/\n {2}count ← read\s+succeeded\s+\S+\s+-\s+1/);
    const second = await shoal(['run', join(FIXTURES, 'cache-v1.ts'), '--param', `path=${data}`, '--param', 'scale=3', '--json']);
    expect(second.code).toBe(0);
    const run = JSON.parse(second.stdout) as { status: string; steps: Array<{ step: string; state: string; cacheHit: boolean }> };
    expect(run.status).toBe('FINISHED');
    expect(Object.fromEntries(run.steps.map((s) => [s.step, s.state]))).toEqual({ read: 'succeeded', count: 'cached', report: 'cached', label: 'cached' });
    const third = await shoal(['run', join(FIXTURES, 'cache-v1.ts'), '--param', `path=${data}`, '--param', 'scale=3', '--no-cache', '--json']);
    expect((JSON.parse(third.stdout) as typeof run).steps.every((s) => s.state === 'succeeded')).toBe(true);
  });

  it('a bad parameter is refused before anything runs', async () => {
    const r = await shoal(['run', join(FIXTURES, 'cache-v1.ts'), '--param', 'path=x', '--param', 'scale=zero']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: pipeline 'cache-demo' option 'params.scale' must be an integer; got "zero"\n`);
    const bad = await shoal(['run', join(FIXTURES, 'cache-v1.ts'), '--param', 'scale']);
    expect(bad.stderr).toMatch(/--param must be NAME=VALUE; got "scale"/);
    const several = await shoal(['run', join(FIXTURES, 'pipelines.ts')]);
    expect(several.stderr).toMatch(/exports several pipelines \(fail-demo, fan-demo, kill-demo, source-demo, timeout-demo, wiring-demo\); name one/);
    const missing = await shoal(['run', join(FIXTURES, 'nope.ts')]);
    expect(missing.stderr).toMatch(/nope\.ts: no such file/);
  }, 180_000); // four CLI processes, each compiling its fixture: past 60 s at load 19

  it('a failing run exits 1 naming the step; resume re-runs the failed step and downstream only', async () => {
    const flag = join(home.dir, 'flag');
    const r = await shoal(['run', join(FIXTURES, 'pipelines.ts'), '--name', 'fail-demo', '--param', `flag=${flag}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: pipeline 'fail-demo' run (\S+) failed at step 'boom': RangeError/);
    failedRun = /run (\S+) failed/.exec(r.stderr)![1]!;
    expect(r.stdout).toMatch(/\n {2}after ← boom\s+not-run/);
    await writeFile(flag, '');
    expect(existsSync(flag)).toBe(true);
    const resumed = await shoal(['resume', failedRun.slice(0, 10), '--json']);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const run = JSON.parse(resumed.stdout) as { resumedFrom: string; steps: Array<{ step: string; state: string }> };
    expect(run.resumedFrom).toBe(failedRun);
    expect(Object.fromEntries(run.steps.map((s) => [s.step, s.state]))).toEqual({ first: 'reused', side: 'reused', boom: 'succeeded', after: 'succeeded' });
  });

  it('list and show read the store (no cluster needed)', async () => {
    const list = await shoal(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n').filter((l) => /cache-demo|fail-demo/.test(l))).toHaveLength(5);
    expect(list.stdout).toMatch(/fail-demo\s+FAILED/);
    const show = await shoal(['show', failedRun]);
    expect(show.stdout).toMatch(/boom ← first\s+failed\s+\S+\s+-\s+1\s+RangeError: boom: no /);
    const none = await shoal(['show', 'nosuchrun']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('error: no pipeline run "nosuchrun" in the store\n');
  });
});
