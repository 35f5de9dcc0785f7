/**
 * The learned hybrid served over real HTTP with `?explain=1` (examples/rental-recs/live.ts): each
 * recommended listing's attributions over the hybrid's features add up to its score minus the
 * user's baseline score; the POST form explains too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeKey, type Serve } from 'shoal/serve';
import { TestCluster } from '../../harness/test-cluster.js';
import { call } from '../../fixtures/serve/http-client.js';
import { hybridMarket } from '../../fixtures/rental/hybrid-market.js';
import { serveModel } from '../../../examples/rental-recs/live.js';

let tc: TestCluster;
let serve: Serve;
let key: string;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'shoal-rental-explain-'));
const { model } = hybridMarket();

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const keysFile = join(dir, 'keys.json');
  key = createServeKey({ file: keysFile });
  ({ serve } = await serveModel(model, { port: 0, numReplicas: 1, clusterTokenFile: tc.cluster.head.tokenFile, serveKeysFile: keysFile, exposureDir: join(dir, 'exposures') }));
  url = `${serve.url}/recommendations`;
}, 120_000);

afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer { items: Array<{ id: string; score: number; explanation: { method: string; baselineScore: number; attributions: Array<{ feature: string; value: number }> } }> }

describe('hybrid ?explain=1 over HTTP', () => {
  it('attributions add up to score − baselineScore, for GET and POST', async () => {
    const get = await call(`${url}/${model.userIds[7]}?k=5&explain=1`, { key });
    const post = await call(url, { key, method: 'POST', body: { user: model.userIds[8], k: 5, explain: true } });
    for (const r of [get, post]) {
      expect(r.status).toBe(200);
      const items = (r.body as Answer).items;
      expect(items).toHaveLength(5);
      for (const it of items) {
        expect(it.explanation.method).toBe('additive-shapley');
        expect(it.explanation.attributions.length).toBeGreaterThan(0);
        const sum = it.explanation.attributions.reduce((s, a) => s + a.value, 0);
        expect(sum).toBeCloseTo(it.score - it.explanation.baselineScore, 4);
      }
    }
  });
});
