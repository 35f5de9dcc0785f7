/**
 * The serve layer on a real cluster over real HTTP: routing by prefix, keys, admin token, body
 * limit, malformed JSON, user exceptions, batching, overload 503s, composition, exposure log.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeKey, ParquetExposureLog, startServe, type Serve } from 'shoal/serve';
import { readParquet } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { get, kill } from 'shoal';
import { Batched, Boom, Echo, Front, Model, Mortal, Slow } from '../../fixtures/serve/apps.js';
import { call, pool } from '../../fixtures/serve/http-client.js';

let tc: TestCluster;
let serve: Serve;
let key: string;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'shoal-serve-'));
const exposureDir = join(dir, 'exposures');
const exposure = new ParquetExposureLog(exposureDir, { flushIntervalMs: 200 });

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const keysFile = join(dir, 'serve-keys.json');
  key = createServeKey({ file: keysFile });
  serve = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile, maxBodyBytes: 1024, exposureLog: exposure });
  url = serve.url;
  await Promise.all([
    serve.run(Echo.bind()), serve.run(Boom.bind()), serve.run(Mortal.bind()), serve.run(Slow.bind()), serve.run(Batched.bind()),
    serve.run(Model.bind('m1'), { routePrefix: '/recommendations' }),
  ]);
}, 120_000);
afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
});

describe('routing', () => {
  it('routes by path prefix and passes path, query and JSON body', async () => {
    const r = await call(`${url}/echo/abc?k=5`, { key, body: { x: 1 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ path: '/abc', query: { k: '5' }, body: { x: 1 }, method: 'POST' });
    expect(r.headers['x-shoal-version']).toBe('v1');
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('spreads requests over replicas', async () => {
    const replies = await pool(40, 8, () => call(`${url}/echo`, { key }));
    expect(new Set(replies.map((r) => r.body.replica)).size).toBe(2);
  });

  it('refuses to route a second deployment at a prefix another has, naming it', async () => {
    await expect(serve.run(Echo.options({ name: 'echo-again' }).bind(), { routePrefix: '/echo' })).rejects.toThrow(/routePrefix \/echo is already routed to deployment echo/);
    await expect(serve.run(Echo.options({ name: 'echo-again' }).bind(), { routePrefix: 'echo' })).rejects.toThrow(/routePrefix must start with \/ \(got echo\)/);
    expect(serve.controller.deployments.has('echo-again')).toBe(false);
  });
  it('answers 404 for a path no deployment owns', async () => {
    const r = await call(`${url}/nothing-here`, { key });
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/no deployment/);
  });
});

describe('keys', () => {
  it('refuses a request without a key', async () => {
    const r = await call(`${url}/echo`);
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/missing serving key/);
  });
  it('refuses a wrong key', async () => {
    const r = await call(`${url}/echo`, { key: 'sk_wrong' });
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/wrong serving key/);
  });
  it('does not accept the cluster token as a serving key', async () => {
    const r = await call(`${url}/echo`, { key: tc.token });
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/cluster token is not a serving key/);
  });
  it('admin endpoints need the cluster token, not a serving key', async () => {
    expect((await call(`${url}/-/status`)).status).toBe(401);
    expect((await call(`${url}/-/status`, { key })).status).toBe(401);
    const ok = await call(`${url}/-/status`, { key: tc.token });
    expect(ok.status).toBe(200);
    expect(ok.body.deployments.map((d: { name: string }) => d.name)).toContain('echo');
  });
});

describe('bad requests', () => {
  it('answers 413 past the body limit', async () => {
    const r = await call(`${url}/echo`, { key, body: { pad: 'x'.repeat(2000) } });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/larger than the limit of 1024 bytes/);
  });
  it('answers 400 saying what is wrong with malformed JSON', async () => {
    const r = await call(`${url}/echo`, { key, body: '{"x": 1,' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/malformed JSON body/);
  });
  it('answers 500 with a request id when user code throws', async () => {
    const r = await call(`${url}/boom`, { key });
    expect(r.status).toBe(500);
    expect(r.body.error).toMatch(/RangeError: boom in user code/);
    expect(r.body.requestId).toBe(r.headers['x-request-id']);
  });
});

const kinds = ['ok', 'refuse', 'throw'] as const;
/** 60 requests, 30 at a time, a third answered, a third refused (400), a third throwing (500): each as it should. */
async function mixedRequests(): Promise<void> {
  const replies = await pool(60, 30, (i) => call(`${url}/echo/${i}${kinds[i % 3] === 'ok' ? '' : `?${kinds[i % 3]}=${i}`}`, { key }));
  replies.forEach((r, i) => {
    if (kinds[i % 3] === 'ok') expect(r).toMatchObject({ status: 200, body: { path: `/${i}` } });
    else if (kinds[i % 3] === 'refuse') expect(r).toMatchObject({ status: 400, body: { code: 'SERVE_BAD_REQUEST', error: `refused: ${i}` } });
    else expect(r).toMatchObject({ status: 500, body: { error: `the deployment failed: RangeError: thrown: ${i}` } });
  });
}

describe('calls from the ingress to a replica', () => {
  it('go over the direct channel to the replica; each succeeds or fails on its own', async () => {
    const replicas = serve.controller.get('echo').stable.group.replicas;
    expect(replicas.every((r) => r.mux?.direct)).toBe(true);
    const before = replicas.reduce((s, r) => s + (r.mux?.channel?.calls ?? 0), 0);
    await mixedRequests();
    expect(replicas.reduce((s, r) => s + (r.mux?.channel?.calls ?? 0), 0) - before).toBe(60);
    expect(replicas.flatMap((r) => r.mux?.sizes ?? [])).toEqual([]);
  });

  it('the direct channel refuses a connection without the secret', async () => {
    const { DirectChannel } = await import('../../../dist/src/serve/direct-channel.js');
    const r = serve.controller.get('echo').stable.group.replicas[0]!;
    const address = (await get((r.handle as any).__shoalDirect.remote('another-secret-of-24-chars'))) as unknown as { host: string; port: number };
    const wrong = await DirectChannel.connect(address, 'not-the-secret-at-all-xx', r.handle.actorId, r.id);
    await expect(wrong.invoke('call', { requestId: 'x', method: 'GET', path: '/', query: {}, body: undefined, key: 'k' }))
      .rejects.toThrow(/direct serving channel closed/);
    expect(wrong.open).toBe(false);
  });

  it('once a channel closed, concurrent requests to a replica leave as one actor call', async () => {
    const replicas = serve.controller.get('echo').stable.group.replicas;
    for (const r of replicas) r.mux!.close();
    await mixedRequests();
    const sizes = replicas.flatMap((r) => r.mux?.sizes ?? []);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...sizes), 'some call carried more than one request').toBeGreaterThan(1);
    expect(replicas.every((r) => r.state === 'running')).toBe(true);
  });
});

describe('a replica dying mid-request', () => {
  /** Starts a slow request, then kills the replica serving it. */
  async function killMidRequest(method: 'GET' | 'POST') {
    const d = serve.controller.get('mortal');
    const pending = call(`${url}/mortal?ms=3000`, { key, method, ...(method === 'POST' ? { body: {} } : {}) });
    let victim = d.stable.group.replicas.find((r) => r.ongoing > 0);
    while (!victim) {
      await new Promise((r) => setTimeout(r, 10));
      victim = d.stable.group.replicas.find((r) => r.ongoing > 0);
    }
    kill(victim.handle);
    return { reply: await pending, victim };
  }

  it('a GET is retried once on another replica', async () => {
    const { reply, victim } = await killMidRequest('GET');
    expect(reply.status).toBe(200);
    expect(reply.body.method).toBe('GET');
    expect(victim.state).toBe('dead');
    // The controller replaces the dead replica.
    const d = serve.controller.get('mortal');
    while (d.stable.group.running.length < 2) await new Promise((r) => setTimeout(r, 50));
  }, 60_000);

  it('a POST is not retried: 503 saying why', async () => {
    const { reply } = await killMidRequest('POST');
    expect(reply.status).toBe(503);
    expect(reply.body.error).toMatch(/not retried: not idempotent/);
  }, 60_000);
});

describe('batching and overload', () => {
  it('coalesces concurrent requests into one batch call', async () => {
    const replies = await pool(24, 24, (i) => call(`${url}/batched`, { key, body: { x: i } }));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies.map((r) => r.body.x)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(Math.max(...replies.map((r) => r.body.batchSize))).toBeGreaterThan(1);
    expect(Math.max(...replies.map((r) => r.body.batchSize))).toBeLessThanOrEqual(8);
  });

  it('answers 503 with Retry-After when every replica is full and the queue is at its bound', async () => {
    const replies = await pool(12, 12, () => call(`${url}/slow?ms=400`, { key }));
    const over = replies.filter((r) => r.status === 503);
    expect(over.length).toBeGreaterThan(0);
    expect(over[0]!.headers['retry-after']).toBe('1');
    expect(over[0]!.body.code).toBe('SERVE_OVERLOADED');
    // one running + two queued are served
    expect(replies.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(3);
  });
});

describe('composition', () => {
  it('a deployment calls another through a handle', async () => {
    const { Doubler } = await import('../../fixtures/serve/apps.js');
    await serve.run(Front.bind(Doubler.bind() as never));
    const r = await call(`${url}/front?n=21`, { key });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ doubled: 42 });
  });
});

describe('exposure log', () => {
  it('records every answer with items and their scores, in order, with version and arm', async () => {
    const replies = await pool(30, 6, (i) => call(`${url}/recommendations/user${i}`, { key }));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    await exposure.flush();
    expect(readdirSync(exposureDir).length).toBeGreaterThan(0);
    const rows = (await readParquet(exposureDir).collect()).toArray().map((r) => r.toJSON() as Record<string, unknown>);
    const byId = new Map(rows.map((r) => [String(r.request_id), r]));
    for (const r of replies) {
      const row = byId.get(String(r.headers['x-request-id']));
      expect(row).toBeDefined();
      expect(row!.user).toBe(r.body.user);
      expect([...(row!.items as Iterable<string>)]).toEqual(r.body.items.map((i: { id: string }) => i.id));
      expect([...(row!.scores as Iterable<number>)]).toEqual(r.body.items.map((i: { score: number }) => i.score));
      expect(row!.model_version).toBe('v1');
      expect(row!.arm).toBe('stable');
    }
  });
});
