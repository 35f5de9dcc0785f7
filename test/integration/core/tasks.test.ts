/**
 * Tasks on a real cluster: results, parallelism, refs as arguments, chaining, large values through
 * the object stores, Arrow tables, wait/get timeouts, put/get, free, cancel and custom resources.
 */
import { tableFromArrays, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancel, free, get, GetTimeoutError, ObjectFreedError, ObjectRef, put, TaskCancelledError, wait } from 'shoal';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { add, blockUntil, describeArgs, doubleColumn, echo, lengthOf, makeArray, markThenSpin, needsCustom, rendezvous, scaleArray, sleepy, square } from '../../fixtures/core/index.js';

let tc: TestCluster;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-tasks-'));
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
});
afterAll(async () => {
  await tc?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('results', () => {
  it('returns the value of a task', async () => {
    expect(await get(add.remote(2, 3))).toBe(5);
  });

  it('runs many tasks in parallel and returns results in order', async () => {
    const refs = Array.from({ length: 200 }, (_, i) => square.remote(i));
    expect(await get(refs)).toEqual(Array.from({ length: 200 }, (_, i) => i * i));
  });

  it('overlaps slow tasks on the worker CPUs (two tasks see each other running)', async () => {
    // Each writes its file and waits for the other's: run one after the other, the first never sees it.
    const [a, b] = [join(dir, 'overlap-a'), join(dir, 'overlap-b')];
    expect(await get([rendezvous.remote(a, b, 20_000), rendezvous.remote(b, a, 20_000)])).toEqual([true, true]);
  });

  it('keeps Map, Set, Date, BigInt and nested structures', async () => {
    // BigInts beyond 64 bits are covered in test/unit/core/serialization.test.ts.
    const v = { m: new Map([['a', 1]]), s: new Set([1, 2]), d: new Date(1_700_000_000_000), b: -(2n ** 60n), deep: [{ x: [1, { y: 'z' }] }] };
    expect(await get(echo.remote(v))).toEqual(v);
  });
});

describe('refs as arguments', () => {
  it('resolves a top-level ref to its value and leaves nested refs as ObjectRef', async () => {
    const top = put(41);
    const inner = put('inner');
    const r = await get(describeArgs.remote(top, { inner, list: [inner, 3] }));
    expect(r).toEqual({ topIsRef: false, top: 41, innerIsRef: true, innerId: inner.id, listAreRefs: [true, false] });
  });

  it('a nested ref received by the driver can be read with get()', async () => {
    const inner = put({ hello: 'world' });
    const back = (await get(echo.remote({ ref: inner }))) as { ref: ObjectRef<{ hello: string }> };
    expect(back.ref).toBeInstanceOf(ObjectRef);
    expect(await get(back.ref)).toEqual({ hello: 'world' });
  });

  it('chains tasks: the output of one is the argument of the next', async () => {
    let ref = add.remote(0, 1);
    for (let i = 0; i < 10; i++) ref = add.remote(ref, 1);
    expect(await get(ref)).toBe(11);
    expect(await get(square.remote(add.remote(square.remote(3), 1)))).toBe(100);
  });
});

describe('large values', () => {
  it('passes a typed array > 100 KB as argument and gets one back', async () => {
    const a = new Float64Array(50_000).map((_, i) => i); // 400 KB
    const { sum, out } = await get(scaleArray.remote(a, 2));
    expect(sum).toBe((50_000 * 49_999) / 2);
    expect(out).toBeInstanceOf(Float64Array);
    expect(out.length).toBe(50_000);
    expect(out[49_999]).toBe(99_998);
  });

  it('a large task result is fetched from the worker store and can feed another task', async () => {
    const big = makeArray.remote(1_000_000); // 4 MB, stays in the worker's store
    const a = await get(big);
    expect(a).toBeInstanceOf(Int32Array);
    expect(a.length).toBe(1_000_000);
    expect(a[999_999]).toBe(999_999);
    expect(await get(lengthOf.remote(big))).toBe(1_000_000);
  });

  it('round-trips an Arrow table through a task', async () => {
    const t = tableFromArrays({ x: Float64Array.from([1, 2, 3]), name: ['a', 'b', 'c'] });
    const out: Table = await get(doubleColumn.remote(t));
    expect(out.numRows).toBe(3);
    expect(out.schema.fields.map((f) => f.name)).toEqual(['x', 'y', 'name']);
    expect([...out.getChild('y')!]).toEqual([2, 4, 6]);
    expect([...out.getChild('name')!]).toEqual(['a', 'b', 'c']);
  });
});

describe('wait and get timeouts', () => {
  it('wait returns numReturns ready refs and the rest as not ready', async () => {
    const fast = [sleepy.remote(10, 'a'), sleepy.remote(10, 'b')];
    const slow = sleepy.remote(5_000, 'slow');
    const { ready, notReady } = await wait([slow, ...fast], { numReturns: 2 });
    expect(ready).toHaveLength(2);
    expect(new Set(ready.map((r) => r.id))).toEqual(new Set(fast.map((r) => r.id)));
    expect(notReady.map((r) => r.id)).toEqual([slow.id]);
    cancel(slow);
  });

  it('wait with a timeout returns what is ready when it expires', async () => {
    // The task finishes only when the test releases it, after wait() returned: wait() cannot have
    // waited for the task, only for its timeout.
    const release = join(dir, 'wait-timeout-release');
    const slow = blockUntil.remote(release, 'slow');
    const { ready, notReady } = await wait([slow], { numReturns: 1, timeoutMs: 300 });
    expect(ready).toEqual([]);
    expect(notReady).toEqual([slow]);
    await writeFile(release, '');
    expect(await get(slow)).toBe('slow');
  });

  it('get with a timeout throws GetTimeoutError', async () => {
    const slow = sleepy.remote(5_000, 'slow');
    const err = await get(slow, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GetTimeoutError);
    expect(err).toMatchObject({ code: 'GET_TIMEOUT', timeoutMs: 200, pending: 1 });
    cancel(slow);
  });
});

describe('put and get', () => {
  it('round-trips a small value', async () => {
    expect(await get(put({ a: [1, 2, 3], s: 'x' }))).toEqual({ a: [1, 2, 3], s: 'x' });
  });

  it('round-trips a 50 MB value, in the driver and through a task', async () => {
    const big = new Uint8Array(50 * 2 ** 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
    const ref = put(big);
    const back = await get(ref);
    expect(back.byteLength).toBe(big.byteLength);
    expect(back[4096 * 1000]).toBe(1000 % 251);
    // The worker fetches it from the driver's object server.
    expect(await get(lengthOf.remote(ref))).toBe(big.length);
  });

  it('free() then get() throws ObjectFreedError (large put)', async () => {
    const ref = put(new Float64Array(100_000));
    free(ref);
    await expect(get(ref, { timeoutMs: 5_000 })).rejects.toBeInstanceOf(ObjectFreedError);
  });

  it('free() then get() throws ObjectFreedError (small put)', async () => {
    const ref = put('small');
    free(ref);
    await expect(get(ref, { timeoutMs: 5_000 })).rejects.toBeInstanceOf(ObjectFreedError);
  });

  it('free() then get() throws ObjectFreedError (task result already read)', async () => {
    const ref = add.remote(1, 1);
    expect(await get(ref)).toBe(2);
    free(ref);
    await expect(get(ref, { timeoutMs: 5_000 })).rejects.toBeInstanceOf(ObjectFreedError);
  });

  it('a freed object passed to a task fails the task with ObjectFreedError', async () => {
    const ref = put('gone');
    free(ref);
    // Give the head the free message first (it is sent on the same ordered session stream anyway).
    await expect(get(echo.remote(ref), { timeoutMs: 5_000 })).rejects.toBeInstanceOf(ObjectFreedError);
  });
});

describe('cancel', () => {
  it('cancels a running busy task: get() throws TaskCancelledError and the worker goes on', async () => {
    const marker = join(dir, 'cancel-started');
    const ref = markThenSpin.remote(marker, 30_000);
    await waitFor('the task to start (its marker file)', () => existsSync(marker), 20_000, 50);
    cancel(ref);
    const err = await get(ref, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect((err as TaskCancelledError).taskName).toBe('markThenSpin');
    expect(await get(add.remote(1, 2), { timeoutMs: 10_000 })).toBe(3);
  });

  it('cancels a task still waiting for its argument', async () => {
    const slow = sleepy.remote(3_000, 1) as ObjectRef<number>;
    const dependent = add.remote(slow, 1);
    cancel(dependent);
    await expect(get(dependent, { timeoutMs: 5_000 })).rejects.toBeInstanceOf(TaskCancelledError);
    cancel(slow);
  });
});

describe('custom resources', () => {
  it('a task needing { custom: 1 } waits until a node has it, then runs only there', async () => {
    const early = needsCustom.remote();
    const { ready } = await wait([early], { timeoutMs: 1_000 });
    expect(ready).toEqual([]); // no node has `custom` yet
    const i = await tc.addWorker({ numCpus: 1, resources: { custom: 1 } });
    const customPid = tc.workers[i]!.child.pid;
    expect(await get(early, { timeoutMs: 15_000 })).toBe(customPid);
    const pids = await get(Array.from({ length: 6 }, () => needsCustom.remote()));
    expect(new Set(pids)).toEqual(new Set([customPid]));
    const status = await tc.status();
    const customNode = status.nodes.find((n) => n.id === tc.nodeId(i));
    expect(customNode?.total.custom).toBe(1);
  });
});
