/**
 * Pipeline schedules and triggers (src/platform/triggers) over a real store (SQLite in a temporary
 * folder), a real folder and a real PostgreSQL table, on a fake clock: a cron schedule firing at its
 * time and not before, across a "head restart" (a new TriggerState over the reopened store) with the
 * documented catch-up of at most one missed run; the overlap policies; data and event triggers; and
 * the bad inputs. The launcher here is the test's hand on the runs: it records each launch and ends
 * it when the test says (the head's launcher starts `shoal pipeline run` processes — the CLI tests
 * cover that end).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from 'shoal/store';
import {
  addTrigger, postPipelineEvent, PipelineTriggerError, PipelineTriggerNotFoundError, TriggerRecords, TriggerState,
  type LaunchOutcome, type LaunchRequest, type RunLauncher,
} from 'shoal/platform';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';

const MODULE = resolve('test/fixtures/platform/triggered.ts');
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (iso: string): number => Date.parse(iso);

/** Launches that stay running until `end(i)` (or `endAll()`). */
class HeldLauncher implements RunLauncher {
  readonly launched: LaunchRequest[] = [];
  private readonly ends: Array<(o: LaunchOutcome) => void> = [];
  launch(req: LaunchRequest): Promise<LaunchOutcome> {
    this.launched.push(req);
    return new Promise((r) => this.ends.push(r));
  }
  end(i: number, outcome: LaunchOutcome = { runId: `run-${i}`, error: null }): void {
    this.ends[i]!(outcome);
  }
  endAll(): void {
    this.ends.forEach((e, i) => e({ runId: `run-${i}`, error: null }));
  }
}

class FakeClock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

let dir: string;
let store: Store;
const storeAt = (): Promise<Store> => openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-triggers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  store = await storeAt();
  await store.db.run('DELETE FROM pipeline_triggers');
});
afterEach(async () => {
  await store.close();
});

describe('cron schedules on a fake clock', () => {
  it('fire at their time, not before, once per occurrence; runs get the schedule\'s params', async () => {
    const clock = new FakeClock(T0);
    const launcher = new HeldLauncher();
    const t = await addTrigger(store, { module: MODULE, cron: '0 3 * * *', params: { tag: 'nightly' }, now: T0 });
    expect(t).toMatchObject({ pipeline: 'triggered', overlap: 'skip', spec: { kind: 'cron', cron: '0 3 * * *', timezone: 'UTC' } });
    const state = new TriggerState({ store, launcher, clock });
    clock.t = at('2026-01-01T02:59:59Z');
    expect(await state.tick()).toEqual([]);
    clock.t = at('2026-01-01T03:00:00Z');
    const fired = await state.tick();
    expect(fired).toEqual([{ triggerId: t.id, pipeline: 'triggered', reason: 'cron 0 3 * * * due 2026-01-01T03:00:00.000Z', decision: 'start' }]);
    expect(launcher.launched).toEqual([{ triggerId: t.id, pipeline: 'triggered', module: MODULE, params: { tag: 'nightly' }, reason: fired[0]!.reason }]);
    clock.t = at('2026-01-01T03:00:30Z');
    expect(await state.tick()).toEqual([]);
    launcher.end(0);
    await state.idle();
    expect(await new TriggerRecords(store).get(t.id)).toMatchObject({ fires: 1, lastRunId: 'run-0', lastError: null, lastFiredAt: at('2026-01-01T03:00:00Z') });
    clock.t = at('2026-01-02T03:00:01Z');
    expect((await state.tick()).map((f) => f.reason)).toEqual(['cron 0 3 * * * due 2026-01-02T03:00:00.000Z']);
    launcher.endAll();
    await state.idle();
  });

  it('survive a head restart: a new state over the reopened store catches up once for the runs missed while down', async () => {
    const clock = new FakeClock(T0);
    const first = new HeldLauncher();
    const t = await addTrigger(store, { module: MODULE, cron: '0 3 * * *', now: T0 });
    const before = new TriggerState({ store, launcher: first, clock });
    clock.t = at('2026-01-01T03:00:05Z');
    expect(await before.tick()).toHaveLength(1);
    first.endAll();
    await before.idle();
    await store.close();

    // Down for three days (three 03:00 occurrences missed); a new head over the same store.
    store = await storeAt();
    const second = new HeldLauncher();
    clock.t = at('2026-01-04T10:00:00Z');
    const after = new TriggerState({ store, launcher: second, clock });
    const fired = await after.tick();
    expect(fired).toHaveLength(1);
    expect(fired[0]!.reason).toBe('cron 0 3 * * * due 2026-01-02T03:00:00.000Z');
    clock.t = at('2026-01-04T10:00:01Z');
    expect(await after.tick()).toEqual([]);
    second.endAll();
    await after.idle();
    // Then its normal times again.
    clock.t = at('2026-01-05T03:00:00Z');
    expect(await after.tick()).toHaveLength(1);
    expect(second.launched).toHaveLength(2);
    second.endAll();
    await after.idle();
    expect((await new TriggerRecords(store).get(t.id)).fires).toBe(3);
  });
});

describe('overlap policy (per pipeline)', () => {
  const everySecond = async (overlap: 'skip' | 'queue' | 'allow'): Promise<string> => (await addTrigger(store, { module: MODULE, cron: '* * * * * *', overlap, now: T0 })).id;

  it('skip drops a firing while a run of the pipeline is going', async () => {
    const clock = new FakeClock(T0 + 1000);
    const launcher = new HeldLauncher();
    const id = await everySecond('skip');
    const state = new TriggerState({ store, launcher, clock });
    expect((await state.tick()).map((f) => f.decision)).toEqual(['start']);
    clock.t += 1000;
    expect((await state.tick()).map((f) => f.decision)).toEqual(['skip']);
    expect(launcher.launched).toHaveLength(1);
    launcher.end(0);
    await state.idle();
    clock.t += 1000;
    expect((await state.tick()).map((f) => f.decision)).toEqual(['start']);
    expect(await new TriggerRecords(store).get(id)).toMatchObject({ fires: 3, skipped: 1, queued: 0 });
    launcher.endAll();
    await state.idle();
  });

  it('queue keeps firings (in the store, across a restart) and starts them one at a time when the pipeline is free', async () => {
    const clock = new FakeClock(T0 + 1000);
    const launcher = new HeldLauncher();
    const id = await everySecond('queue');
    const state = new TriggerState({ store, launcher, clock });
    await state.tick();
    clock.t += 1000;
    expect((await state.tick()).map((f) => f.decision)).toEqual(['queue']);
    clock.t += 1000;
    expect((await state.tick()).map((f) => f.decision)).toEqual(['queue']);
    expect((await new TriggerRecords(store).get(id)).queued).toBe(2);
    // The head restarts while the first run is still going in a process it started (still RUNNING? — it is not in
    // the store here, so the new head sees the pipeline free) and the trigger is removed from the clock's reach.
    await store.db.run(`UPDATE pipeline_triggers SET spec_json = ? WHERE id = ?`, [JSON.stringify({ kind: 'cron', cron: '0 0 1 1 *', timezone: 'UTC' }), id]);
    await store.close();
    store = await storeAt();
    const next = new HeldLauncher();
    const restarted = new TriggerState({ store, launcher: next, clock });
    expect((await restarted.tick()).map((f) => f.reason)).toEqual([expect.stringMatching(/^queued firing/)]);
    expect(await restarted.tick()).toEqual([]); // one at a time
    next.end(0);
    await restarted.idle();
    expect((await restarted.tick()).map((f) => f.decision)).toEqual(['start']);
    next.end(1);
    await restarted.idle();
    expect(await restarted.tick()).toEqual([]);
    expect(await new TriggerRecords(store).get(id)).toMatchObject({ queued: 0, fires: 3 });
    expect(next.launched).toHaveLength(2);
    launcher.endAll();
    await state.idle();
  });

  it('allow starts a run beside the running one', async () => {
    const clock = new FakeClock(T0 + 1000);
    const launcher = new HeldLauncher();
    await everySecond('allow');
    const state = new TriggerState({ store, launcher, clock });
    await state.tick();
    clock.t += 1000;
    expect((await state.tick()).map((f) => f.decision)).toEqual(['start']);
    expect(state.inFlight('triggered')).toBe(2);
    launcher.endAll();
    await state.idle();
    expect(state.inFlight('triggered')).toBe(0);
  });

  it('a run of the pipeline RUNNING in the store (a manual run) counts as going', async () => {
    const clock = new FakeClock(T0 + 1000);
    const launcher = new HeldLauncher();
    await everySecond('skip');
    const run = await store.startRun({ experiment: 'pipelines', name: 'triggered' });
    await store.db.run(
      `INSERT INTO pipeline_runs (id, pipeline, module, status, params_json, options_json, dag_json, resumed_from, start_time) VALUES (?, 'triggered', NULL, 'RUNNING', '{}', '{}', '[]', NULL, ?)`,
      [run.id, Date.now()],
    );
    const state = new TriggerState({ store, launcher, clock });
    expect((await state.tick()).map((f) => f.decision)).toEqual(['skip']);
    await run.end('FINISHED');
    await store.db.run(`UPDATE pipeline_runs SET status = 'FINISHED' WHERE id = ?`, [run.id]);
    clock.t += 1000;
    expect((await state.tick()).map((f) => f.decision)).toEqual(['start']);
    launcher.endAll();
    await state.idle();
  });
});

describe('data triggers', () => {
  it('a folder trigger fires for files added after it was made, once per tick, and not for files already there', async () => {
    const folder = join(dir, `incoming-${Date.now()}`);
    await mkdir(folder);
    await writeFile(join(folder, 'old.csv'), 'a\n');
    const launcher = new HeldLauncher();
    const t = await addTrigger(store, { module: MODULE, folder, overlap: 'allow' });
    const state = new TriggerState({ store, launcher });
    expect(await state.tick()).toEqual([]);
    await writeFile(join(folder, 'new-1.csv'), 'b\n');
    await writeFile(join(folder, 'new-2.csv'), 'c\n');
    await writeFile(join(folder, '.partial'), 'x');
    const fired = await state.tick();
    expect(fired.map((f) => f.reason)).toEqual([`2 new files in ${folder}: new-1.csv, new-2.csv`]);
    expect(await state.tick()).toEqual([]);
    await writeFile(join(folder, 'new-1.csv'), 'changed\n'); // same name: not new
    expect(await state.tick()).toEqual([]);
    await rm(folder, { recursive: true });
    expect(await state.tick()).toEqual([]);
    expect((await new TriggerRecords(store).get(t.id)).lastError).toMatch(/cannot be listed/);
    launcher.endAll();
    await state.idle();
  });

  it('a table trigger fires when rows are added to a PostgreSQL table (count, or max of a column)', async () => {
    const pg = await connectTestPostgres();
    if (!pg) return;
    const table = uniqueTable('trig_ratings');
    const url = `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`;
    try {
      await pg.query(`CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, v INT)`);
      await pg.query(`INSERT INTO ${table} (v) VALUES (1), (2)`);
      const launcher = new HeldLauncher();
      const byCount = await addTrigger(store, { module: MODULE, table: { url, table }, overlap: 'allow' });
      const byId = await addTrigger(store, { module: MODULE, table: { url, table, column: 'id' }, overlap: 'allow' });
      expect((await new TriggerRecords(store).get(byId.id)).seen).toEqual({ kind: 'table', version: { rows: 2, max: 2 } });
      const state = new TriggerState({ store, launcher });
      expect(await state.tick()).toEqual([]);
      await pg.query(`INSERT INTO ${table} (v) VALUES (3)`);
      expect((await state.tick()).map((f) => f.reason)).toEqual([`rows added to ${table}: 2 → 3 rows`, `rows added to ${table}: 2 → 3 rows`]);
      expect(await state.tick()).toEqual([]);
      // One row out, one in: the count is unchanged, the max id grew.
      await pg.query(`DELETE FROM ${table} WHERE v = 1`);
      await pg.query(`INSERT INTO ${table} (v) VALUES (4)`);
      expect((await state.tick()).map((f) => [f.triggerId, f.reason])).toEqual([[byId.id, `rows added to ${table}: max(id) 3 → 4`]]);
      launcher.endAll();
      await state.idle();
      expect(byCount.id).not.toBe(byId.id);
    } finally {
      await pg.query(`DROP TABLE IF EXISTS ${table}`);
      await pg.end();
    }
  });

  it('an event trigger fires for events posted after it was made (drift from monitoring), several at once being one run', async () => {
    await postPipelineEvent(store, 'drift', { feature: 'old' });
    const launcher = new HeldLauncher();
    const t = await addTrigger(store, { module: MODULE, event: 'drift' });
    await addTrigger(store, { module: MODULE, event: 'other', overlap: 'allow' });
    const state = new TriggerState({ store, launcher });
    expect(await state.tick()).toEqual([]);
    const a = await postPipelineEvent(store, 'drift', { feature: 'price', psi: 0.31 }, { source: 'monitoring' });
    const b = await postPipelineEvent(store, 'drift', { feature: 'area', psi: 0.4 }, { source: 'monitoring' });
    expect(b).toBe(a + 1);
    expect((await state.tick()).map((f) => f.reason)).toEqual([`event drift #${b} (and 1 before it)`]);
    expect(await state.tick()).toEqual([]);
    expect((await new TriggerRecords(store).eventsAfter('drift', a - 1)).map((e) => e.payload)).toEqual([{ feature: 'price', psi: 0.31 }, { feature: 'area', psi: 0.4 }]);
    expect((await new TriggerRecords(store).get(t.id)).seen).toEqual({ kind: 'event', seq: b });
    launcher.endAll();
    await state.idle();
  });
});

describe('bad input', () => {
  const fails = async (p: Promise<unknown>, option: string, message: RegExp): Promise<void> => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineTriggerError);
    expect((err as PipelineTriggerError).option).toBe(option);
    expect((err as Error).message).toMatch(message);
  };

  it('names what is wrong', async () => {
    await fails(addTrigger(store, { module: MODULE, cron: 'every day' }), 'cron', /"every day" is not a valid cron expression/);
    await fails(addTrigger(store, { module: MODULE, cron: '0 3 * * *', event: 'drift' }), 'source', /exactly one of cron, folder, table, event; got cron, event/);
    await fails(addTrigger(store, { module: MODULE }), 'source', /got none/);
    await fails(addTrigger(store, { module: MODULE, cron: '0 3 * * *', overlap: 'sometimes' as 'skip' }), 'overlap', /must be one of skip, queue, allow/);
    await fails(addTrigger(store, { module: MODULE, folder: join(dir, 'no-such-folder') }), 'folder', /cannot be listed/);
    await fails(addTrigger(store, { module: MODULE, table: { url: 'mysql://x', table: 't' } }), 'table.url', /postgres:\/\/ URL/);
    await fails(addTrigger(store, { module: MODULE, table: { url: 'postgres://u@127.0.0.1:5432/test', table: 't; DROP TABLE x' } }), 'table', /must be a table name/);
    await fails(addTrigger(store, { module: MODULE, event: 'drift alert' }), 'event', /must be an event name/);
    await fails(postPipelineEvent(store, ''), 'name', /must be an event name/);
    await expect(addTrigger(store, { module: MODULE, cron: '0 3 * * *', params: { nope: '1' } })).rejects.toThrow(/params.nope' is not a parameter of the pipeline/);
    await expect(new TriggerRecords(store).remove('sched-none')).rejects.toBeInstanceOf(PipelineTriggerNotFoundError);
  });
});
