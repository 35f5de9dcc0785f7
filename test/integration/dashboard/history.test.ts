/**
 * The dashboard after the cluster is gone: a cluster started by `shoal start` runs a job and a
 * failing task, `shoal stop` stops it, and `shoal dashboard --history SHOAL_HOME` serves the same
 * pages read-only from its head store, in Chromium: the cluster, the job with its kept output,
 * the failure with its stack, and no state-changing action.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser, NO_CHROMIUM, type Browser } from '../../harness/browser.js';
import { BIN, CliHome, FIXTURES, REPO_ROOT, waitFor } from '../cli/cli-harness.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const canRun = chromiumAvailable();

describe.skipIf(!canRun)(`dashboard history after shoal stop${canRun ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  const home = new CliHome();
  let browser: Browser;
  let server: ChildProcess | undefined;
  let url = '';
  let token = '';
  let jobId = '';
  let clusterId = '';

  beforeAll(async () => {
    const started = await home.run(['start', '--head', '--port', '0', '--num-cpus', '1']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/Dashboard: {3}http:\/\/127\.0\.0\.1:\d+\//);
    const record = home.record()!;
    token = readFileSync(record.tokenFile, 'utf8').trim();
    const status = await home.run(['status', '--json']);
    clusterId = (JSON.parse(status.stdout) as { head: { clusterId: string } }).head.clusterId;
    const job = await home.run(['submit', '--', 'node', join(FIXTURES, 'square-job.ts'), '5']);
    expect(job.code, job.stderr).toBe(0);
    jobId = /Submitted job (\S+):/.exec(job.stdout)![1]!;
    const stopped = await home.run(['stop']);
    expect(stopped.code, stopped.stderr).toBe(0);

    server = spawn(process.execPath, [BIN, 'dashboard', '--history', home.dir, '--no-open'], { cwd: REPO_ROOT, env: { ...process.env, SHOAL_HOME: home.dir } });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    url = await waitFor(`the history dashboard's address (output: ${out})`, () => /Dashboard \(history, read-only\): (\S+)/.exec(out)?.[1], 20_000);
    expect(out).toContain(record.tokenFile);
    browser = await launchBrowser();
  }, 180_000); // five CLI processes, a job and a browser: past the 60 s default once under CI load
  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    home.cleanup();
  });

  it('serves the stopped cluster read-only: 401 without login, its cluster, its job and output', async () => {
    expect((await fetch(new URL('/api/jobs', url))).status).toBe(401);
    const { page: p, problems } = await browser.page();
    await p.goto(url);
    await p.fill('#token', token);
    await p.click('button[type=submit]');
    await p.locator('#cluster-page').getByText(clusterId).waitFor();
    await p.locator('#read-only').waitFor();
    await browser.screenshot(p, 'history-cluster');
    await p.goto(`${url}jobs/${jobId}`);
    await p.locator('#job-status').getByText('SUCCEEDED').waitFor();
    await p.locator('#job-log').getByText('squares: 0,1,4,9,16').waitFor();
    expect(await p.locator('#stop-job').count()).toBe(0);
    await browser.screenshot(p, 'history-job');
    const refused = await p.evaluate(async (id) => {
      const { csrf } = (await (await fetch('/api/session')).json()) as { csrf: string };
      const r = await fetch(`/api/jobs/${id}/stop`, { method: 'POST', headers: { 'x-shoal-csrf': csrf } });
      return { status: r.status, body: (await r.json()) as { error: { code: string } } };
    }, jobId);
    expect(refused).toEqual({ status: 409, body: { error: { code: 'DASHBOARD_READ_ONLY', message: expect.stringContaining('read-only') } } });
    // The 409 above is the only console error: the page asked for it.
    expect(problems.filter((m) => !m.includes('409'))).toEqual([]);
    await p.close();
  });

  it('names what is wrong with a --history that holds no cluster', async () => {
    const r = await home.run(['dashboard', '--history', join(home.dir, 'no-such-folder')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot serve the history in .*no-such-folder: no such file or folder/);
  });
});
