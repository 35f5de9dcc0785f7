/**
 * The API inside tasks and actors: tasks that submit and wait for tasks (the parent's CPU is lent
 * to its children while it waits, so a one-CPU cluster does not deadlock), objects put inside a
 * task, and actors calling actors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'shoal';
import { TestCluster } from '../../harness/test-cluster.js';
import { AccumulatorActor, depth, fanOut, ForwarderActor, leaf, putInside } from '../../fixtures/core/index.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 1 });
});
afterAll(async () => {
  await tc?.stop();
});

describe('inside tasks and actors', () => {
  it('a task fans out to child tasks and waits for them on a one-CPU cluster', async () => {
    expect(await get(leaf.remote(4))).toBe(40);
    const r = await get(fanOut.remote(6), { timeoutMs: 30_000 });
    expect(r).toEqual({ ready: 6, values: [0, 10, 20, 30, 40, 50] });
  });

  it('tasks recurse several levels deep, each waiting on the next', async () => {
    expect(await get(depth.remote(4), { timeoutMs: 30_000 })).toBe(4);
  });

  it('an object put inside a task outlives the task through the ref it returns', async () => {
    const { ref } = await get(putInside.remote(50_000)); // 400 KB: kept in the thread's store
    const arr = await get(ref);
    expect(arr.length).toBe(50_000);
    expect(arr[49_999]).toBe(3);
  });

  it('an actor calls another actor', async () => {
    const acc = AccumulatorActor.remote();
    const fwd = ForwarderActor.remote();
    expect(await get(fwd.forward.remote(acc, 5))).toBe(5);
    expect(await get(fwd.forward.remote(acc, 2))).toBe(7);
    expect(await get(acc.add.remote(0))).toBe(7);
  });
});
