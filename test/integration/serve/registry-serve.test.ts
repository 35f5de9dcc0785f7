/**
 * Serving from the model registry on a real cluster over real HTTP: a deployment takes
 * `models:/scorer@champion`, its replica loads the pinned version from the store, and the
 * `x-shoal-version` header carries the registry version; the deployment is in the version's
 * lineage. A version whose stored signature differs from the declared one is refused at deploy time
 * with ModelSignatureMismatchError (naming the difference) before any replica starts, and traffic
 * stays where it was; a version whose files were changed on disk fails its replica's health check
 * (ArtifactCorruptError), traffic stays too; unknown aliases and non-registry URIs are typed errors.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeKey, deployFromRegistry, HealthCheckError, InvalidOptionError, ModelSignatureMismatchError, startServe, type Serve } from 'shoal/serve';
import { AliasNotFoundError, openStore, type ModelSignature, type Store, type StoreOptions } from 'shoal/store';
import { TestCluster } from '../../harness/test-cluster.js';
import { call } from '../../fixtures/serve/http-client.js';
import { Scorer, SCORER_SIGNATURE } from '../../fixtures/serve/registry-apps.js';

let tc: TestCluster;
let dir: string;
let store: Store;
let storeOptions: StoreOptions;
let serve: Serve;
let key: string;
let url: string;

/** Logs a model with weights `w` and `signature` in a run of its own and registers it as the next version of `scorer`. */
async function version(w: number[], signature: ModelSignature): Promise<number> {
  const run = await store.startRun({ experiment: 'registry-serve' });
  const uri = await run.logModel('model', { flavor: 'dot', tensors: { w: new Float32Array(w) }, signature });
  await run.end();
  return (await store.registerModel('scorer', uri)).version;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-registry-serve-'));
  storeOptions = { url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') };
  store = await openStore(storeOptions);
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const keysFile = join(dir, 'keys.json');
  key = createServeKey({ file: keysFile });
  serve = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile });
  url = `${serve.url}/score`;
});
afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const score = async (): Promise<{ status: number; version: unknown; score: number }> => {
  const r = await call(url, { key, body: { x: [1, 1, 1] } });
  return { status: r.status, version: r.headers['x-shoal-version'], score: (r.body as { score: number }).score };
};

describe('a deployment serving models:/scorer@champion', () => {
  it('loads the champion in its replica; the version header is the registry version; the deployment is in the lineage', async () => {
    const v1 = await version([1, 2, 3], SCORER_SIGNATURE);
    await store.setAlias('scorer', 'champion', v1);
    const { model } = await deployFromRegistry(serve, Scorer, 'models:/scorer@champion', { signature: SCORER_SIGNATURE, store: storeOptions, routePrefix: '/score' });
    expect(model).toMatchObject({ requested: 'models:/scorer@champion', uri: `models:/scorer/${v1}`, label: `scorer/${v1}` });
    expect(await score()).toEqual({ status: 200, version: `scorer/${v1}`, score: 6 });
    const lineage = await store.lineage(`models:/scorer/${v1}`);
    expect(lineage.deployments.map((d) => d.target)).toEqual(['scorer']);
  });

  it('refuses a version whose stored signature differs, at deploy time, naming each difference; traffic stays', async () => {
    const other: ModelSignature = { inputs: [{ name: 'x', type: 'float64', shape: [3] }], outputs: [{ name: 'score', type: 'float32' }, { name: 'extra', type: 'int32' }] };
    const v2 = await version([10, 20, 30], other);
    await store.setAlias('scorer', 'champion', v2);
    const err = await deployFromRegistry(serve, Scorer, 'models:/scorer@champion', { signature: SCORER_SIGNATURE, store: storeOptions }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelSignatureMismatchError);
    const e = err as ModelSignatureMismatchError;
    expect(e.code).toBe('SERVE_SIGNATURE_MISMATCH');
    expect(e.differences).toEqual(["input 'x': type float32 declared, float64 stored", "output 'extra' is stored but not declared"]);
    expect(e.message).toContain(`models:/scorer/${v2} (models:/scorer@champion)`);
    // A version logged without a signature is refused too.
    const v3 = await version([5, 5, 5], undefined as unknown as ModelSignature);
    await expect(deployFromRegistry(serve, Scorer, `models:/scorer/${v3}`, { signature: SCORER_SIGNATURE, store: storeOptions })).rejects.toThrow(/has no signature/);
    expect(await score()).toMatchObject({ status: 200, version: 'scorer/1', score: 6 });
    expect((await store.lineage(`models:/scorer/${v2}`)).deployments).toEqual([]);
  });

  it('hot-swaps to a new champion with the same signature: the header follows the registry', async () => {
    const v = await version([2, 2, 2], SCORER_SIGNATURE);
    await store.setAlias('scorer', 'champion', v);
    await deployFromRegistry(serve, Scorer, 'models:/scorer@champion', { signature: SCORER_SIGNATURE, store: storeOptions });
    expect(await score()).toEqual({ status: 200, version: `scorer/${v}`, score: 6 });
    const r = await call(url, { key, body: { x: [1, 2, 3] } });
    expect(r.body).toEqual({ score: 12, uri: `models:/scorer/${v}` });
  });

  it('a version whose files changed on disk fails its replica health check (ArtifactCorruptError); traffic stays', async () => {
    const before = await score();
    const v = await version([7, 8, 9], SCORER_SIGNATURE);
    const { runId } = await store.resolveModelUri(`models:/scorer/${v}`);
    const blob = (await store.listArtifacts(runId, 'model')).find((a) => a.path === 'model/tensors/w.bin')!;
    const file = join(storeOptions.artifactDir!, 'sha256', blob.sha256.slice(0, 2), blob.sha256.slice(2));
    const bytes = await readFile(file);
    bytes[0] = bytes[0]! ^ 0xff;
    await writeFile(file, bytes);
    const err = await deployFromRegistry(serve, Scorer, `models:/scorer/${v}`, { signature: SCORER_SIGNATURE, store: storeOptions }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HealthCheckError);
    const cause = (err as Error).cause as { name: string; message: string };
    expect(cause.name).toBe('ArtifactCorruptError');
    expect(cause.message).toContain(`runs:/${runId}/model/tensors/w.bin`);
    expect(await score()).toEqual(before);
  });

  it('unknown aliases and non-registry URIs are typed errors before anything starts', async () => {
    await expect(deployFromRegistry(serve, Scorer, 'models:/scorer@nobody', { signature: SCORER_SIGNATURE, store: storeOptions })).rejects.toBeInstanceOf(AliasNotFoundError);
    const { runId } = await store.resolveModelUri('models:/scorer/1');
    await expect(deployFromRegistry(serve, Scorer, `runs:/${runId}/model`, { signature: SCORER_SIGNATURE, store: storeOptions })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(deployFromRegistry(serve, Scorer, 'models:/scorer@champion', { signature: { inputs: 'x' } as unknown as ModelSignature, store: storeOptions })).rejects.toThrow(/options.signature must be/);
  });
});
