/**
 * The dashboard across a head restart (issue 20: "after a head restart nothing before it is
 * missing"): a cluster started by `shoal start --head --dir D` runs a job, `shoal stop` stops it,
 * and `shoal start --head --dir D` starts a head again over the same head store. Its live dashboard
 * still has the earlier head's events (the job's), its metric samples, the job and its output. Over
 * the JSON API with the cluster token (the pages read the same API; the browser tests cover them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliHome, FIXTURES, waitFor } from '../cli/cli-harness.js';

interface EventView { at: number; event: string; fields: Record<string, unknown> }
interface MetricPoint { at: number }

describe('dashboard after a head restart', () => {
  const home = new CliHome();
  afterAll(async () => {
    await home.run(['stop']);
    home.cleanup();
  });

  async function start(dir: string): Promise<{ url: string; token: string }> {
    const started = await home.run(['start', '--head', '--port', '0', '--num-cpus', '1', '--dir', dir], { timeoutMs: 90_000 });
    expect(started.code, started.stderr).toBe(0);
    const url = /Dashboard: {3}(http:\/\/127\.0\.0\.1:\d+\/)/.exec(started.stdout)?.[1];
    expect(url, started.stdout).toBeDefined();
    return { url: url!, token: readFileSync(home.record()!.tokenFile, 'utf8').trim() };
  }

  it("keeps the earlier head's events, metric samples, jobs and job output", async () => {
    const dir = join(home.dir, 'cluster');
    const first = await start(dir);
    const get = async <T>(base: { url: string; token: string }, path: string): Promise<T> => {
      const res = await fetch(new URL(path, base.url), { headers: { authorization: `Bearer ${base.token}` } });
      expect(res.status, path).toBe(200);
      return (await res.json()) as T;
    };
    const job = await home.run(['submit', '--', 'node', join(FIXTURES, 'square-job.ts'), '5'], { timeoutMs: 90_000 });
    expect(job.code, job.stderr).toBe(0);
    const jobId = /Submitted job (\S+):/.exec(job.stdout)![1]!;
    const before = await waitFor('the job end event and a metric sample on the first head', async () => {
      const events = await get<EventView[]>(first, '/api/events');
      const points = await get<MetricPoint[]>(first, '/api/metrics/history');
      const ended = events.some((e) => e.event === 'job' && e.fields.jobId === jobId && e.fields.status === 'SUCCEEDED');
      return ended && points.length > 0 ? { events, points } : undefined;
    }, 60_000);
    const stopped = await home.run(['stop']);
    expect(stopped.code, stopped.stderr).toBe(0);
    const restartedAt = Date.now();

    const second = await start(dir);
    expect(second.token).toBe(first.token);
    const events = await get<EventView[]>(second, '/api/events');
    const key = (e: EventView): string => `${e.at} ${e.event} ${JSON.stringify(e.fields)}`;
    const after = new Set(events.map(key));
    expect(before.events.map(key).filter((k) => !after.has(k))).toEqual([]);
    const points = await get<MetricPoint[]>(second, '/api/metrics/history');
    const earlier = points.filter((p) => p.at < restartedAt).map((p) => p.at);
    expect(earlier.length).toBeGreaterThan(0);
    // The first head keeps a sample every 10 s (its first at once): the one it kept is there.
    expect(earlier).toContain(before.points[0]!.at);
    const jobs = await get<Array<{ id: string; status: string }>>(second, '/api/jobs');
    expect(jobs.find((j) => j.id === jobId)?.status).toBe('SUCCEEDED');
    const log = await get<{ data: string }>(second, `/api/jobs/${jobId}/logs?offset=0`);
    expect(log.data).toContain('squares: 0,1,4,9,16');
  }, 240_000);
});
