/** Placement groups on a real cluster: reservation, scheduling into bundles, infeasible groups, removal. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, get, inPlacementGroup, InfeasibleError, placementGroup, ShoalError, wait } from 'shoal';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { markThenSpin, pidAfter } from '../../fixtures/core/index.js';

let tc: TestCluster;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-pg-'));
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
});
afterAll(async () => {
  await tc?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const freeCpu = async (): Promise<number> => (await tc.status()).nodes[0]!.available.CPU ?? 0;

describe('placement groups', () => {
  it('2 bundles of { CPU: 1 } with PACK become ready and reserve 2 CPUs; remove frees them', async () => {
    const pg = placementGroup([{ CPU: 1 }, { CPU: 1 }], { strategy: 'PACK' });
    await pg.ready({ timeoutMs: 10_000 });
    expect(await freeCpu()).toBe(0);
    const status = await tc.status();
    expect((status as unknown as { placementGroups: Array<{ id: string; state: string }> }).placementGroups)
      .toContainEqual(expect.objectContaining({ id: pg.id, state: 'created' }));
    await pg.remove();
    await waitFor('2 free CPUs after remove', async () => (await freeCpu()) === 2);
  });

  it('runs tasks scheduled into its bundles', async () => {
    const pg = placementGroup([{ CPU: 1 }, { CPU: 1 }]);
    await pg.ready({ timeoutMs: 10_000 });
    const refs = [0, 1].map((i) => pidAfter.options({ schedulingStrategy: inPlacementGroup(pg, i) }).remote(200));
    const any = pidAfter.options({ schedulingStrategy: inPlacementGroup(pg) }).remote(10);
    const pids = await get([...refs, any], { timeoutMs: 10_000 });
    expect(new Set(pids)).toEqual(new Set([tc.workers[0]!.child.pid]));
    await pg.remove();
    await waitFor('2 free CPUs after remove', async () => (await freeCpu()) === 2);
  });

  it('a task in a bundle waits while the bundle is busy, and runs when it frees', async () => {
    const pg = placementGroup([{ CPU: 1 }]);
    await pg.ready({ timeoutMs: 10_000 });
    const opts = { schedulingStrategy: inPlacementGroup(pg, 0) };
    const first = pidAfter.options(opts).remote(800);
    const second = pidAfter.options(opts).remote(0);
    const { ready } = await wait([second], { timeoutMs: 400 });
    expect(ready).toEqual([]);
    await get([first, second], { timeoutMs: 10_000 });
    await pg.remove();
  });

  it('an infeasible bundle ({ CPU: 64 }) does not become ready within a timeout', async () => {
    const pg = placementGroup([{ CPU: 64 }]);
    // ready() must honour its timeout: a group that never fits would otherwise hang the test.
    const err = await pg.ready({ timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShoalError);
    // The head is reachable; the group just cannot be placed. A ConnectionError ("cannot reach a
    // shoal head") would send the user looking at the network.
    expect(err).not.toBeInstanceOf(ConnectionError);
    expect(await freeCpu()).toBe(2); // nothing was reserved
    await pg.remove();
  });

  it('removing a pending group rejects its ready() with InfeasibleError', async () => {
    const pg = placementGroup([{ CPU: 64 }]);
    const ready = pg.ready().catch((e: unknown) => e);
    // No sleep: creating, waiting and removing go on the one ordered session stream.
    await pg.remove();
    expect(await ready).toBeInstanceOf(InfeasibleError);
  });

  it('a task scheduled into a removed group fails with InfeasibleError', async () => {
    const pg = placementGroup([{ CPU: 1 }]);
    await pg.ready({ timeoutMs: 10_000 });
    await pg.remove();
    const err = await get(pidAfter.options({ schedulingStrategy: inPlacementGroup(pg, 0) }).remote(0), { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfeasibleError);
  });

  it('removing a group with busy bundles does not leak or double-free CPUs', async () => {
    const pg = placementGroup([{ CPU: 1 }, { CPU: 1 }]);
    await pg.ready({ timeoutMs: 10_000 });
    // Both bundles busy: each task has written its marker before the group is removed.
    const markers = [0, 1].map((i) => join(dir, `pg-busy-${i}`));
    const refs = [0, 1].map((i) => markThenSpin.options({ schedulingStrategy: inPlacementGroup(pg, i) }).remote(markers[i]!, 500));
    await waitFor('both bundles running a task', () => markers.every((m) => existsSync(m)), 20_000, 20);
    await pg.remove();
    await get(refs, { timeoutMs: 10_000 }).catch(() => undefined);
    // Once nothing runs, exactly the node's 2 CPUs are free: none leaked, none freed twice.
    await waitFor('no task running', async () => ((await tc.status()).tasks.running === 0 ? true : undefined), 20_000);
    await waitFor('the CPUs back', async () => ((await freeCpu()) >= 2 ? true : undefined), 20_000);
    expect(await freeCpu()).toBe(2);
  });
});
