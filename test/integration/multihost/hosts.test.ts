/**
 * A cluster across namespace hosts (head on host 1, workers on hosts 2 and 3): tasks and actors run
 * on the other hosts, and a 50 MiB object made on host 2 travels over the network to a task pinned
 * to host 3. Host 3's object store is capped at 64 MiB and takes three times that in objects, so it
 * spills to disk.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { free, get } from 'shoal';
import { hostAddress, NetnsCluster, waitFor } from '../../harness/netns-cluster.js';
import { block, checksum, localBlockSum, localChecksum, makeBytes, sumBlocks, Tally, whereAmI } from '../../fixtures/multihost/tasks.js';
import { describeMultihost } from './support.js';

const MiB = 2 ** 20;
let nc: NetnsCluster;

describeMultihost('a cluster across namespace hosts', () => {
  beforeAll(async () => {
    nc = await NetnsCluster.start({
      hosts: 3, workerCpus: 1, objectStoreBytes: { 2: 256 * MiB, 3: 64 * MiB }, workerEnv: { 2: { SHOAL_TRACE: 'objects' } },
    });
  }, 300_000);
  afterAll(async () => {
    await nc?.stop();
  });

  it('lists the workers with the addresses of their own hosts', async () => {
    const s = await nc.status();
    const byId = new Map(s.nodes.map((n) => [n.id, n.address]));
    expect(byId.get(nc.nodeId(2))).toMatch(/^10\.213\.0\.12:\d+$/);
    expect(byId.get(nc.nodeId(3))).toMatch(/^10\.213\.0\.13:\d+$/);
    expect(nc.headAddress).toMatch(/^10\.213\.0\.11:\d+$/);
  });

  it('runs tasks on the workers of other hosts', async () => {
    const on = (host: number) => whereAmI.options({ schedulingStrategy: { nodeId: nc.nodeId(host), soft: false } }).remote();
    const [a, b] = await get([on(2), on(3)], { timeoutMs: 20_000 });
    expect(a).toEqual({ pid: nc.workerPid(2), address: hostAddress(2) });
    expect(b).toEqual({ pid: nc.workerPid(3), address: hostAddress(3) });
  });

  it('runs an actor on another host', async () => {
    const t = Tally.options({ schedulingStrategy: { nodeId: nc.nodeId(3), soft: false } }).remote();
    expect(await get([t.add.remote(2), t.add.remote(3)], { timeoutMs: 20_000 })).toEqual([2, 5]);
    expect(await get(t.where.remote(), { timeoutMs: 10_000 })).toEqual({ pid: nc.workerPid(3), address: hostAddress(3) });
  });

  it('a 50 MiB object made on host 2 is read by a task pinned to host 3 over the network', async () => {
    const made = makeBytes.options({ schedulingStrategy: { nodeId: nc.nodeId(2), soft: false } }).remote(50, 1);
    const sum = checksum.options({ schedulingStrategy: { nodeId: nc.nodeId(3), soft: false } }).remote(made);
    const r = await get(sum, { timeoutMs: 60_000 });
    expect(r).toEqual({ ...localChecksum(50, 1), address: hostAddress(3) });
    // Host 2's worker served the bytes to host 3's address: they crossed the bridge.
    const served = new RegExp(`serving ${made.id} \\((\\d+) B\\) to (?:ipv4:)?${hostAddress(3).replace(/\./g, '\\.')}:`).exec(nc.workerStderr(2));
    expect(served, "host 2's object trace names the transfer to host 3").not.toBeNull();
    expect(Number(served![1])).toBeGreaterThanOrEqual(50 * MiB);
    free([made, sum]);
  });

  it('a worker with a 64 MiB object store processes 3x that in objects (spill)', async () => {
    const pin3 = { schedulingStrategy: { nodeId: nc.nodeId(3), soft: false } } as const;
    // 24 blocks of 8 MiB = 192 MiB, all made and held on host 3, then read back by tasks there.
    const blocks = Array.from({ length: 24 }, (_, i) => block.options(pin3).remote(i, 8 * 1024, 0));
    const sums = [];
    for (let g = 0; g < 24; g += 4) sums.push(sumBlocks.options(pin3).remote(...blocks.slice(g, g + 4)));
    const results = await get(sums, { timeoutMs: 60_000 });
    const expected = [];
    for (let g = 0; g < 24; g += 4) expected.push({ sum: [0, 1, 2, 3].reduce((s, k) => s + localBlockSum(g + k, 8 * 1024), 0), address: hostAddress(3) });
    expect(results).toEqual(expected);
    // Usage reaches the head with the worker's heartbeats.
    const node = await waitFor('host 3 to report spilled bytes', async () => (await nc.status()).nodes.find((n) => n.id === nc.nodeId(3) && (n.usage?.spilledBytes ?? 0) > 0), 10_000);
    expect(node.usage?.objectStoreBytes ?? 0).toBeLessThanOrEqual(64 * MiB);
    free([...blocks, ...sums]);
  });
});
