/**
 * An actor's host lost (its link taken down): the head declares the node dead after nodeTimeoutMs,
 * restarts actors that have restarts left on another host (maxRestarts), and the calls made while the
 * host was dark are retried on the new instance where maxTaskRetries allows; otherwise they fail
 * with a typed ActorDiedError, as does every call to an actor without restarts left.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ActorDiedError, get } from 'shoal';
import { hostAddress, NetnsCluster, waitFor } from '../../harness/netns-cluster.js';
import { Tally } from '../../fixtures/multihost/tasks.js';
import { describeMultihost } from './support.js';

const NODE_TIMEOUT_MS = 3_000;
let nc: NetnsCluster;

/** Resolves with the value, or with the error the call failed with. */
const settle = <T>(p: Promise<T>): Promise<T | Error> => p.catch((err: Error) => err);

describeMultihost("an actor's host lost (link down)", () => {
  beforeAll(async () => {
    nc = await NetnsCluster.start({ hosts: 3, workerCpus: 4, nodeTimeoutMs: NODE_TIMEOUT_MS });
  }, 300_000);
  afterAll(async () => {
    await nc?.stop();
  });

  it('restarts elsewhere; calls made meanwhile are retried where maxTaskRetries allows, else fail with ActorDiedError', async () => {
    const onHost3 = { schedulingStrategy: { nodeId: nc.nodeId(3), soft: true } };
    const retried = Tally.options({ ...onHost3, maxRestarts: 1, maxTaskRetries: 2 }).remote();
    const notRetried = Tally.options({ ...onHost3, maxRestarts: 1, maxTaskRetries: 0 }).remote();
    const noRestart = Tally.options({ ...onHost3, maxRestarts: 0 }).remote();
    // State before the loss: each counts to 10 on host 3.
    for (const a of [retried, notRetried, noRestart]) {
      expect(await get(a.add.remote(10), { timeoutMs: 20_000 })).toBe(10);
      expect((await get(a.where.remote(), { timeoutMs: 10_000 })).address).toBe(hostAddress(3));
    }

    nc.linkDown(3);
    // Calls made while the host is dark and not yet declared dead.
    const during = {
      retried: settle(get(retried.add.remote(1), { timeoutMs: 60_000 })),
      notRetried: settle(get(notRetried.add.remote(1), { timeoutMs: 60_000 })),
      noRestart: settle(get(noRestart.add.remote(1), { timeoutMs: 60_000 })),
    };
    await waitFor('host 3 declared dead', async () => !(await nc.status()).nodes.some((n) => n.id === nc.nodeId(3) && n.alive), NODE_TIMEOUT_MS + 10_000, 100);

    // maxTaskRetries 2: the call runs again on the restarted actor (fresh state: 0 + 1).
    expect(await during.retried).toBe(1);
    // maxTaskRetries 0: the call that was in flight on the lost host fails, typed.
    const failed = await during.notRetried;
    expect(failed).toBeInstanceOf(ActorDiedError);
    expect((failed as ActorDiedError).actorId).toBe(notRetried.actorId);
    // maxRestarts 0: the actor is dead; the call and every later call fail with ActorDiedError.
    expect(await during.noRestart).toBeInstanceOf(ActorDiedError);
    expect(await settle(get(noRestart.add.remote(1), { timeoutMs: 20_000 }))).toBeInstanceOf(ActorDiedError);

    // The restarted actors serve new calls on host 2.
    for (const a of [retried, notRetried]) {
      expect((await get(a.where.remote(), { timeoutMs: 20_000 })).address).toBe(hostAddress(2));
    }
    expect(await get(notRetried.add.remote(5), { timeoutMs: 20_000 })).toBe(5);
    const s = await nc.status();
    // The status reply carries each actor's restart count (the client type does not declare it).
    const restarts = new Map((s.actors as Array<{ id: string; state: string; restarts?: number }>).map((a) => [a.id, a]));
    expect(restarts.get(retried.actorId)?.restarts).toBe(1);
    expect(restarts.get(notRetried.actorId)?.restarts).toBe(1);
    expect(restarts.get(noRestart.actorId)?.state).toBe('dead');
  }, 120_000);
});
