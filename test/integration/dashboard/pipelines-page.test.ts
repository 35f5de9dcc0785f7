/**
 * The Pipelines pages in Chromium against a live cluster: real pipeline runs (test/fixtures/platform)
 * recorded in the store the head's dashboard reads — a run with a failing step, the same run again
 * with two steps from the cache, and a run still going while the page is open, which the page
 * follows to its end without a reload. The list shows the runs and their step counts; the run page
 * shows the DAG (a box per step coloured by state, an edge per dependency), each step's state,
 * duration, cache hit, attempts, artifacts and error, and a step's log (a real pipeline's steps
 * writing to stdout, stderr and ctx.log). After the cluster stops, the history dashboard shows the
 * same run read-only. No console errors; screenshots in test/output/dashboard.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdown } from 'shoal';
import { DASHBOARD_EXTENSION, serveHistory, type HistoryDashboard } from 'shoal/dashboard';
import { PipelineRunError, runPipeline, type PipelineRunResult } from 'shoal/platform';
import { openStore, STORE_EXTENSION, type PipelineRunsReply, type Store } from 'shoal/store';
import { chromiumAvailable, launchBrowser, NO_CHROMIUM, type Browser } from '../../harness/browser.js';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { failing, killed } from '../../fixtures/platform/pipelines.js';
import logged from '../../fixtures/platform/logged.js';

const canRun = chromiumAvailable();

/** The run id of a pipeline run that failed (PipelineRunError names it). */
async function failedRunId(p: Promise<PipelineRunResult>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PipelineRunError);
  return (err as PipelineRunError).runId;
}

describe.skipIf(!canRun)(`dashboard Pipelines pages in Chromium${canRun ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  const home = mkdtempSync(join(tmpdir(), 'shoal-dashboard-pipelines-'));
  const saved = { SHOAL_HOME: process.env.SHOAL_HOME, SHOAL_KEEP_SESSION: process.env.SHOAL_KEEP_SESSION };
  let tc: TestCluster;
  let browser: Browser;
  let url: string;
  let store: Store;
  let history: HistoryDashboard | undefined;
  let firstRun = '';
  let cachedRun = '';

  beforeAll(async () => {
    // The head's dashboard reads the store under this SHOAL_HOME; this process records the pipeline runs there.
    Object.assign(process.env, { SHOAL_HOME: home, SHOAL_KEEP_SESSION: '1' });
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 2, headOptions: { extensions: [STORE_EXTENSION, DASHBOARD_EXTENSION] } });
    url = (tc.cluster.head as { httpMounts?: Record<string, string> }).httpMounts?.dashboard ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    store = await openStore();
    const params = { flag: join(home, 'no-such-flag'), n: 4 };
    firstRun = await failedRunId(runPipeline(failing, { store, params }));
    cachedRun = await failedRunId(runPipeline(failing, { store, params }));
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await history?.close();
    await browser?.close();
    await store?.close();
    await tc?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(home, { recursive: true, force: true });
  });

  async function loggedIn(path: string, base = url, token = tc.token) {
    const tracked = await browser.page();
    await tracked.page.goto(`${base}login?next=${encodeURIComponent(path)}`);
    await tracked.page.fill('#token', token);
    await tracked.page.click('button[type=submit]');
    await tracked.page.waitForURL((u) => u.pathname === path.split('?')[0]);
    return tracked;
  }

  it('the Pipelines page lists both runs with their step counts, and is in the navigation', async () => {
    const { page: p, problems } = await loggedIn('/');
    await p.locator('header nav').getByText('Pipelines').click();
    await p.waitForURL((u) => u.pathname === '/pipelines');
    const table = p.locator('#pipeline-runs');
    await table.locator(`tr[data-run="${cachedRun}"]`).waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    const row = table.locator(`tr[data-run="${cachedRun}"]`);
    await expect(row.locator('td.status').textContent()).resolves.toBe('FAILED');
    await expect(row.locator('.step-state.cached').textContent()).resolves.toBe('2 cached');
    await expect(row.locator('.step-state.failed').textContent()).resolves.toBe('1 failed');
    await expect(row.locator('.step-state.not-run').textContent()).resolves.toBe('1 not-run');
    await expect(table.locator(`tr[data-run="${firstRun}"] .step-state.succeeded`).textContent()).resolves.toBe('2 succeeded');
    await browser.screenshot(p, 'pipelines');
    await row.locator('a').click();
    await p.waitForURL((u) => u.pathname === `/pipelines/runs/${cachedRun}`);
    await p.locator('#pipeline-dag').waitFor();
    expect(problems).toEqual([]);
    await p.close();
  });

  it('the run page shows the DAG by state, the cache hits, the failing step with its error, and the step not run', async () => {
    const { page: p, problems } = await loggedIn(`/pipelines/runs/${cachedRun}`);
    const dag = p.locator('#pipeline-dag');
    await dag.locator('g.step-node[data-step="boom"]').waitFor();
    const stateOf = async (step: string) => dag.locator(`g.step-node[data-step="${step}"]`).getAttribute('data-state');
    expect({ first: await stateOf('first'), boom: await stateOf('boom'), after: await stateOf('after'), side: await stateOf('side') })
      .toEqual({ first: 'cached', boom: 'failed', after: 'not-run', side: 'cached' });
    // An edge per dependency: first → boom → after; side stands alone.
    const edges = await dag.locator('line.edge').evaluateAll((ls) => ls.map((l) => `${l.getAttribute('data-from')}->${l.getAttribute('data-to')}`).sort());
    expect(edges).toEqual(['boom->after', 'first->boom']);
    await p.locator('#pipeline-run-status').getByText('FAILED').waitFor();
    await p.locator('#pipeline-run-failure').getByText(/boom/).waitFor();

    const steps = p.locator('#pipeline-steps');
    const row = (step: string) => steps.locator(`tr[data-step="${step}"]`);
    await expect(row('first').locator('td.cache').textContent()).resolves.toBe('hit');
    await expect(row('side').locator('td.cache').textContent()).resolves.toBe('hit');
    await expect(row('boom').locator('td.cache').textContent()).resolves.toBe('miss');
    await expect(row('boom').locator('td.error').textContent()).resolves.toMatch(/^RangeError: boom: no .*no-such-flag$/);
    await expect(row('after').locator('td.error').textContent()).resolves.toContain("upstream step 'boom' did not succeed");
    // first saved a file: its output artifact (taken from the first run's step, which the row links).
    await row('first').getByText(/file: file, 2 B/).waitFor();
    await row('first').getByText('from').waitFor();
    await expect(row('boom').locator('td.attempts').textContent()).resolves.toBe('1');

    await dag.locator('g.step-node[data-step="boom"]').click();
    await p.locator('#step-detail[data-step="boom"] #step-error').getByText(/RangeError: boom/).waitFor();
    await browser.screenshot(p, 'pipeline-run');
    // The step's name: the row's middle holds its run's link.
    await row('first').locator('td.step-name').click();
    await p.locator('#step-detail[data-step="first"] #step-outputs').getByText(/"artifact": "file"/).waitFor();

    // From a step's own run page back to its pipeline run.
    const firstRunSteps = await (await fetch(new URL(`/api/store/pipeline-runs/${firstRun}`, url), { headers: { authorization: `Bearer ${tc.token}` } })).json() as { steps: Array<{ step: string; runId: string | null }> };
    const firstStepRun = firstRunSteps.steps.find((s) => s.step === 'first')!.runId!;
    await p.goto(`${url}runs/${firstStepRun}`);
    await p.locator('#run-pipeline').click();
    await p.waitForURL((u) => u.pathname === `/pipelines/runs/${firstRun}`);
    await p.locator('#pipeline-dag g.step-node[data-step="first"][data-state="succeeded"]').waitFor();
    expect(problems).toEqual([]);
    await p.close();
  });

  it("shows a step's log: what its code wrote to stdout and stderr and its ctx.log lines; a failing step's ends with its error", async () => {
    const id = await failedRunId(runPipeline(logged, { store, params: { n: 2, fail: true } }));
    const { page: p, problems } = await loggedIn(`/pipelines/runs/${id}`);
    const steps = p.locator('#pipeline-steps');
    await steps.locator('tr[data-step="chatty"] .log-lines').waitFor();
    await steps.locator('tr[data-step="chatty"] td.step-name').click();
    const log = p.locator('#step-detail[data-step="chatty"] #step-log');
    await log.getByText('line 1').waitFor();
    await log.getByText('metrics { rmse: 0.5 }').waitFor();
    await log.locator('.stderr').getByText('a warning').waitFor();
    await steps.locator('tr[data-step="broken"] td.step-name').click();
    const broken = p.locator('#step-detail[data-step="broken"] #step-log');
    await broken.getByText('about to fail with n=2').waitFor();
    await broken.getByText(/RangeError: n is out of range/).first().waitFor();
    await browser.screenshot(p, 'pipeline-run-log');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('an unknown run id shows the 404 on the page', async () => {
    const { page: p, problems } = await loggedIn(`/pipelines/runs/${'0'.repeat(32)}`);
    await p.locator('#pipeline-run-error').getByText(/no pipeline run/).waitFor();
    // The 404 of the API call is the only problem.
    expect(problems.filter((m) => !m.includes('404'))).toEqual([]);
    await p.close();
  });

  it('follows a running pipeline run live: the step running, then the run finished, without a reload', async () => {
    const dir = join(home, 'live');
    mkdirSync(dir);
    const running = runPipeline(killed, { store, params: { dir } });
    await waitFor('the victim step to start', () => existsSync(join(dir, 'attempt-1.pid')), 60_000);
    const list = (await (await fetch(new URL('/api/store/pipeline-runs?pipeline=kill-demo', url), { headers: { authorization: `Bearer ${tc.token}` } })).json()) as PipelineRunsReply;
    const id = list.runs[0]!.id;
    const { page: p, problems } = await loggedIn(`/pipelines/runs/${id}`);
    await p.locator('#pipeline-run-status').getByText('RUNNING').waitFor();
    await p.locator('#pipeline-dag g.step-node[data-step="victim"][data-state="running"]').waitFor();
    writeFileSync(join(dir, 'release'), '');
    const result = await running;
    expect(result.runId).toBe(id);
    await p.locator('#pipeline-run-status').getByText('FINISHED').waitFor({ timeout: 30_000 });
    await p.locator('#pipeline-dag g.step-node[data-step="after"][data-state="succeeded"]').waitFor();
    await browser.screenshot(p, 'pipeline-run-live');
    expect(problems).toEqual([]);
    await p.close();
  }, 120_000);

  it('after the cluster stops, the history dashboard shows the pipeline run, read-only', async () => {
    await shutdown();
    await tc.cluster.stop();
    history = await serveHistory(join(tc.cluster.dir, 'head.sqlite'));
    const { page: p, problems } = await loggedIn(`/pipelines/runs/${cachedRun}`, history.url, history.token ?? tc.token);
    await p.locator('#read-only').waitFor();
    await p.locator('#pipeline-dag g.step-node[data-step="boom"][data-state="failed"]').waitFor();
    await p.locator('#pipeline-steps tr[data-step="first"] td.cache').getByText('hit').waitFor();
    await p.goto(`${history.url}pipelines`);
    await p.locator(`#pipeline-runs tr[data-run="${firstRun}"]`).waitFor();
    await browser.screenshot(p, 'history-pipelines');
    expect(problems).toEqual([]);
    await p.close();
  });
});
