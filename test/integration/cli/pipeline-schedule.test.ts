/**
 * Schedules and triggers end to end: a real head with the pipelines extension (as `shoal start
 * --head` loads it), a schedule and an event trigger made with the real `shoal pipeline
 * schedule|trigger|event` commands, and the head starting real `shoal pipeline run` processes that
 * record their runs in the store under SHOAL_HOME, tagged with the trigger.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from 'shoal/store';
import { PIPELINES_EXTENSION, PipelineRecords, TriggerRecords } from 'shoal/platform';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { CliHome, REPO_ROOT } from './cli-harness.js';

const MODULE = join(REPO_ROOT, 'test', 'fixtures', 'platform', 'triggered.ts');
const home = new CliHome();
const saved = { home: process.env.SHOAL_HOME, url: process.env.SHOAL_METADATA_URL, artifacts: process.env.SHOAL_ARTIFACT_DIR };
let cluster: TestCluster;
let store: Store;

beforeAll(async () => {
  // The head (a child of this process) finds the store as the CLI does: under this SHOAL_HOME.
  process.env.SHOAL_HOME = home.dir;
  delete process.env.SHOAL_METADATA_URL;
  delete process.env.SHOAL_ARTIFACT_DIR;
  cluster = await TestCluster.start({ numCpus: 2, numWorkers: 1, connect: false, headOptions: { extensions: [PIPELINES_EXTENSION] } });
  store = await openStore();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await store?.close();
  home.cleanup();
  for (const [k, v] of [['SHOAL_HOME', saved.home], ['SHOAL_METADATA_URL', saved.url], ['SHOAL_ARTIFACT_DIR', saved.artifacts]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const shoal = (args: string[]) => home.run(['pipeline', ...args], { timeoutMs: 90_000 });

/** The finished run a trigger started (its last run, once recorded FINISHED). */
async function runOf(triggerId: string): Promise<{ id: string; params: Record<string, unknown> }> {
  return waitFor(`a finished run started by ${triggerId}`, async () => {
    const t = await new TriggerRecords(store).get(triggerId);
    if (t.lastError) throw new Error(t.lastError);
    if (!t.lastRunId) return undefined;
    const run = await new PipelineRecords(store).getRun(t.lastRunId);
    return run.status === 'FINISHED' ? run : undefined;
  }, 150_000, 250);
}

describe('the head fires pipeline schedules and triggers', () => {
  it('a cron schedule starts runs of the pipeline with its params, tagged with the schedule; --list shows it; --remove stops it', async () => {
    const made = await shoal(['schedule', MODULE, '--cron', '* * * * * *', '--param', 'tag=cron', '--json']);
    expect(made.stderr).toBe('');
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    expect(id).toMatch(/^sched-/);
    const run = await runOf(id);
    expect(run.params).toEqual({ tag: 'cron' });
    expect((await store.getRun(run.id)).tags['shoal.pipeline.trigger']).toBe(id);
    const list = await shoal(['schedule', '--list']);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+triggered\\s+cron "\\* \\* \\* \\* \\* \\*"\\s+skip`));
    expect((await shoal(['schedule', '--remove', id])).stdout).toBe(`removed ${id}\n`);
    expect((await shoal(['schedule', '--list'])).stdout).toBe('No pipeline schedules.\n');
  }, 240_000);

  it('an event trigger starts a run when `shoal pipeline event` posts its event', async () => {
    const made = await shoal(['trigger', MODULE, '--event', 'drift', '--param', 'tag=drift', '--json']);
    expect(made.stderr).toBe('');
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    const posted = await shoal(['event', 'drift', '--payload', '{"psi":0.3}']);
    expect(posted.stdout).toMatch(/^posted event drift #\d+\n$/);
    const run = await runOf(id);
    expect(run.params).toEqual({ tag: 'drift' });
    expect((await new TriggerRecords(store).get(id)).lastReason).toMatch(/^event drift #\d+$/);
  }, 240_000);

  it('bad input is refused naming it', async () => {
    const r = await shoal(['schedule', MODULE, '--cron', 'nightly']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cron "nightly" is not a valid cron expression/);
    const none = await shoal(['schedule', MODULE]);
    expect(none.stderr).toMatch(/needs --cron/);
    const overlap = await shoal(['trigger', MODULE, '--event', 'x', '--overlap', 'never']);
    expect(overlap.stderr).toMatch(/overlap must be one of skip, queue, allow; got "never"/);
  }, 120_000);
});
