/**
 * A validate step with data checks on a real cluster: a failing check (a range, the row-count change
 * against the last run read through ctx.previousOutputs()) fails the run at the validate step with
 * the check named, and the training step downstream does not run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from 'shoal/store';
import { PipelineRecords, PipelineRunError, runPipeline } from 'shoal/platform';
import { TestCluster } from '../../harness/test-cluster.js';
import validated from '../../fixtures/platform/validated.js';

let cluster: TestCluster;
let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-checks-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  cluster = await TestCluster.start({ numCpus: 2, numWorkers: 1 });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const ratings = (n: number, bad?: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ user_id: i, rating: i === 0 && bad !== undefined ? bad : 1 + (i % 5) })));

async function failure(path: string): Promise<PipelineRunError> {
  const err = await runPipeline(validated, { store, params: { path } }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PipelineRunError);
  return err as PipelineRunError;
}

describe('data checks in a validate step', () => {
  it('pass, then fail the run naming the check (range, row-count change vs the last run); downstream does not run', async () => {
    const path = join(dir, 'ratings.json');
    await writeFile(path, ratings(10));
    const ok = await runPipeline(validated, { store, params: { path } });
    expect(ok.outputs.validate).toEqual({ rows: 10 });
    expect((await new PipelineRecords(store).getLogs(ok.runId, 'validate')).map((l) => l.line)).toEqual(['5 checks passed']);

    await writeFile(path, ratings(10, 7));
    const range = await failure(path);
    expect(range.step).toBe('validate');
    expect(range.message).toMatch(/failed at step 'validate': DataCheckError: dataset 'ratings' failed check 'rating in \[1, 5\]': 1 values outside \(seen 1 … 7\)/);
    const steps = Object.fromEntries((await new PipelineRecords(store).getSteps(range.runId)).map((s) => [s.step, s.state]));
    expect(steps).toEqual({ ingest: 'succeeded', validate: 'failed', train: 'not-run' });

    await writeFile(path, ratings(4));
    const drop = await failure(path);
    expect(drop.message).toMatch(/failed check 'row count change vs last run ≤ ±50 %': 10 → 4 rows \(-60\.0 %\)/);

    await writeFile(path, ratings(12));
    const back = await runPipeline(validated, { store, params: { path } });
    expect(back.outputs.validate).toEqual({ rows: 12 });
  }, 180_000);
});
