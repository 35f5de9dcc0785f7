/**
 * The rental job as a pipeline (examples/rental-recs/pipeline.ts) on a real cluster, on a small
 * synthetic table folder (neural model off, one ALS grid point, to stay fast): a second run on
 * unchanged data is all cache hits with equal outputs; a parameter of the last stages (topN) re-runs
 * evaluate and what follows only; new ratings change the source version, so ingest and the steps
 * downstream run; a rating out of range fails the run at validate naming the check, nothing
 * downstream runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Table, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromArrow } from 'shoal/data';
import { PipelineRecords, PipelineRunError, runPipeline, type PipelineRunResult } from 'shoal/platform';
import { openStore, type Store } from 'shoal/store';
import { TestCluster } from '../../harness/test-cluster.js';
import { generateSynthetic } from '../../../examples/rental-recs/load.js';
import { rentalPipeline, rentalResult } from '../../../examples/rental-recs/pipeline.js';
import { readTable, replaceTable, type Target } from '../../../examples/rental-recs/storage.js';

let tc: TestCluster;
let dir: string;
let store: Store;
let target: Target;
let params: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-rental-pipeline-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  tc = await TestCluster.start({ numCpus: 2 });
  target = { kind: 'parquet', dir: join(dir, 'data') };
  await generateSynthetic(target, 1_500, 3);
  params = { dataDir: target.dir, neural: false, rank: [4], regParam: [0.1], maxIter: [3], maxEvalUsers: 100 };
}, 120_000);
afterAll(async () => {
  await tc?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const states = (r: PipelineRunResult): Record<string, string> => Object.fromEntries(r.steps.map((s) => [s.step, s.state]));
const STEPS = ['ingest', 'validate', 'featurize', 'tune-als', 'train-neural', 'evaluate', 'compare', 'register'];
const all = (state: string): Record<string, string> => Object.fromEntries(STEPS.map((s) => [s, state]));

/** Replaces the ratings table with `edit` of it. */
async function editRatings(edit: (t: Table) => Table): Promise<void> {
  const t = await readTable(target, 'ratings').toArrow();
  await replaceTable(target, 'ratings', fromArrow(edit(t)));
}

describe('the rental pipeline', () => {
  it('caches every step on unchanged data, re-runs from the changed step on, fails at validate naming the check', async () => {
    const first = await runPipeline(rentalPipeline, { store, params });
    expect(states(first)).toEqual(all('succeeded'));
    const { result, registered } = await rentalResult(store, first);
    expect(registered).toMatchObject({ version: 1, alias: 'champion' });
    expect(result.metrics.length).toBeGreaterThan(3);
    expect(result.recommendations.rows).toBe(result.recommendations.users * 5);

    // Unchanged data: every step a cache hit, the same outputs (no new model version).
    const second = await runPipeline(rentalPipeline, { store, params });
    expect(states(second)).toEqual(all('cached'));
    expect(second.outputs).toEqual(first.outputs);

    // A parameter only evaluate takes: the steps before it are hits.
    const topN = await runPipeline(rentalPipeline, { store, params: { ...params, topN: 3 } });
    expect(states(topN)).toMatchObject({ ingest: 'cached', validate: 'cached', featurize: 'cached', 'tune-als': 'cached', 'train-neural': 'cached', evaluate: 'succeeded' });
    expect((await rentalResult(store, topN)).result.recommendations.rows).toBe(result.recommendations.users * 3);

    // New ratings (20 more rows): the source's version changed, so ingest runs, and the steps downstream whose inputs changed.
    await editRatings((t) => t.concat(t.slice(0, 20)));
    const changed = await runPipeline(rentalPipeline, { store, params });
    expect(states(changed)).toMatchObject({ ingest: 'succeeded', validate: 'succeeded', featurize: 'succeeded', 'tune-als': 'succeeded', evaluate: 'succeeded' });
    expect(changed.outputs.validate).toEqual({ ratings: (first.outputs.validate as { ratings: number }).ratings + 20, listings: (first.outputs.validate as { listings: number }).listings });

    // A rating of 9: validate fails naming the check; nothing downstream runs, ingest's output is kept.
    await editRatings((t) => {
      const rating = t.getChild('rating')!;
      const values = Array.from({ length: t.numRows }, (_, i) => (i === 0 ? 9 : (rating.get(i) as number)));
      const cols: Record<string, unknown> = {};
      for (const f of t.schema.fields) cols[f.name] = f.name === 'rating' ? vectorFromArray(values, f.type) : t.getChild(f.name)!;
      return new Table(cols as never);
    });
    const err = await runPipeline(rentalPipeline, { store, params }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineRunError);
    const failed = err as PipelineRunError;
    expect(failed.step).toBe('validate');
    expect(failed.message).toMatch(/DataCheckError: dataset 'ratings' failed check 'rating in \[0, 5\]': 1 values outside \(seen .* … 9\)/);
    const steps = Object.fromEntries((await new PipelineRecords(store).getSteps(failed.runId)).map((s) => [s.step, s.state]));
    expect(steps).toEqual({ ...all('not-run'), ingest: 'succeeded', validate: 'failed' });
  }, 600_000);
});
