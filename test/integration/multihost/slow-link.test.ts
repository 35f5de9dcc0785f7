/**
 * A slow link to a worker host: results stay correct, only slower. Two kinds of slow: 50 ms of
 * delay each way (tc netem; skipped with a message on kernels without sch_netem) and a bandwidth
 * cap (tc tbf), under which a 4 MiB object leaving the host takes measurably longer.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { free, get } from 'shoal';
import { hostAddress, NetnsCluster, netemAvailable } from '../../harness/netns-cluster.js';
import { block, localBlockSum, step, sumBlocks } from '../../fixtures/multihost/tasks.js';
import { describeMultihost, skipReason } from './support.js';

let nc: NetnsCluster;
const netem = skipReason === undefined && netemAvailable();
if (skipReason === undefined && !netem) console.warn('skipping the netem delay test: this kernel has no tc netem (module sch_netem)');

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

  it.skipIf(!netem)(`with 50 ms of netem delay results are still correct${netem ? '' : ' (skipped: no tc netem in this kernel)'}`, async () => {
    nc.delay(2, 50);
    try {
      const t0 = Date.now();
      await job();
      console.log(`job over a 50 ms link took ${Date.now() - t0} ms`);
    } finally {
      nc.clear(2);
    }
  });

  it('with the bandwidth capped at 20 mbit results are still correct, only slower', async () => {
    nc.rate(2, '20mbit');
    try {
      const t0 = Date.now();
      await job();
      const ms = Date.now() - t0;
      console.log(`job over a 20 mbit link took ${ms} ms`);
      // 4 MiB leaving host 2 at 20 Mbit/s needs at least ~1.7 s.
      expect(ms).toBeGreaterThan(1_500);
    } finally {
      nc.clear(2);
    }
  });
});
