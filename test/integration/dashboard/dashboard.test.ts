/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against a live cluster:
 * the login page and 401 without the cookie; each page loads with no console errors and shows this
 * cluster's data; a job's output streams into its page; a task failure shows its remote stack;
 * actions need the CSRF header. Screenshots of each page land in test/output/dashboard.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'shoal';
import { DASHBOARD_EXTENSION, type ClusterView, type TasksView } from 'shoal/dashboard';
import { chromiumAvailable, launchBrowser, NO_CHROMIUM, type Browser } from '../../harness/browser.js';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { ok, throwsTypeError } from '../../fixtures/core/index.js';

const REPO = resolve(import.meta.dirname, '../../..');
const canRun = chromiumAvailable();

describe.skipIf(!canRun)(`dashboard in Chromium${canRun ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let tc: TestCluster;
  let browser: Browser;
  let url: string;
  const scratch = mkdtempSync(join(tmpdir(), 'shoal-dashboard-test-'));

  beforeAll(async () => {
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 2, headOptions: { extensions: [DASHBOARD_EXTENSION] } });
    const mounts = (tc.cluster.head as { httpMounts?: Record<string, string> }).httpMounts;
    url = mounts?.dashboard ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await tc?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(new URL(path, url), init);
  const bearer = (): Record<string, string> => ({ authorization: `Bearer ${tc.token}` });

  it('answers 401 without the cookie, sends pages to the login, and refuses a wrong token', async () => {
    expect((await api('/api/cluster')).status).toBe(401);
    expect((await api('/api/tasks', { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
    expect((await api('/api/cluster', { headers: { cookie: 'shoal_session=made-up' } })).status).toBe(401);
    const page = await api('/jobs', { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login?next=%2Fjobs');

    const { page: p, problems } = await browser.page();
    await p.goto(`${url}tasks`);
    expect(new URL(p.url()).pathname).toBe('/login');
    await browser.screenshot(p, 'login');
    await p.fill('#token', 'wrong-token');
    await p.click('button[type=submit]');
    await p.getByRole('alert').getByText('not the token of this cluster').waitFor();
    expect((await p.context().cookies()).filter((c) => c.name === 'shoal_session')).toEqual([]);
    // The failed login's 401 is the only console message: the document's own status.
    expect(problems.filter((m) => !m.includes('401'))).toEqual([]);
    await p.close();
  });

  it('logs in with the token: an HttpOnly, SameSite=Strict cookie, then back to the page asked for', async () => {
    const { page: p, problems } = await browser.page();
    await p.goto(`${url}login?next=/tasks`);
    await p.fill('#token', tc.token);
    await p.click('button[type=submit]');
    await p.waitForURL(/\/tasks$/);
    const cookie = (await p.context().cookies()).find((c) => c.name === 'shoal_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    await p.locator('#tasks-page').waitFor();
    expect(problems).toEqual([]);
    await p.close();
  });

  it('Cluster page shows this cluster: its id, its node, live counters', async () => {
    const cluster = (await (await api('/api/cluster', { headers: bearer() })).json()) as ClusterView;
    const { page: p, problems } = await browser.page();
    await p.goto(url);
    await p.locator('#cluster-page').getByText(cluster.clusterId).waitFor();
    await p.locator('#nodes').getByText(tc.nodeId(0)).waitFor();
    await expect(p.locator('#nodes-alive .value').textContent()).resolves.toBe('1');
    await p.locator('#chart-cpu canvas').waitFor();
    // Tasks run now reach the open page through the stream, without a reload.
    const before = cluster.counters.tasksFinished;
    await get(Array.from({ length: 5 }, (_, i) => ok.remote(i)));
    await waitFor('the task counters to change on the page', async () => {
      const text = (await p.locator('#tasks-done .value').textContent()) ?? '';
      const [finished, failed] = text.split('/').map((s) => Number(s.trim()));
      return finished! + failed! > before;
    }, 15_000);
    await browser.screenshot(p, 'cluster');
    expect(problems).toEqual([]);
    await p.close();
  });

  it("streams a job's output into its page, and shows its task failure with the remote stack", async () => {
    const release = join(scratch, 'release');
    const submitted = await new Promise<string>((resolvePromise, reject) => {
      execFile(process.execPath, [join(REPO, 'bin/shoal.js'), 'submit', '--no-wait', '--address', tc.address, '--token-file', tc.headInfo.tokenFile,
        '--', 'node', join(REPO, 'test/fixtures/dashboard/release-job.ts'), release], { cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`shoal submit failed: ${stderr}`)) : resolvePromise(stdout));
    });
    const jobId = /Submitted job (\S+):/.exec(submitted)![1]!;

    const { page: p, problems } = await browser.page();
    await p.goto(`${url}jobs`);
    await p.locator('#jobs').getByText(jobId).click();
    await p.waitForURL(new RegExp(`/jobs/${jobId}$`));
    await p.locator('#job-log').getByText('first part: waiting for the release file').waitFor({ timeout: 30_000 });
    await expect(p.locator('#job-status').textContent()).resolves.toBe('RUNNING');
    writeFileSync(release, '');
    // The rest arrives in the same page, no reload.
    await p.locator('#job-log').getByText('job done').waitFor({ timeout: 30_000 });
    await p.locator('#job-status').getByText('SUCCEEDED').waitFor({ timeout: 30_000 });
    await p.locator('.failure summary').getByText('exploded on purpose at 7').waitFor();
    // Its tasks by function: the three squares finished, the explosion failed (this job's counts only).
    const row = (name: string) => p.locator('#job-tasks tr', { hasText: name }).locator('td');
    await waitFor('the job\'s task counts', async () => ((await row('squareForTheJobPage').allTextContents())[3] === '3' ? true : undefined), 30_000);
    expect((await row('squareForTheJobPage').allTextContents()).slice(3, 5)).toEqual(['3', '0']);
    expect((await row('explodeOnPurpose').allTextContents()).slice(3, 5)).toEqual(['0', '1']);
    const stack = (await p.locator('.failure .stack').first().textContent()) ?? '';
    expect(stack).toContain('explodeOnPurpose');
    expect(stack).toMatch(/release-job/);
    await browser.screenshot(p, 'job');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('Tasks & actors page shows counts by function and the failures with their stack', async () => {
    await get(throwsTypeError.remote('for the tasks page')).catch(() => undefined);
    // Views are recomputed at most once a second (VIEW_CACHE_MS): the failure shows in the next one.
    await waitFor('the failure in /api/tasks', async () => {
      const view = (await (await api('/api/tasks', { headers: bearer() })).json()) as TasksView;
      return (view.byName.find((t) => t.name === 'throwsTypeError')?.failed ?? 0) > 0;
    });
    const { page: p, problems } = await browser.page();
    await p.goto(`${url}tasks`);
    await p.locator('#tasks-by-name').getByText('throwsTypeError').waitFor();
    await p.locator('.failure summary').getByText('bad input: for the tasks page').waitFor();
    expect(await p.locator('.failure .stack').first().textContent()).toMatch(/fixtures\/core\/errors\.ts/);
    await browser.screenshot(p, 'tasks');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('refuses an action with the cookie but without the CSRF header, and takes it with the header', async () => {
    const { page: p } = await browser.page();
    await p.goto(`${url}jobs`);
    const out = await p.evaluate(async () => {
      const bare = await fetch('/api/jobs/no-such-job/stop', { method: 'POST' });
      const { csrf } = (await (await fetch('/api/session')).json()) as { csrf: string };
      const withHeader = await fetch('/api/jobs/no-such-job/stop', { method: 'POST', headers: { 'x-shoal-csrf': csrf } });
      return { bare: bare.status, withHeader: withHeader.status, message: ((await withHeader.json()) as { error: { message: string } }).error.message };
    });
    expect(out.bare).toBe(403);
    expect(out.withHeader).toBe(404);
    expect(out.message).toBe('job no-such-job not found');
    await p.close();
  });
});
