/**
 * Actors and placement groups in the head over fake sessions: calls wait for the actor and go in
 * order, resources stay taken for the actor's life, restarts and death; bundles reserved together,
 * tasks placed into them, resources given back on removal, pending again when a node dies.
 */
import { describe, expect, it } from 'vitest';
import { ActorNotFoundError, InfeasibleError } from '../../../../src/core/errors.js';
import { actorCall, actorCreate, FakeCluster, task } from './fake-sessions.js';

describe('actors', () => {
  it('calls submitted before the actor lives wait, then go to its node in submission order', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 2 });
    const create = actorCreate('Counter');
    const calls = [actorCall(create, 'inc'), actorCall(create, 'get')];
    c.state.submit([create, ...calls], d.id);
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['Counter']);
    c.finish(w, create);
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['Counter', 'Counter.inc', 'Counter.get']);
    expect(c.state.actors.get(create.actorId!)?.state).toBe('alive');
  });

  it("an actor's resources stay taken while it lives and come back when it is killed", async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 2 });
    const create = actorCreate('Holder', { resources: { CPU: 2 } });
    c.state.submit([create], d.id);
    await c.settle();
    c.finish(w, create);
    await c.settle();
    expect(c.state.status().nodes[0]?.available.CPU).toBe(0);
    expect(c.state.nodeBusy('n-a')).toBe(true);
    const waiting = task('after', { resources: { CPU: 2 } });
    c.state.submit([waiting], d.id);
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['Holder']);
    c.state.handle({ t: 'kill-actor', actorId: create.actorId!, noRestart: true }, d);
    await c.settle();
    expect(w.sent.some((m) => m.t === 'kill-actor' && m.actorId === create.actorId)).toBe(true);
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['Holder', 'after']);
  });

  it('a call to a killed actor fails with ActorDiedError', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 2 });
    const create = actorCreate('Gone');
    c.state.submit([create], d.id);
    await c.settle();
    c.finish(w, create);
    c.state.killActor(create.actorId!, true);
    const call = actorCall(create);
    c.state.submit([call], d.id);
    await c.settle();
    const r = c.result(d, call);
    expect(r?.error?.name).toBe('ActorDiedError');
    expect(r?.error?.message).toContain('killed by kill()');
  });

  it('an actor allowed to restart is created again on another node when its node dies', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const a = c.worker('n-a', { CPU: 2 });
    const create = actorCreate('Phoenix', { maxRestarts: 1 });
    c.state.submit([create], d.id);
    await c.settle();
    c.finish(a, create);
    await c.settle();
    const b = c.worker('n-b', { CPU: 2 });
    c.state.sessionClosed(a.id);
    await c.settle();
    expect(c.executed(b).map((m) => m.spec.name)).toEqual(['Phoenix']);
    expect(c.state.actors.get(create.actorId!)).toMatchObject({ state: 'restarting', restarts: 1 });
    c.finish(b, create);
    await c.settle();
    expect(c.state.actors.get(create.actorId!)).toMatchObject({ state: 'alive', nodeId: 'n-b' });
  });

  it('a constructor that fails kills the actor with the error named', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 2 });
    const create = actorCreate('Broken', { actorName: 'broken' });
    c.state.submit([create], d.id);
    await c.settle();
    expect(c.state.getActor('broken').actorId).toBe(create.actorId);
    c.finish(w, create, { error: 'bad config' });
    expect(c.state.actors.get(create.actorId!)?.state).toBe('dead');
    expect(() => c.state.getActor('broken')).toThrow(ActorNotFoundError);
  });

  it('the actors of a driver that leaves are killed with it (not detached)', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 2 });
    const create = actorCreate('Owned');
    c.state.submit([create], d.id);
    await c.settle();
    c.finish(w, create);
    c.state.sessionClosed(d.id);
    expect(c.state.actors.get(create.actorId!)?.state).toBe('dead');
  });
});

describe('placement groups', () => {
  it('STRICT_SPREAD waits for enough nodes, then reserves one bundle per node', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    c.worker('n-a', { CPU: 2 });
    c.state.createPlacementGroup('pg1', [{ CPU: 1 }, { CPU: 1 }], 'STRICT_SPREAD', d.id);
    let ready = false;
    const done = c.state.placementGroupReady('pg1').then(() => (ready = true));
    await c.settle();
    expect(ready).toBe(false);
    expect(c.state.unmetDemand()).toEqual([
      { resources: { CPU: 1 }, count: 1, what: 'placement group pg1' },
      { resources: { CPU: 1 }, count: 1, what: 'placement group pg1' },
    ]);
    c.worker('n-b', { CPU: 2 });
    await done;
    const pg = c.state.status().placementGroups[0];
    expect(pg?.state).toBe('created');
    expect([...(pg?.nodes ?? [])].sort()).toEqual(['n-a', 'n-b']);
    expect(c.state.status().nodes.map((n) => n.available.CPU)).toEqual([1, 1]);
  });

  it('a task in a bundle runs on that bundle\'s node and uses its reservation, not the node\'s free CPUs', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const a = c.worker('n-a', { CPU: 4 });
    c.state.createPlacementGroup('pg2', [{ CPU: 2 }], 'PACK', d.id);
    await c.state.placementGroupReady('pg2');
    const inside = [1, 2, 3].map((i) => task(`in-${i}`, { resources: { CPU: 1 }, strategy: { placementGroupId: 'pg2', bundleIndex: 0 } }));
    c.state.submit(inside, d.id);
    await c.settle();
    // The bundle holds 2 CPUs: the third waits although the node has 2 more free.
    expect(c.executed(a).map((m) => m.spec.name)).toEqual(['in-1', 'in-2']);
    c.finish(a, inside[0]!);
    await c.settle();
    expect(c.executed(a).map((m) => m.spec.name)).toEqual(['in-1', 'in-2', 'in-3']);
  });

  it('a bundle index out of range fails the task with InfeasibleError', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    c.worker('n-a', { CPU: 4 });
    c.state.createPlacementGroup('pg3', [{ CPU: 1 }], 'PACK', d.id);
    await c.state.placementGroupReady('pg3');
    const t = task('oob', { strategy: { placementGroupId: 'pg3', bundleIndex: 5 } });
    c.state.submit([t], d.id);
    await c.settle();
    expect(c.result(d, t)?.error?.message).toContain('bundleIndex 5 is out of range: placement group has 1 bundles');
  });

  it('removing a group gives its resources back and fails whoever waits for it', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    c.worker('n-a', { CPU: 2 });
    c.state.createPlacementGroup('pg4', [{ CPU: 2 }], 'PACK', d.id);
    await c.state.placementGroupReady('pg4');
    expect(c.state.status().nodes[0]?.available.CPU).toBe(0);
    c.state.removePlacementGroup('pg4');
    expect(c.state.status().nodes[0]?.available.CPU).toBe(2);
    c.state.createPlacementGroup('pg5', [{ CPU: 8 }], 'PACK', d.id);
    const waiting = c.state.placementGroupReady('pg5');
    c.state.removePlacementGroup('pg5');
    await expect(waiting).rejects.toThrow(InfeasibleError);
    await expect(c.state.placementGroupReady('pg5')).rejects.toThrow('does not exist or was removed');
  });

  it('a group with a bundle on a node that dies is pending again and gives its other bundles back', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const a = c.worker('n-a', { CPU: 1 });
    c.worker('n-b', { CPU: 1 });
    c.state.createPlacementGroup('pg6', [{ CPU: 1 }, { CPU: 1 }], 'STRICT_SPREAD', d.id);
    await c.state.placementGroupReady('pg6');
    c.state.sessionClosed(a.id);
    await c.settle();
    expect(c.state.status().placementGroups[0]?.state).toBe('pending');
    expect(c.state.status().nodes.map((n) => [n.id, n.available.CPU])).toEqual([['n-b', 1]]);
    c.worker('n-c', { CPU: 1 });
    await c.state.placementGroupReady('pg6');
    expect([...(c.state.status().placementGroups[0]?.nodes ?? [])].sort()).toEqual(['n-b', 'n-c']);
  });
});
