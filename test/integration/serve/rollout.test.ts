/**
 * Model updates on a real cluster over real HTTP: hot swap under steady load with zero failures,
 * a failing health check leaving traffic where it was, canary split and stickiness, shadow answers
 * never returned, instant rollback, and autoscaling up and down.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeKey, HealthCheckError, startServe, type Serve } from 'shoal/serve';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { Model, Scaled, Unhealthy } from '../../fixtures/serve/apps.js';
import { call, pool, type Reply } from '../../fixtures/serve/http-client.js';
import { CliHome } from '../cli/cli-harness.js';

let tc: TestCluster;
let serve: Serve;
let key: string;
let url: string;
let keysFile: string;
const cli = new CliHome();

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'shoal-serve-'));
  keysFile = join(dir, 'serve-keys.json');
  key = createServeKey({ file: keysFile });
  serve = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile, autoscaleIntervalMs: 100 });
  url = serve.url;
  await serve.run(Model.bind('m1', 2), { routePrefix: '/recommendations' });
}, 120_000);
afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
  cli.cleanup();
});

/** Steady load until `stop()`: returns every reply. */
function steadyLoad(concurrency: number): { stop: () => Promise<Reply[]> } {
  let running = true;
  const replies: Reply[] = [];
  const loops = Array.from({ length: concurrency }, async (_, w) => {
    let i = 0;
    while (running) replies.push(await call(`${url}/recommendations/u${w}-${i++}`, { key }).catch((e: Error) => ({ status: -1, headers: {}, body: e.message })));
  });
  return { stop: async () => { running = false; await Promise.all(loops); return replies; } };
}

describe('hot swap', () => {
  it('swaps versions under steady load with zero failed requests', async () => {
    const load = steadyLoad(6);
    await waitFor('traffic on v1', () => serve.controller.get('model').requests > 50, 30_000);
    await serve.run(Model.options({ version: 'm2' }).bind('m2', 2));
    const before = serve.controller.get('model').requests;
    await waitFor('traffic on m2', () => serve.controller.get('model').requests > before + 50, 30_000);
    const replies = await load.stop();
    expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    const versions = new Set(replies.map((r) => r.headers['x-shoal-version']));
    expect(versions).toEqual(new Set(['v1', 'm2']));
    expect(replies.at(-1)!.body.model).toBe('m2');
    await waitFor('old replicas stopped', () => serve.controller.get('model').previous!.group.replicas.length === 0, 30_000);
  });

  it('a version failing its health check never takes traffic', async () => {
    await expect(serve.run(Unhealthy.bind())).rejects.toBeInstanceOf(HealthCheckError);
    const r = await call(`${url}/recommendations/u1`, { key });
    expect(r.headers['x-shoal-version']).toBe('m2');
  });
});

describe('canary, shadow, rollback', () => {
  it('splits traffic by weight within ±3% and keeps each user in one arm', async () => {
    await serve.controller.rollout('model', Model.options({ version: 'm3' }).bind('m3'), 20);
    const n = 2000;
    const replies = await pool(n, 16, (i) => call(`${url}/recommendations/user-${i}`, { key }));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const canary = replies.filter((r) => r.headers['x-shoal-arm'] === 'canary');
    expect(canary.every((r) => r.body.model === 'm3' && r.headers['x-shoal-version'] === 'm3')).toBe(true);
    expect(Math.abs(canary.length / n - 0.2)).toBeLessThanOrEqual(0.03);
    // stickiness: the same users again land in the same arm
    const again = await pool(200, 16, (i) => call(`${url}/recommendations/user-${i}`, { key }));
    again.forEach((r, i) => expect(r.headers['x-shoal-arm']).toBe(replies[i]!.headers['x-shoal-arm']));
  });

  it('rollback removes the canary at once', async () => {
    await serve.controller.rollback('model');
    const replies = await pool(100, 8, (i) => call(`${url}/recommendations/user-${i}`, { key }));
    expect(replies.every((r) => r.status === 200 && r.headers['x-shoal-version'] === 'm2')).toBe(true);
  });

  it('mirrors traffic to a shadow whose answers are never returned', async () => {
    await serve.controller.shadow('model', Model.options({ version: 'shadow' }).bind('shadow'));
    const replies = await pool(100, 8, (i) => call(`${url}/recommendations/s-${i}`, { key }));
    expect(replies.every((r) => r.status === 200 && r.body.model === 'm2')).toBe(true);
    await waitFor('shadow answered', () => serve.controller.get('model').shadowAnswers > 0, 10_000);
    await serve.controller.shadow('model', undefined);
  });

  it('rollback after a promotion returns to the previous version', async () => {
    await serve.run(Model.options({ version: 'm4' }).bind('m4'));
    expect((await call(`${url}/recommendations/x`, { key })).headers['x-shoal-version']).toBe('m4');
    await serve.controller.rollback('model');
    expect((await call(`${url}/recommendations/x`, { key })).headers['x-shoal-version']).toBe('m2');
  });
});

describe('autoscaling', () => {
  it('adds replicas under load and removes them after, logging why', async () => {
    await serve.run(Scaled.bind());
    const d = serve.controller.get('scaled');
    let running = true;
    const loops = Array.from({ length: 10 }, async () => {
      while (running) await call(`${url}/scaled?ms=150`, { key }).catch(() => undefined);
    });
    await waitFor('scaled up', () => d.stable.group.running.length >= 2, 30_000);
    running = false;
    await Promise.all(loops);
    await waitFor('scaled down', () => d.stable.group.running.length === 1, 30_000);
    const decisions = serve.controller.status().decisions.filter((x) => x.deployment === 'scaled');
    expect(decisions.some((x) => x.to > x.from)).toBe(true);
    // One step at a time: no new upscale while the replicas of the last one are still starting.
    expect(decisions.filter((x) => x.to > x.from).length).toBeLessThanOrEqual(2);
    expect(decisions.some((x) => x.to < x.from)).toBe(true);
    expect(decisions[0]!.reason).toMatch(/per replica, target 2/);
  }, 120_000);
});

describe('shoal serve (the CLI against the running instance)', () => {
  const shoal = (args: string[], token = tc.token) => cli.run(['serve', ...args], { env: { SHOAL_TOKEN: token, SHOAL_SERVE_URL: url } });

  it('sets the canary weight, refuses another canary version, prints status, rolls back', async () => {
    await serve.controller.rollout('model', Model.options({ version: 'm5' }).bind('m5'), 0);
    const set = await shoal(['rollout', 'model', '--weight', '30', '--canary', 'm5']);
    expect(set).toMatchObject({ code: 0, stdout: 'model: canary m5 takes 30% (stable m2)\n' });
    expect(serve.controller.get('model').canary?.weight).toBe(30);
    const wrong = await shoal(['rollout', 'model', '--weight', '50', '--canary', 'm9']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/HTTP 400: deployment model's canary is version m5, not m9/);
    expect((await shoal(['rollout', 'model', '--weight', '150'])).stderr).toMatch(/--weight must be a number from 0 to 100 \(got 150\)/);
    const status = await shoal(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/model +\/recommendations +m2 .* m5 at 30%/);
    expect(status.stdout).toMatch(/Autoscaler decisions/);
    expect(await shoal(['rollback', 'model'])).toMatchObject({ code: 0, stdout: 'model: version m2 takes all traffic\n' });
    expect(serve.controller.get('model').canary).toBeUndefined();
  }, 180_000);

  it('refuses a wrong token and says when nothing answers', async () => {
    const bad = await shoal(['status'], 'not-the-token');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/HTTP 401: admin endpoints need the cluster token/);
    const none = await cli.run(['serve', 'status'], { env: { SHOAL_TOKEN: tc.token, SHOAL_SERVE_URL: 'http://127.0.0.1:9' } });
    expect(none.stderr).toMatch(/no serve instance answers at http:\/\/127.0.0.1:9/);
  }, 120_000);

  it('keys create: the new key works on the running instance at once', async () => {
    const r = await shoal(['keys', 'create', '--keys-file', keysFile, '--name', 'cli-test']);
    expect(r.code).toBe(0);
    const newKey = r.stdout.trim();
    expect(newKey).toMatch(/^sk_/);
    expect(r.stderr).toMatch(/accepts it now \(2 keys\)/);
    expect((await call(`${url}/recommendations/k1`, { key: newKey })).status).toBe(200);
  }, 120_000);

  it('shutdown stops the instance (the last test: it takes the ingress down)', async () => {
    expect(await shoal(['shutdown'])).toMatchObject({ code: 0 });
    await serve.stopped();
    await expect(call(`${url}/recommendations/x`, { key })).rejects.toThrow(/ECONNREFUSED/);
  }, 120_000);
});
