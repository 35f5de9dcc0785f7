/**
 * The autoscaler with the local-process provider: a head with no workers launches one when a task
 * waits, removes it once idle, never exceeds maxWorkers, and holds (with a reason) for demand no
 * worker of its shape can serve. Decisions are visible in clusterStatus().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatus, get, init, shutdown, startLocalCluster, type LocalCluster } from 'shoal';
import { waitFor } from '../../harness/test-cluster.js';
import { sleepy, square } from '../../fixtures/core/index.js';

interface AutoscalerStatus {
  decisions: Array<{ action: string; nodeId?: string; reason: string }>;
}
const autoscaler = async (): Promise<AutoscalerStatus> => ((await clusterStatus()) as unknown as { autoscaler: AutoscalerStatus }).autoscaler;

let cluster: LocalCluster;
beforeAll(async () => {
  cluster = await startLocalCluster({
    numWorkers: 0,
    headOptions: { autoscaler: { minWorkers: 0, maxWorkers: 2, idleTimeoutS: 2, workerResources: { CPU: 1 }, workerObjectStoreBytes: 64 * 2 ** 20 } },
  });
  await init({ address: cluster.head.address, tokenFile: cluster.head.tokenFile });
});
afterAll(async () => {
  await shutdown();
  await cluster?.stop();
});

describe('autoscaler (local processes)', () => {
  it('launches a worker for a waiting task, then removes it when idle', async () => {
    expect((await clusterStatus()).nodes).toHaveLength(0);
    expect(await get(square.remote(7), { timeoutMs: 30_000 })).toBe(49);
    const launched = (await autoscaler()).decisions.find((d) => d.action === 'launch');
    expect(launched?.reason).toMatch(/task\(s\) wait for \{"CPU":1\}/);
    await waitFor('the idle worker to be removed', async () => ((await clusterStatus()).nodes.length === 0 ? true : undefined), 20_000, 250);
    const terminated = (await autoscaler()).decisions.find((d) => d.action === 'terminate');
    expect(terminated).toMatchObject({ nodeId: launched!.nodeId, reason: expect.stringMatching(/idle for \d+ s/) });
  });

  it('scales to maxWorkers under load and no further', async () => {
    const refs = Array.from({ length: 6 }, (_, i) => sleepy.remote(1500, i));
    let peak = 0;
    const watch = setInterval(() => void clusterStatus().then((s) => (peak = Math.max(peak, s.nodes.length))), 200);
    try {
      expect(await get(refs, { timeoutMs: 60_000 })).toHaveLength(6);
    } finally {
      clearInterval(watch);
    }
    expect(peak).toBe(2);
  });

  it('holds, with a reason, for demand no worker of its shape can serve', async () => {
    const big = square.options({ numCpus: 8 }).remote(2);
    await waitFor('a hold decision', async () => ((await autoscaler()).decisions.some((d) => d.action === 'hold' && /fits \{"CPU":8\}/.test(d.reason)) ? true : undefined));
    const { nodes } = await clusterStatus();
    expect(nodes.length).toBeLessThanOrEqual(2);
    void big;
  });
});
