/**
 * A slow link to a worker host: results stay correct. The link is slowed by a bandwidth cap (tc tbf),
 * and the test checks from the qdisc's own counters that the cap shaped the traffic (the 4 MiB object
 * leaving the host waited for tokens), not from a duration.
 *
 * No delay scenario: a fixed per-packet delay needs tc netem (sch_netem), which this kernel lacks
 * (of the qdiscs, only tbf, htb and pfifo load here; tbf and htb shape rate, they cannot add latency).
 * It used to be a test skipped everywhere; it is left out instead of skipped silently.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { free, get } from 'shoal';
import { hostAddress, NetnsCluster } from '../../harness/netns-cluster.js';
import { block, localBlockSum, step, sumBlocks } from '../../fixtures/multihost/tasks.js';
import { describeMultihost } from './support.js';

let nc: NetnsCluster;

describeMultihost('a slow link to a worker host', () => {
  beforeAll(async () => {
    nc = await NetnsCluster.start({ hosts: 3, workerCpus: 2 });
  }, 300_000);
  afterAll(async () => {
    await nc?.stop();
  });

  const pinned = (host: number) => ({ schedulingStrategy: { nodeId: nc.nodeId(host), soft: false } });

  /** Tasks on host 2 and an object made there read by a task on host 3. */
  async function job(): Promise<void> {
    const steps = await get(Array.from({ length: 8 }, (_, i) => step.options(pinned(2)).remote(i, 20)), { timeoutMs: 60_000 });
    expect(steps.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(steps.every((s) => s.address === hostAddress(2) && s.value === (s.i * 2654435761) % 1_000_003)).toBe(true);
    const b = block.options(pinned(2)).remote(5, 4 * 1024, 0);
    const s = sumBlocks.options(pinned(3)).remote(b);
    expect(await get(s, { timeoutMs: 60_000 })).toEqual({ sum: localBlockSum(5, 4 * 1024), address: hostAddress(3) });
    free([b, s]);
  }

  it('with the bandwidth capped at 20 mbit results are still correct, and the cap shaped the traffic', async () => {
    nc.rate(2, '20mbit');
    try {
      await job();
      // The cap was in place and shaped the traffic: the object's 4 MiB left host 2 through the tbf,
      // and packets had to wait for its tokens.
      const st = nc.qdiscStats(2);
      expect(st.kind).toBe('tbf');
      expect(st.sentBytes).toBeGreaterThanOrEqual(4 * 2 ** 20);
      expect(st.overlimits).toBeGreaterThan(0);
    } finally {
      nc.clear(2);
    }
  });
});
