/**
 * The rental job's live mode serving from the model registry (examples/rental-recs/live.ts
 * serveFromRegistry, what `npm start -- --serve` does after a tracked run): the job registers its
 * model, replicas load `models:/rental-recs@champion` from the store, the stored signature is the
 * served model's, and every answer carries the registry version in `x-shoal-version`; the
 * deployment is in the version's lineage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeKey, type Serve } from 'shoal/serve';
import { openStore } from 'shoal/store';
import { TestCluster } from '../../harness/test-cluster.js';
import { call } from '../../fixtures/serve/http-client.js';
import { runJob, type Grid } from '../../../examples/rental-recs/job.js';
import { serveFromRegistry } from '../../../examples/rental-recs/live.js';
import { writeHtmlReport, writeJsonReport } from '../../../examples/rental-recs/report.js';
import { endTracking, finishTracking, MODEL_NAME, startTracking, type TrackedOutcome } from '../../../examples/rental-recs/tracking.js';
import type { ServedModel } from '../../../examples/rental-recs/served-model.js';

const GRID: Grid = { rank: [4], regParam: [0.1], maxIter: [3] };
let tc: TestCluster;
let home: string;
let serve: Serve | undefined;
let outcome: TrackedOutcome;
let model: ServedModel;
const oldHome = process.env.SHOAL_HOME;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'shoal-rental-live-registry-'));
  process.env.SHOAL_HOME = home;
  tc = await TestCluster.start({ numCpus: 2 });
  const options = { synthetic: 2_000, seed: 3, grid: GRID, neural: false as const, dataDir: join(home, 'data'), outDir: join(home, 'out'), log: () => undefined };
  const t = await startTracking(options);
  try {
    const result = await runJob({ ...options, keepModel: true });
    model = result.model!;
    outcome = await finishTracking(t, result, { html: writeHtmlReport(result, options.outDir), json: writeJsonReport(result, options.outDir) });
    await endTracking(t);
  } catch (err) {
    await endTracking(t, err);
    throw err;
  }
}, 300_000);
afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
  if (oldHome === undefined) delete process.env.SHOAL_HOME;
  else process.env.SHOAL_HOME = oldHome;
  await rm(home, { recursive: true, force: true });
});

describe('npm start -- --serve after a tracked run', () => {
  it('serves models:/rental-recs@champion from the registry, the registry version in every answer', async () => {
    expect(outcome).toMatchObject({ version: 1, alias: 'champion' });
    const keysFile = join(home, 'keys.json');
    const key = createServeKey({ file: keysFile });
    const started = await serveFromRegistry(`models:/${MODEL_NAME}@champion`, {
      port: 0, numReplicas: 1, clusterTokenFile: tc.cluster.head.tokenFile, serveKeysFile: keysFile, exposureDir: join(home, 'exposures'), flushIntervalMs: 100,
    });
    serve = started.serve;
    expect(started.model).toMatchObject({ uri: `models:/${MODEL_NAME}/1`, label: `${MODEL_NAME}/1` });
    const user = model.userIds.find((_, i) => model.seen.ptr[i + 1]! - model.seen.ptr[i]! >= 1)!;
    const r = await call(`${serve.url}/recommendations/${user}?k=5`, { key });
    expect(r.status).toBe(200);
    expect(r.headers['x-shoal-version']).toBe(`${MODEL_NAME}/1`);
    expect(r.body).toMatchObject({ user, version: model.version, fallback: null });
    expect(r.body.items).toHaveLength(5);
    const anon = await call(`${serve.url}/recommendations/nobody-here?k=3`, { key });
    expect(anon.status).toBe(200);
    expect(anon.body.fallback).toMatchObject({ by: 'popular' });

    const store = await openStore();
    try {
      expect((await store.lineage(`models:/${MODEL_NAME}@champion`)).deployments.map((d) => d.target)).toEqual(['recommendations']);
    } finally {
      await store.close();
    }
  });
});
