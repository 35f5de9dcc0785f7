/**
 * The live dashboard's cached views (live-source.ts) over a head's real parts in this process
 * (head-parts.ts; the job is a real process) with the clock stopped, so a view cached once would
 * never expire by age: what the test sees is what invalidation does, not what timing allowed.
 *
 * The case is commit e77c76d: the job page refetches the tasks view when its job changes state; a
 * tasks view cached before the job's task failed (up to VIEW_CACHE_MS earlier) left the failure off,
 * and the page had no later event to refetch on. A job's state change must drop the cached view.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeadEvent } from '../../../src/core/head/head-extension.js';
import { LiveSource } from '../../../src/dashboard/live-source.js';
import { task } from '../core/head/fake-sessions.js';
import { headParts } from './head-parts.js';

describe('LiveSource tasks view', () => {
  let dir: string;
  let live: LiveSource | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-live-source-'));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await live?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a job's state change drops the cached view: the refetch after the job ends shows its task's failure", async () => {
    const { fc, events, jobs, host } = headParts(dir);
    const driver = fc.driver();
    const worker = fc.worker('n-1', { CPU: 2 });
    live = new LiveSource(host);
    // The clock stands still from here: a cached view is never too old to be served.
    vi.useFakeTimers({ toFake: ['Date'] });

    const explode = task('explode');
    fc.state.submit([explode], driver.id);
    await fc.settle();
    const script = join(dir, 'job.mjs');
    writeFileSync(script, 'process.exit(3);\n');
    const ended = new Promise<HeadEvent>((resolve) => {
      events.subscribe((e) => {
        if (e.event === 'job' && (e.fields.status === 'FAILED' || e.fields.status === 'SUCCEEDED')) resolve(e);
      });
    });
    jobs.submit({ scriptPath: script, args: [], env: {}, entrypoint: `node ${script}` });

    // The job page's view while the job runs: cached.
    expect(live.tasks().failures).toEqual([]);
    // The task fails; without a job event in between the cached view is still served (the cache is real).
    fc.finish(worker, explode, { error: 'boom' });
    expect(live.tasks().failures).toEqual([]);
    // The job ends (its process exits 3): the page refetches and must see the failure.
    expect((await ended).fields.status).toBe('FAILED');
    const failures = live.tasks().failures;
    expect(failures.map((f) => [f.name, f.error.message])).toEqual([['explode', 'boom']]);
  }, 30_000);
});
