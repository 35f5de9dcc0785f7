/**
 * The object directory over fake sessions: a ref the head hears of before its object (a put made
 * inside a task travels on the task thread's own session and may arrive after the task's result)
 * is held as a placeholder — and fails with ObjectLostError, never waits forever, when the place it
 * was to come from goes away first.
 */
import { describe, expect, it } from 'vitest';
import { newObjectId } from '../../../../src/core/ids.js';
import type { ReadyMsg } from '../../../../src/core/wire/protocol.js';
import { serialize } from '../../../../src/core/wire/serialization.js';
import { returnObjectId } from '../../../../src/core/ids.js';
import { actorCall, actorCreate, FakeCluster, task, type FakeSession } from './fake-sessions.js';

const readyFor = (d: FakeSession, id: string): ReadyMsg | undefined => d.sent.find((m): m is ReadyMsg => m.t === 'ready' && m.id === id);

describe('objects announced before they are put', () => {
  it('a nested ref in a task result whose put never arrives fails with ObjectLostError when its node dies', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 1 });
    const t = task('putInside');
    c.state.submit([t], d.id);
    await c.settle();
    const inner = newObjectId();
    // The result names the object put inside the task; the put itself has not reached the head.
    c.state.handle({ t: 'done', taskId: t.taskId, inline: serialize({ ref: inner }), nested: [inner], ms: 1 }, w);
    await c.settle();
    c.state.subscribe([inner], d.id);
    expect(readyFor(d, inner)).toBeUndefined(); // still coming
    c.state.sessionClosed(w.id); // the worker process dies before the put is sent
    await c.settle();
    const msg = readyFor(d, inner);
    expect(msg?.error).toMatchObject({ name: 'ObjectLostError', code: 'OBJECT_LOST' });
    expect(msg?.error?.message).toMatch(/n-a/);
  });

  it('the put arriving first makes it ready as before; a node that dies later does not touch it', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 1 });
    const other = c.worker('n-b', { CPU: 1 });
    const t = task('putInside', { strategy: { nodeId: 'n-a', soft: false } });
    c.state.submit([t], d.id);
    await c.settle();
    const inner = newObjectId();
    c.state.handle({ t: 'done', taskId: t.taskId, inline: serialize({ ref: inner }), nested: [inner], ms: 1 }, w);
    c.state.put({ t: 'put', id: inner, inline: serialize(7), size: 1, nested: [] }, w.id);
    c.state.subscribe([inner], d.id);
    c.state.sessionClosed(other.id);
    await c.settle();
    expect(readyFor(d, inner)?.error).toBeUndefined();
    expect(readyFor(d, inner)?.inline).toBeDefined();
  });

  it('a ref a driver passes before its put arrives fails when that driver leaves without putting it', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const other = c.driver();
    c.worker('n-a', { CPU: 1 });
    const inner = newObjectId();
    c.state.submit([{ ...task('usesNested'), nested: [inner] }], d.id);
    await c.settle();
    c.state.subscribe([inner], other.id);
    expect(readyFor(other, inner)).toBeUndefined();
    c.state.sessionClosed(d.id);
    await c.settle();
    expect(readyFor(other, inner)?.error).toMatchObject({ name: 'ObjectLostError' });
  });

  it("a task's result naming an actor call it made, heard of before the call's submission, is answered when the call finishes", async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 2 });
    const thread = c.driver('thread-on-n-a'); // the task's thread submits on its own session
    const create = actorCreate('Counter');
    c.state.submit([create], d.id);
    await c.settle();
    c.finish(w, create);
    const outer = task('callHandle');
    c.state.submit([outer], d.id);
    await c.settle();
    const call = actorCall(create, 'inc');
    const callResult = returnObjectId(call.taskId);
    // The task's result (naming the call's result) overtakes the thread's submission of the call.
    c.state.handle({ t: 'done', taskId: outer.taskId, inline: serialize({ ref: callResult }), nested: [callResult], ms: 1 }, w);
    c.state.subscribe([callResult], d.id);
    c.state.submit([call], thread.id);
    await c.settle();
    expect(readyFor(d, callResult)).toBeUndefined();
    c.state.handle({ t: 'done', taskId: call.taskId, inline: serialize(1), ms: 1 }, w);
    await c.settle();
    expect(readyFor(d, callResult)?.inline).toBeDefined();
    expect(readyFor(d, callResult)?.error).toBeUndefined();
  });
});
