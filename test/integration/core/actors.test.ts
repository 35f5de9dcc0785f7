/**
 * Actors on a real cluster: state, call order, concurrency, names, missing actors and methods,
 * kill, failing constructors, handles passed to tasks, and actors holding large data.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorDiedError, ActorMethodNotFoundError, ActorNameTakenError, ActorNotFoundError, get, getActor, kill, ObjectRef } from 'shoal';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { Broken, callHandle, Counter, Holder, Overlapper, Recorder, Registry, Slow, useHandle } from '../../fixtures/core/index.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
});
afterAll(async () => {
  await tc?.stop();
});

describe('state and order', () => {
  it('keeps state across calls', async () => {
    const c = Counter.remote(10);
    await c.ready();
    expect(await get(c.add.remote(1))).toBe(11);
    expect(await get(c.add.remote(5))).toBe(16);
    expect(await get(c.value.remote())).toBe(16);
  });

  it('runs calls from one driver in submission order', async () => {
    const r = Recorder.remote();
    const refs = Array.from({ length: 100 }, (_, i) => r.record.remote(i));
    expect(await get(refs)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await get(r.all.remote())).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('keeps order when some calls wait for arguments', async () => {
    const r = Recorder.remote();
    const c = Counter.remote();
    const first = r.record.remote(c.add.remote(1)); // argument from another actor
    const second = r.record.remote(2);
    expect(await get([first, second])).toEqual([1, 2]);
    expect(await get(r.all.remote())).toEqual([1, 2]);
  });

  it('overlaps async methods when maxConcurrency > 1', async () => {
    const o = Overlapper.remote();
    await o.ready();
    await get(Array.from({ length: 4 }, () => o.work.remote(400)));
    // The actor counts the calls in flight at once: all four overlapped (no duration asserted).
    expect(await get(o.peak.remote())).toBe(4);
  });

  it('serializes async methods with the default maxConcurrency 1', async () => {
    const o = Overlapper.options({ maxConcurrency: 1 }).remote();
    await get(Array.from({ length: 3 }, () => o.work.remote(100)));
    expect(await get(o.peak.remote())).toBe(1);
  });
});

describe('names', () => {
  it('getActor finds a named actor and shares its state', async () => {
    const c = Counter.options({ name: 'shared-counter' }).remote(100);
    await c.ready();
    const again = await getActor<{ add(k: number): number; value(): number }>('shared-counter');
    expect(again.actorId).toBe(c.actorId);
    expect(await get(again.add.remote(1))).toBe(101);
    expect(await get(c.value.remote())).toBe(101);
  });

  it('getActor right after .remote() (without ready()) finds the actor', async () => {
    // The creation was submitted before getActor was called, from the same driver: getActor must
    // see it. Registry's module is shipped for the first time here, so the creation waits for its
    // bundle while the lookup goes straight to the head.
    for (let i = 0; i < 5; i++) {
      const c = Registry.options({ name: `just-made-${i}` }).remote(i);
      const again = await getActor<{ tagOf(): number }>(`just-made-${i}`);
      expect(again.actorId).toBe(c.actorId);
      expect(await get(again.tagOf.remote())).toBe(i);
    }
  });

  it('getActor of an unknown name throws ActorNotFoundError', async () => {
    const err = await getActor('no-such-actor').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorNotFoundError);
    expect(err).toMatchObject({ code: 'ACTOR_NOT_FOUND', actorName: 'no-such-actor' });
  });

  it('a second actor with a taken name fails at creation with ActorNameTakenError, and getActor keeps the first', async () => {
    const a = Counter.options({ name: 'dup' }).remote(7);
    await a.ready();
    const b = Counter.options({ name: 'dup' }).remote();
    const err = await b.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorNameTakenError);
    expect(err).toMatchObject({ code: 'ACTOR_NAME_TAKEN', actorName: 'dup', existingActorId: a.actorId });
    expect((err as Error).message).toBe(
      `an actor named 'dup' already exists (${a.actorId}): names are unique in a cluster; ` +
        "pass { getIfExists: true } to get the existing actor, or call getActor('dup')",
    );
    // Its calls fail the same way, not as a death.
    const call = await get(b.value.remote(), { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(call).toBeInstanceOf(ActorNameTakenError);
    const found = await getActor<{ value(): number }>('dup');
    expect(found.actorId).toBe(a.actorId);
    expect(await get(found.value.remote())).toBe(7);
  });

  it('getIfExists returns the existing actor instead of failing', async () => {
    const a = Counter.options({ name: 'dup-get' }).remote(3);
    await a.ready();
    const b = Counter.options({ name: 'dup-get', getIfExists: true }).remote(100);
    await b.ready();
    expect(await get(b.add.remote(1))).toBe(4);
    expect(await get(a.value.remote())).toBe(4);
    // With no actor of that name yet, getIfExists creates one.
    const fresh = Counter.options({ name: 'dup-get-new', getIfExists: true }).remote(5);
    expect(await get(fresh.value.remote())).toBe(5);
  });

  it('getIfExists needs a name', () => {
    expect(() => Counter.options({ getIfExists: true }).remote()).toThrow("actor option 'getIfExists' needs the option 'name'");
  });
});

describe('methods', () => {
  it('calling a method the class lacks throws ActorMethodNotFoundError listing the methods', () => {
    const c = Counter.remote();
    let thrown: unknown;
    try {
      (c as unknown as Record<string, { remote(): unknown }>).nope!.remote();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ActorMethodNotFoundError);
    expect(thrown).toMatchObject({ method: 'nope', methods: ['add', 'value'] });
  });

  it('a handle from getActor also refuses unknown methods', async () => {
    await Counter.options({ name: 'methods-check' }).remote().ready();
    const h = await getActor('methods-check');
    expect(() => h.nope!.remote()).toThrow(ActorMethodNotFoundError);
  });
});

describe('death', () => {
  it('kill() fails pending and future calls with ActorDiedError', async () => {
    const s = Slow.remote();
    await s.ready();
    const marker = join(await mkdtemp(join(tmpdir(), 'shoal-actor-kill-')), 'nap-started');
    const pending = s.markedNap.remote(marker, 5_000);
    const queued = s.ping.remote(); // queued behind the nap (maxConcurrency 1)
    await waitFor('the nap to start', () => existsSync(marker), 20_000, 20);
    kill(s);
    for (const ref of [pending, queued] as ObjectRef[]) {
      const err = await get(ref, { timeoutMs: 5_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ActorDiedError);
      expect(err).toMatchObject({ actorId: s.actorId, reason: 'killed by kill()' });
    }
    const later = await get(s.ping.remote(), { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(ActorDiedError);
  });

  it('kill() frees the resources the actor reserved', async () => {
    const free = async () => (await tc.status()).nodes[0]!.available.CPU;
    // Earlier tests' tasks and actors may still be finishing: start from an idle node.
    await waitFor('no CPU in use', async () => ((await free()) === 2 ? true : undefined));
    const s = Slow.options({ numCpus: 1 }).remote();
    await s.ready();
    await waitFor('1 CPU reserved', async () => ((await free()) === 1 ? true : undefined));
    kill(s);
    await waitFor('2 CPUs free again', async () => ((await free()) === 2 ? true : undefined));
  });

  it('a constructor that throws fails ready() and every call with ActorDiedError naming the error', async () => {
    const b = Broken.remote();
    await expect(b.ready()).rejects.toThrow(/constructor exploded on purpose/);
    const err = await get(b.ping.remote(), { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorDiedError);
    expect((err as ActorDiedError).reason).toMatch(/constructor.*RangeError.*constructor exploded on purpose/s);
  });
});

describe('handles in tasks', () => {
  it('a handle passed to a task arrives and the task calls the actor', async () => {
    const c = Counter.remote();
    const r = await get(useHandle.remote(c));
    expect(r.actorId).toBe(c.actorId);
    expect(r.actorName).toBe('Counter');
    expect(r).toMatchObject({ called: true, errorName: null });
    // The call the task made reaches the actor before this one (ordered at the head per actor).
    await expect.poll(() => get(c.value.remote()), { timeout: 5_000 }).toBe(1);
  });

  it('a task returns the ref of an actor call it made; the driver reads it', async () => {
    const c = Counter.remote();
    const ref = await get(callHandle.remote(c));
    expect(ref).toBeInstanceOf(ObjectRef);
    expect(await get(ref as ObjectRef<number>)).toBe(1);
  });
});

describe('big state', () => {
  it('an actor holding a 40 MB array serves reads of it', async () => {
    const n = 5_000_000;
    const h = Holder.remote(n);
    expect(await get(h.sum.remote(), { timeoutMs: 20_000 })).toBe((n * (n - 1)) / 2);
    const part = await get(h.slice.remote(10, 20));
    expect([...part]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const whole = await get(h.whole.remote(), { timeoutMs: 20_000 });
    expect(whole).toBeInstanceOf(Float64Array);
    expect(whole.length).toBe(n);
    expect(whole[n - 1]).toBe(n - 1);
  });
});
