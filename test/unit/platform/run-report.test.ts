/**
 * `shoal pipeline report` data and renderings over a real store (SQLite in a temporary folder): two
 * pipeline runs recorded as the runner records them (a run, its step child runs, their rows in
 * pipeline_runs/pipeline_steps), the first registered and made champion, the second the candidate.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from 'shoal/store';
import { CliHome } from '../../integration/cli/cli-harness.js';
import { buildRunReport, PipelineRecords, PipelineRunNotFoundError, reportHtml, reportMarkdown, type StepRecord } from 'shoal/platform';

let dir: string;
let store: Store;
const home = new CliHome();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-report-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
});
afterAll(async () => {
  await store?.close();
  home.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const step = (name: string, runId: string | null, state: StepRecord['state'] = 'succeeded', cachedFrom: string | null = null): StepRecord => ({
  step: name, node: name, state, runId, codeHash: 'c', cacheKey: 'k', cacheHit: state === 'cached', cachedFrom, attempts: runId ? 1 : 0, startTime: 1, endTime: 2,
  durationMs: 1, error: null, outputs: {},
});

/** A pipeline run with a train step (loss per epoch, model) and an evaluate step (metrics); returns its id and the train run. */
async function pipelineRun(metrics: Record<string, number>, losses: number[], register: boolean): Promise<{ id: string; train: string }> {
  const records = new PipelineRecords(store);
  const run = await store.startRun({ experiment: 'pipelines', name: 'rental' });
  await records.insertRun({
    id: run.id, pipeline: 'rental', module: null, status: 'RUNNING', params: {}, options: { noCache: false }, dag: [], resumedFrom: null, startTime: Date.now(), endTime: null, error: null,
  });
  const train = await store.startRun({ experiment: 'pipelines', name: 'rental/train', parentRunId: run.id });
  losses.forEach((l, i) => train.logMetric('loss', l, i));
  const uri = await train.logModel('outputs/model', { flavor: 'test', tensors: { w: new Float32Array([1, 2]) } });
  await train.end('FINISHED');
  const evaluate = await store.startRun({ experiment: 'pipelines', name: 'rental/evaluate', parentRunId: run.id });
  evaluate.logMetrics(metrics);
  await evaluate.end('FINISHED');
  await records.putStep(run.id, step('train', train.id));
  await records.putStep(run.id, step('evaluate', evaluate.id));
  if (register) await store.registerModel('rental', uri);
  await records.endRun(run.id, 'FINISHED', null);
  await run.end('FINISHED');
  return { id: run.id, train: train.id };
}

describe('pipeline report', () => {
  it('without a champion says so; then compares each metric with the champion\'s, lower-is-better by name, with histories', async () => {
    const first = await pipelineRun({ rmse: 0.9, ndcg: 0.3 }, [2, 1.5, 1.2], true);
    const alone = await buildRunReport(store, first.id);
    expect(alone.model).toBe('rental');
    expect(alone.champion).toBeNull();
    expect(alone.noChampion).toBe("model 'rental' has no 'champion' alias yet: the candidate has nothing to beat");
    expect(reportMarkdown(alone)).toMatch(/No champion to compare with: model 'rental' has no 'champion' alias yet/);
    await store.setAlias('rental', 'champion', 1);

    const second = await pipelineRun({ rmse: 0.8, ndcg: 0.25, coverage: 0.5 }, [1.8, 1.1, 0.9, 0.7], true);
    const r = await buildRunReport(store, second.id);
    expect(r.candidate.version).toMatchObject({ name: 'rental', version: 2 });
    expect(r.champion?.label).toBe(`models:/rental@champion (version 1, run ${first.train})`);
    // The champion's metrics include its pipeline's other steps (evaluate), so both sides are measured alike.
    expect(r.rows).toEqual([
      { metric: 'coverage', candidate: 0.5, champion: null, delta: null, lowerIsBetter: false, better: null },
      { metric: 'loss', candidate: 0.7, champion: 1.2, delta: expect.closeTo(-0.5, 9), lowerIsBetter: true, better: true },
      { metric: 'ndcg', candidate: 0.25, champion: 0.3, delta: expect.closeTo(-0.05, 9), lowerIsBetter: false, better: false },
      { metric: 'rmse', candidate: 0.8, champion: 0.9, delta: expect.closeTo(-0.1, 9), lowerIsBetter: true, better: true },
    ]);
    expect(r.histories.loss!.candidate.map((p) => p.value)).toEqual([1.8, 1.1, 0.9, 0.7]);
    expect(r.histories.loss!.champion.map((p) => p.value)).toEqual([2, 1.5, 1.2]);

    const md = reportMarkdown(r);
    expect(md).toContain(`## Pipeline run ${second.id} — rental (FINISHED)`);
    expect(md).toContain('2 of 3 shared metrics better than the champion.');
    expect(md).toContain('| rmse ↓ | 0.8 | 0.9 | -0.1 | ✅ better |');
    expect(md).toContain('| ndcg | 0.25 | 0.3 | -0.05 | ❌ worse |');
    expect(md).toContain('| loss | `█▄▂▁` | `█▄▁` |');
    const html = reportHtml(r);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<td class="worse">❌ worse</td>');
    expect((html.match(/<svg class="bars"/g) ?? []).length).toBe(4);
    expect(html).toContain('<polyline');
    expect(html).not.toMatch(/<script|https?:/);

    // Told otherwise: ndcg lower-is-better flips its verdict.
    const flipped = await buildRunReport(store, second.id, { lowerIsBetter: ['ndcg'] });
    expect(flipped.rows.find((x) => x.metric === 'ndcg')?.better).toBe(true);
    // The champion's own report: it is the champion already.
    expect((await buildRunReport(store, first.id)).noChampion).toBe('the candidate is the champion already');
  });

  it('shoal pipeline report prints the Markdown and writes the HTML', async () => {
    const run = (await new PipelineRecords(store).listRuns())[0]!;
    const html = join(dir, 'report.html');
    const r = await home.run(['pipeline', 'report', run.id, '--store', join(dir, 'store.db'), '--html', html]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`## Pipeline run ${run.id} — rental (FINISHED)`);
    expect(r.stderr).toBe(`wrote ${html}\n`);
    expect(await readFile(html, 'utf8')).toContain('<svg class="bars"');
    const missing = await home.run(['pipeline', 'report', 'no-such-run', '--store', join(dir, 'store.db')]);
    expect(missing.stderr).toBe('error: no pipeline run "no-such-run" in the store\n');
  }, 60_000);

  it('an unknown run or model is named', async () => {
    await expect(buildRunReport(store, 'no-such-run')).rejects.toBeInstanceOf(PipelineRunNotFoundError);
    const run = (await new PipelineRecords(store).listRuns())[0]!;
    expect((await buildRunReport(store, run.id, { model: 'nope' })).noChampion).toBe("no registered model 'nope'");
  });
});
