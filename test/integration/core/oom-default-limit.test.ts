/**
 * The OutOfMemoryError of a task with no `memory` option names the limit it really hit: the V8
 * heap limit of the worker's task threads (here set low for the worker process with
 * --max-old-space-size), not the memory the worker offers to tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, OutOfMemoryError } from 'shoal';
import { TestCluster } from '../../harness/test-cluster.js';
import { hogDefault, ok } from '../../fixtures/core/index.js';

describe('a task with no memory option that runs out of memory', () => {
  let tc: TestCluster;
  const saved = process.env.SHOAL_NODE_ARGS;
  beforeAll(async () => {
    process.env.SHOAL_NODE_ARGS = '--max-old-space-size=200';
    try {
      tc = await TestCluster.start({ numWorkers: 1, numCpus: 1 });
    } finally {
      if (saved === undefined) delete process.env.SHOAL_NODE_ARGS;
      else process.env.SHOAL_NODE_ARGS = saved;
    }
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it('fails with OutOfMemoryError naming the heap limit it hit, and the worker lives on', async () => {
    const err = await get(hogDefault.remote(4_000), { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    const limitMb = (err as OutOfMemoryError).limitMb;
    // 200 MB of old generation plus the young generation V8 adds: never the worker's offered memory.
    expect(limitMb).toBeGreaterThanOrEqual(200);
    expect(limitMb).toBeLessThan(400);
    expect((err as Error).message).toContain(`limit ${limitMb} MB`);
    expect((err as Error).message).toMatch(/memory/);
    expect(await get(ok.remote(1), { timeoutMs: 20_000 })).toBe(2);
  }, 90_000);
});
