/**
 * Handles follow their deployment: a deployment holding a handle to another keeps answering while
 * that one is hot-swapped (the handle moves to the new replicas before the old ones stop), and sees
 * the replicas autoscaling adds and removes; its calls go over the replica's direct channel (not
 * an actor call through the head), and take actor calls when the instance has direct calls off.
 * Real cluster, real HTTP.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'shoal';
import { createServeKey, startServe, type Serve } from 'shoal/serve';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { Caller, Scaled, Tagged } from '../../fixtures/serve/apps.js';
import { call, type Reply } from '../../fixtures/serve/http-client.js';

let tc: TestCluster;
let serve: Serve;
let key: string;

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const keysFile = join(mkdtempSync(join(tmpdir(), 'shoal-serve-handles-')), 'serve-keys.json');
  key = createServeKey({ file: keysFile });
  serve = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile, autoscaleIntervalMs: 100 });
}, 120_000);
afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
});

/** `concurrency` loops calling `path` until `stop()`; returns every reply. */
function steadyLoad(path: string, concurrency: number): { stop: () => Promise<Reply[]> } {
  let running = true;
  const replies: Reply[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) replies.push(await call(`${serve.url}${path}`, { key }).catch((e: Error) => ({ status: -1, headers: {}, body: e.message })));
  });
  return { stop: async () => { running = false; await Promise.all(loops); return replies; } };
}

describe('a handle to a deployment', () => {
  it('calls over the replica\'s direct channel; with direct calls off, as actor calls', async () => {
    const paths = async (s: Serve, name: string): Promise<unknown> =>
      get((s.controller.get(name).stable.group.replicas[0]!.handle as any).handlePaths.remote());
    await serve.run(Caller.options({ name: 'caller-direct' }).bind(Tagged.options({ name: 'tagged-direct' }).bind('d') as never, 'whoami'), { routePrefix: '/cd' });
    for (let i = 0; i < 20; i++) expect((await call(`${serve.url}/cd`, { key })).body).toMatchObject({ answer: 'd' });
    expect(await paths(serve, 'caller-direct')).toEqual({ direct: 20, actor: 0 });

    const keysFile = join(mkdtempSync(join(tmpdir(), 'shoal-serve-handles-actor-')), 'serve-keys.json');
    const key2 = createServeKey({ file: keysFile });
    const viaHead = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile, directCalls: false });
    try {
      await viaHead.run(Caller.options({ name: 'caller-actor' }).bind(Tagged.options({ name: 'tagged-actor' }).bind('e') as never, 'whoami'), { routePrefix: '/ca' });
      for (let i = 0; i < 5; i++) expect((await call(`${viaHead.url}/ca`, { key: key2 })).body).toMatchObject({ answer: 'e' });
      expect(await paths(viaHead, 'caller-actor')).toEqual({ direct: 0, actor: 5 });
    } finally {
      await viaHead.shutdown();
    }
  }, 120_000);

  it('follows a hot swap of the deployment it calls, with zero failed requests', async () => {
    await serve.run(Caller.options({ name: 'caller-tagged' }).bind(Tagged.bind('a') as never, 'whoami'), { routePrefix: '/ct' });
    expect((await call(`${serve.url}/ct`, { key })).body).toMatchObject({ answer: 'a', replicas: 1 });
    const load = steadyLoad('/ct', 4);
    await waitFor('traffic through the handle', () => serve.controller.get('caller-tagged').requests > 30, 30_000);
    await serve.run(Tagged.options({ version: 'b' }).bind('b'));
    const before = serve.controller.get('caller-tagged').requests;
    await waitFor('more traffic after the swap', () => serve.controller.get('caller-tagged').requests > before + 30, 30_000);
    const replies = await load.stop();
    expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    expect(replies.at(-1)!.body.answer).toBe('b');
    expect(serve.controller.get('tagged').stable.group.replicas.every((r) => r.version === 'b')).toBe(true);
  }, 120_000);

  it('sees the replicas autoscaling adds and removes', async () => {
    await serve.run(Caller.options({ name: 'caller-scaled' }).bind(Scaled.bind() as never, 'call'), { routePrefix: '/cs' });
    const scaled = serve.controller.get('scaled');
    const known = async (): Promise<number> => ((await call(`${serve.url}/cs?ms=1`, { key })).body as { replicas: number }).replicas;
    expect(await known()).toBe(1);
    const load = steadyLoad('/scaled?ms=150', 10);
    await waitFor('scaled up', () => scaled.stable.group.running.length >= 2, 60_000);
    await waitFor('the handle knows the new replicas', async () => (await known()) === scaled.stable.group.running.length, 30_000);
    await load.stop();
    await waitFor('scaled down', () => scaled.stable.group.running.length === 1, 60_000);
    await waitFor('the handle dropped the removed replicas', async () => (await known()) === 1, 30_000);
  }, 180_000);

  it('traffic that reaches a deployment only through handles scales it up and down', async () => {
    await serve.run(Caller.options({ name: 'caller-only' }).bind(Scaled.options({ name: 'scaled-by-handle' }).bind() as never, 'call'), { routePrefix: '/co' });
    const dep = serve.controller.get('scaled-by-handle');
    expect(dep.stable.group.running.length).toBe(1);
    // HTTP reaches the caller only; the caller's handle calls scaled-by-handle (10 at a time, 150 ms each).
    const load = steadyLoad('/co?ms=150', 10);
    try {
      await waitFor('scaled up on handle traffic', () => dep.stable.group.running.length >= 2, 60_000);
    } finally {
      const replies = await load.stop();
      expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    }
    expect(dep.requests, 'no request came to it through the ingress').toBe(0);
    expect(serve.controller.decisions.find((d) => d.deployment === 'scaled-by-handle' && d.to > d.from)?.reason).toMatch(/through handles/);
    await waitFor('scaled down once the handle traffic stopped', () => dep.stable.group.running.length === 1, 60_000);
  }, 180_000);
});
