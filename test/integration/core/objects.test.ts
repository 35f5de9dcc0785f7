/**
 * Object lifetime on a real cluster: objects past the store's memory cap spill to disk and come back
 * intact, and an object is freed in the worker's store once the driver holds no reference to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, wait, type ObjectRef } from 'shoal';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { filled, total } from '../../fixtures/core/index.js';

const MB = 1024 * 1024;
let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2, objectStoreBytes: 64 * MB });
});
afterAll(async () => {
  await tc?.stop();
});

const storeUsage = async () => (await tc.status()).nodes[0]!.usage;

describe('object store', () => {
  it('a job over three times the store memory cap completes: objects spill and come back intact', async () => {
    const n = (24 * MB) / 8; // 24 MB each, 8 of them: 192 MB through a 64 MB store
    const parts: ObjectRef<Float64Array>[] = Array.from({ length: 8 }, (_, i) => filled.remote(n, i + 1));
    await wait(parts, { numReturns: parts.length });
    const usage = await waitFor('spilled bytes in the heartbeat', async () => {
      const u = await storeUsage();
      return u && u.spilledBytes > 0 ? u : undefined;
    });
    expect(usage.objectStoreBytes).toBeLessThanOrEqual(64 * MB);
    const sums = await get(parts.map((p) => total.remote(p)));
    expect(sums).toEqual(Array.from({ length: 8 }, (_, i) => n * (i + 1)));
  });

  it('frees an object in the worker store when the driver drops its last reference, and only that one', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'vitest runs test files with --expose-gc').toBeTypeOf('function');
    // Start from an empty store (the previous test's objects are unreferenced once collected), so a
    // drop in the count cannot come from some other object being freed meanwhile.
    await waitFor('an empty store', async () => {
      gc!();
      return (await storeUsage())!.objects === 0 ? true : undefined;
    }, 15_000, 300);
    const kept = filled.remote((4 * MB) / 8, 3); // still referenced below: must survive
    await (async () => {
      const big = filled.remote((8 * MB) / 8, 7);
      expect(await get(total.remote(big))).toBe(7 * MB);
    })();
    await waitFor('both objects in the store', async () => ((await storeUsage())!.objects === 2 ? true : undefined));
    // `big` is out of scope: collect it, and the FinalizationRegistry releases it at the head.
    const freed = await waitFor('the store to drop the unreferenced object', async () => {
      gc!();
      const u = (await storeUsage())!;
      return u.objects === 1 ? u : undefined;
    }, 15_000, 300);
    // What is left is the 4 MB object still referenced, not the 8 MB one; and it still reads back.
    expect(freed.objectStoreBytes + freed.spilledBytes).toBeGreaterThanOrEqual(4 * MB);
    expect(freed.objectStoreBytes + freed.spilledBytes).toBeLessThan(8 * MB);
    expect(await get(total.remote(kept))).toBe(1.5 * MB);
  });
});
