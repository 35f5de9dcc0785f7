/**
 * A worker process on another host SIGKILLed in the middle of a job of many 200 ms tasks: the
 * steps it had started rerun on the surviving host (each attempt leaves a file naming its host, so
 * the retry is seen, not inferred), the job's results equal those of a run without the failure, and
 * the head drops the node. How fast the kill is detected is a timing: not asserted here (no bench
 * measures it yet; bench/suites/chaos.ts times the whole job with faults).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get } from 'shoal';
import { NetnsCluster, waitFor } from '../../harness/netns-cluster.js';
import { loggedStep } from '../../fixtures/multihost/tasks.js';
import { describeMultihost } from './support.js';

const TASKS = 24;
const HOST2 = '10.213.0.12';
const HOST3 = '10.213.0.13';
let nc: NetnsCluster;
let dir: string;

const job = (d: string) => Array.from({ length: TASKS }, (_, i) => loggedStep.remote(i, 200, d));
const values = (rs: Array<{ i: number; value: number }>) => rs.map(({ i, value }) => ({ i, value }));
/** The steps whose attempt started on `host`, from the files the attempts wrote. */
const startedOn = async (d: string, host: string): Promise<Set<number>> =>
  new Set((await readdir(d)).filter((f) => f.endsWith(`@${host}`)).map((f) => Number(f.split('@')[0])));

describeMultihost('a worker killed mid-job on another host', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-worker-killed-'));
    nc = await NetnsCluster.start({ hosts: 3, workerCpus: 1 });
  }, 300_000);
  afterAll(async () => {
    await nc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the steps host 3 had started are retried on host 2; the job result equals a run without the failure', async () => {
    const baselineDir = await mkdtemp(join(dir, 'baseline-'));
    const baseline = values(await get(job(baselineDir), { timeoutMs: 30_000 }));

    const victim = nc.nodeId(3);
    const runDir = await mkdtemp(join(dir, 'run-'));
    const refs = job(runDir);
    // Kill once host 3 has started a step of this job (its attempt file exists), not after a sleep.
    await waitFor('a step started on host 3', async () => ((await startedOn(runDir, HOST3)).size > 0 ? true : undefined), 30_000, 20);
    await nc.killWorker(3);
    await waitFor('host 3 gone', async () => !(await nc.status()).nodes.some((n) => n.id === victim && n.alive), 30_000, 20);

    const results = await get(refs, { timeoutMs: 60_000 });
    expect(values(results)).toEqual(baseline);
    // A step that started on host 3 but whose result came from host 2 was retried there.
    const onHost3 = await startedOn(runDir, HOST3);
    const retried = results.filter((r) => onHost3.has(r.i) && r.address === HOST2).map((r) => r.i);
    expect(retried.length, `steps started on host 3: ${[...onHost3].join(', ')}`).toBeGreaterThan(0);
    // ... and each of those has an attempt file from host 2 too.
    const onHost2 = await startedOn(runDir, HOST2);
    for (const i of retried) expect(onHost2.has(i)).toBe(true);
    const s = await nc.status();
    expect(s.nodes.map((n) => n.id)).toEqual([nc.nodeId(2)]);
  });
});
