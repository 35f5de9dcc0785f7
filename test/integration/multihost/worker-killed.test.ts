/**
 * A worker process on another host SIGKILLed in the middle of a job of many 200 ms tasks: its
 * tasks rerun on the surviving host, the job's results equal those of a run without the failure,
 * and the head drops the node within a few seconds.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get } from 'shoal';
import { NetnsCluster, waitFor } from '../../harness/netns-cluster.js';
import { step } from '../../fixtures/multihost/tasks.js';
import { describeMultihost } from './support.js';

const TASKS = 24;
let nc: NetnsCluster;

const job = () => Array.from({ length: TASKS }, (_, i) => step.remote(i, 200));
const values = (rs: Array<{ i: number; value: number }>) => rs.map(({ i, value }) => ({ i, value }));

describeMultihost('a worker killed mid-job on another host', () => {
  beforeAll(async () => {
    nc = await NetnsCluster.start({ hosts: 3, workerCpus: 1 });
  }, 300_000);
  afterAll(async () => {
    await nc?.stop();
  });

  it('the job result equals a run without the failure; the node is gone within seconds', async () => {
    const baseline = values(await get(job(), { timeoutMs: 30_000 }));

    const victim = nc.nodeId(3);
    const refs = job();
    await waitFor('tasks running on host 3', async () => (await nc.status()).nodes.find((n) => n.id === victim)?.inflightTasks, 10_000, 20);
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await nc.killWorker(3);
    await waitFor('host 3 gone', async () => !(await nc.status()).nodes.some((n) => n.id === victim && n.alive), 5_000, 20);
    const detectedMs = Date.now() - killedAt;
    console.log(`worker kill detected in ${detectedMs} ms`);
    expect(detectedMs).toBeLessThan(5_000);

    const results = await get(refs, { timeoutMs: 60_000 });
    expect(values(results)).toEqual(baseline);
    // Every result after the kill came from the surviving host.
    expect(new Set(results.map((r) => r.address)).has('10.213.0.12')).toBe(true);
    const s = await nc.status();
    expect(s.nodes.map((n) => n.id)).toEqual([nc.nodeId(2)]);
  });
});
