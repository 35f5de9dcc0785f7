/**
 * `shoal start --head` serves the store's REST API by default: the head finds the platform store
 * where the CLI does ($SHOAL_HOME/store), `shoal status` prints its address, the API answers only
 * with the cluster token, and an alias moved through it is what `shoal models show` then prints.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type RunInfo, type StoreApiErrorReply } from 'shoal/store';
import { CliHome } from '../cli/cli-harness.js';

describe('shoal start --head serves the store API', () => {
  const home = new CliHome();
  // The variables that would point the CLI and the head elsewhere are blanked: both use $SHOAL_HOME/store.
  const env = { SHOAL_METADATA_URL: '', SHOAL_ARTIFACT_DIR: '' };
  let storeUrl = '';
  let token = '';
  let runId = '';

  beforeAll(async () => {
    const store = await openStore({ url: join(home.dir, 'store', 'store.db'), artifactDir: join(home.dir, 'store', 'artifacts') });
    try {
      const run = await store.startRun({ experiment: 'cli-api', name: 'only', params: { rank: 4 } });
      run.logMetric('loss', 0.5, 0);
      const uri = await run.logModel('model', { flavor: 'demo', tensors: { w: new Float32Array([1]) } });
      await run.end();
      runId = run.id;
      await store.registerModel('cli-model', uri);
      await store.registerModel('cli-model', uri);
    } finally {
      await store.close();
    }
    const started = await home.run(['start', '--head', '--port', '0', '--num-cpus', '0'], { env });
    expect(started.code, started.stderr).toBe(0);
    token = readFileSync(home.record()!.tokenFile, 'utf8').trim();
    const status = await home.run(['status'], { env });
    expect(status.code, status.stderr).toBe(0);
    storeUrl = /Store API: (http:\/\/127\.0\.0\.1:\d+\/api\/store\/) \(Authorization: Bearer <token>\)/.exec(status.stdout)?.[1] ?? '';
    expect(storeUrl, status.stdout).not.toBe('');
  });
  afterAll(async () => {
    await home.run(['stop'], { env });
    home.cleanup();
  });

  it('lists the runs of $SHOAL_HOME/store with the token, and nothing without it', async () => {
    expect((await fetch(new URL('runs', storeUrl))).status).toBe(401);
    const res = await fetch(new URL('runs?experiment=cli-api', storeUrl), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const { runs } = (await res.json()) as { runs: RunInfo[] };
    expect(runs.map((r) => [r.id, r.name, r.params.rank, r.metrics.loss])).toEqual([[runId, 'only', '4', 0.5]]);
  });

  it('an alias moved through the API is what shoal models show prints; an unknown model is a 404', async () => {
    const move = (name: string, alias: string, version: number): Promise<Response> => fetch(new URL(`models/${name}/aliases/${alias}`, storeUrl), {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ version, reason: 'from the API' }),
    });
    expect((await move('cli-model', 'champion', 2)).status).toBe(200);
    const shown = await home.run(['models', 'show', 'cli-model', '--json'], { env });
    expect(shown.code, shown.stderr).toBe(0);
    const { model, history } = JSON.parse(shown.stdout) as { model: { aliases: Record<string, number> }; history: Array<{ reason: string; version: number }> };
    expect(model.aliases).toEqual({ champion: 2 });
    expect(history).toEqual([expect.objectContaining({ version: 2, reason: 'from the API' })]);
    const missing = await move('no-model', 'champion', 1);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as StoreApiErrorReply).error.code).toBe('MODEL_NOT_FOUND');
  });
});
