/**
 * Pushing state to every replica of a deployment without restarting it: `controller.handle(name)`
 * and `DeploymentHandle.broadcast(method, ...args)` — how a streaming job's updated user vectors
 * reach serving. Both replicas answer with the new vector on the next request. Real cluster, HTTP.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentNotFoundError, createServeKey, startServe, type Serve } from 'shoal/serve';
import { TestCluster } from '../../harness/test-cluster.js';
import { LiveScorer } from '../../fixtures/serve/live-vectors.js';
import { call } from '../../fixtures/serve/http-client.js';

let tc: TestCluster;
let serve: Serve;
let key: string;

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const keysFile = join(mkdtempSync(join(tmpdir(), 'shoal-serve-broadcast-')), 'serve-keys.json');
  key = createServeKey({ file: keysFile });
  serve = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile });
}, 120_000);
afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
});

describe('broadcast to the replicas of a deployment', () => {
  it('updates every replica in place: the next requests on both replicas see the new vector', async () => {
    await serve.run(LiveScorer.bind([1, 2, 3]), { routePrefix: '/score' });
    const handle = serve.controller.handle('live-scorer');
    expect(handle.replicas.length).toBe(2);
    expect((await call(`${serve.url}/score?user=u1`, { key })).body.score).toBeNull();
    expect(await handle.broadcast('updateUsers', [{ user: 'u1', factors: [1, 0, 0] }])).toEqual([1, 1]);
    const seen = new Map<string, number>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const r = await call(`${serve.url}/score?user=u1`, { key });
      expect(r.status).toBe(200);
      seen.set(r.body.replica as string, r.body.score as number);
    }
    expect([...seen.values()]).toEqual([1, 1]); // both replicas, the new vector
    // A second update replaces it, again with no restart.
    await handle.broadcast('updateUsers', [{ user: 'u1', factors: [0, 0, 2] }]);
    expect((await call(`${serve.url}/score?user=u1`, { key })).body.score).toBe(6);
    expect(() => serve.controller.handle('nope')).toThrow(DeploymentNotFoundError);
  }, 120_000);
});
