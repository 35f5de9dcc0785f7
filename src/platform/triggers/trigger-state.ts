/**
 * The triggers the head holds (the pipelines head extension ticks it every second). State lives in
 * the store (trigger-records.ts), not here: each tick reads every trigger, looks at its source
 * (the clock for a schedule, the folder, the table, the events), records what it saw and fires —
 * so a new head over the same store carries on where the last one stopped. What this object keeps
 * in memory is only the runs it launched that have not ended, for the overlap policy.
 *
 * A schedule due while no head ran (downtime) fires **once** on the first tick after the start —
 * a catch-up of at most one run, however many occurrences were missed — and then keeps its normal
 * times: a firing is recorded at the time it happened, and the next occurrence is counted from it.
 * Data and event triggers fire once per tick for everything new since they last looked (ten new
 * files are one run). A trigger whose source cannot be read (folder gone, database down) records
 * the error in `lastError` and tries again on the next tick.
 *
 * The clock is given (`clock.now()`), and ticks are called, not timed, so tests run schedules on a
 * fake clock.
 */
import type { Store } from '../../store/index.js';
import { compileCron } from './cron.js';
import { listFolder, probeTable, tableGrew } from './data-probes.js';
import { decideOverlap, type OverlapDecision } from './overlap-policy.js';
import { TriggerRecords, type TriggerRecord, type TriggerSeen } from './trigger-records.js';

/** What to start: a run of `pipeline` from `module` with `params` (texts), because of trigger `triggerId`. */
export interface LaunchRequest {
  triggerId: string;
  pipeline: string;
  module: string;
  params: Record<string, string>;
  reason: string;
}

/** How a launched run ended: its run id when it got one, and the error when it failed. */
export interface LaunchOutcome {
  runId: string | null;
  error: string | null;
}

/** Starts pipeline runs; `launch` resolves when the run has ended (the head's starts `shoal pipeline run` processes). */
export interface RunLauncher {
  launch(request: LaunchRequest): Promise<LaunchOutcome>;
}

export interface Clock {
  now(): number;
}

export interface TriggerStateOptions {
  store: Store;
  launcher: RunLauncher;
  /** @default the system clock */
  clock?: Clock;
}

/** One trigger's firing in a tick. */
export interface Firing {
  triggerId: string;
  pipeline: string;
  reason: string;
  /** What the overlap policy did with it (`start` for a queued firing started now, too). */
  decision: OverlapDecision;
}

export class TriggerState {
  private readonly records: TriggerRecords;
  private readonly clock: Clock;
  /** Runs launched and not ended, by pipeline. */
  private readonly running = new Map<string, number>();
  private readonly launches = new Set<Promise<void>>();
  private ticking: Promise<Firing[]> | undefined;

  constructor(private readonly options: TriggerStateOptions) {
    this.records = new TriggerRecords(options.store);
    this.clock = options.clock ?? { now: () => Date.now() };
  }

  /** Looks at every trigger once and fires those due. One tick at a time: a tick called during another waits for it and runs after. */
  tick(): Promise<Firing[]> {
    const prev = this.ticking ?? Promise.resolve([]);
    const next = prev.catch(() => []).then(() => this.tickOnce());
    this.ticking = next;
    return next;
  }

  /** Resolves when every run launched so far has ended (and its outcome is recorded). */
  async idle(): Promise<void> {
    while (this.launches.size) await Promise.all([...this.launches]);
  }

  /** Runs launched by this state and not ended, for `pipeline`. */
  inFlight(pipeline: string): number {
    return this.running.get(pipeline) ?? 0;
  }

  private async busy(pipeline: string): Promise<boolean> {
    return this.inFlight(pipeline) > 0 || (await this.records.pipelineRunning(pipeline));
  }

  private async tickOnce(): Promise<Firing[]> {
    const out: Firing[] = [];
    const triggers = await this.records.list();
    for (const t of triggers) {
      let due: { reason: string; seen: TriggerSeen } | undefined;
      try {
        due = await this.look(t);
      } catch (err) {
        await this.records.outcome(t.id, null, (err as Error).message);
        continue;
      }
      if (!due) continue;
      const decision = decideOverlap(t.overlap, await this.busy(t.pipeline));
      await this.records.fired(t.id, due.seen, this.clock.now(), due.reason, decision);
      out.push({ triggerId: t.id, pipeline: t.pipeline, reason: due.reason, decision });
      if (decision === 'start') this.launch(t, due.reason);
    }
    // Queued firings, oldest trigger first, one run of a pipeline at a time.
    for (const t of await this.records.list()) {
      if (t.queued <= 0 || (await this.busy(t.pipeline))) continue;
      if (!(await this.records.dequeue(t.id))) continue;
      const reason = `queued firing (${t.lastReason ?? 'earlier'})`;
      out.push({ triggerId: t.id, pipeline: t.pipeline, reason, decision: 'start' });
      this.launch(t, reason);
    }
    return out;
  }

  /** Whether `t` is due now, with what it sees; updates what it has seen when that changed without firing. */
  private async look(t: TriggerRecord): Promise<{ reason: string; seen: TriggerSeen } | undefined> {
    const now = this.clock.now();
    switch (t.spec.kind) {
      case 'cron': {
        const cron = compileCron(t.spec.cron, t.spec.timezone, t.id);
        const next = cron.nextAfter(t.lastFiredAt ?? t.createdAt);
        if (next === undefined || next > now) return undefined;
        return { reason: `cron ${t.spec.cron} due ${new Date(next).toISOString()}`, seen: { kind: 'cron' } };
      }
      case 'folder': {
        const files = await listFolder(t.spec.path, t.id);
        const known = new Set(t.seen.kind === 'folder' ? t.seen.files : []);
        const added = files.filter((f) => !known.has(f));
        if (!added.length) {
          if (files.length !== known.size) await this.records.saw(t.id, { kind: 'folder', files });
          return undefined;
        }
        const names = added.slice(0, 5).join(', ') + (added.length > 5 ? `, … (${added.length - 5} more)` : '');
        return { reason: `${added.length} new file${added.length > 1 ? 's' : ''} in ${t.spec.path}: ${names}`, seen: { kind: 'folder', files } };
      }
      case 'table': {
        const version = await probeTable(t.spec.url, t.spec.table, t.spec.column, t.id);
        const before = t.seen.kind === 'table' ? t.seen.version : { rows: 0, max: null };
        if (!tableGrew(before, version)) {
          if (version.rows !== before.rows || version.max !== before.max) await this.records.saw(t.id, { kind: 'table', version });
          return undefined;
        }
        const what = version.rows !== before.rows ? `${before.rows} → ${version.rows} rows` : `max(${t.spec.column}) ${String(before.max)} → ${String(version.max)}`;
        return { reason: `rows added to ${t.spec.table}: ${what}`, seen: { kind: 'table', version } };
      }
      case 'event': {
        const after = t.seen.kind === 'event' ? t.seen.seq : 0;
        const events = await this.records.eventsAfter(t.spec.event, after);
        if (!events.length) return undefined;
        const last = events[events.length - 1]!;
        return { reason: `event ${t.spec.event} #${last.seq}${events.length > 1 ? ` (and ${events.length - 1} before it)` : ''}`, seen: { kind: 'event', seq: last.seq } };
      }
    }
  }

  private launch(t: TriggerRecord, reason: string): void {
    this.running.set(t.pipeline, this.inFlight(t.pipeline) + 1);
    const done = (async () => {
      let outcome: LaunchOutcome;
      try {
        outcome = await this.options.launcher.launch({ triggerId: t.id, pipeline: t.pipeline, module: t.module, params: t.params, reason });
      } catch (err) {
        outcome = { runId: null, error: (err as Error).message };
      }
      this.running.set(t.pipeline, this.inFlight(t.pipeline) - 1);
      await this.records.outcome(t.id, outcome.runId, outcome.error).catch(() => undefined);
    })();
    this.launches.add(done);
    void done.finally(() => this.launches.delete(done));
  }
}
