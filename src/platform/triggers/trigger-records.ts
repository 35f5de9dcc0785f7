/**
 * Schedules and triggers as the platform store keeps them (table `pipeline_triggers`, store
 * migration 3), and the events other parts of shoal post for event triggers (`pipeline_events`).
 * The CLI writes these rows (`shoal pipeline schedule|trigger`), the head's trigger state reads them
 * on every tick and writes back what it saw and did — so a trigger, what it has seen (a folder's
 * files, a table's version, the last event) and its queued firings survive a head restart.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/index.js';
import { PipelineTriggerNotFoundError } from '../errors.js';
import type { OverlapPolicy } from './overlap-policy.js';
import type { TableVersion } from './data-probes.js';

/** What fires a trigger. */
export type TriggerSpec =
  /** A cron schedule. */
  | { kind: 'cron'; cron: string; timezone: string }
  /** New files (names not seen before) in a folder. */
  | { kind: 'folder'; path: string }
  /** Rows added to a PostgreSQL table (its row count, or the maximum of `column`, grew). */
  | { kind: 'table'; url: string; table: string; column?: string | undefined }
  /** An event posted with `postPipelineEvent(name, ...)` (e.g. `drift` from monitoring). */
  | { kind: 'event'; event: string };

export type TriggerKind = TriggerSpec['kind'];

/** What a trigger has seen, to tell what is new. */
export type TriggerSeen =
  | { kind: 'cron' }
  | { kind: 'folder'; files: string[] }
  | { kind: 'table'; version: TableVersion }
  | { kind: 'event'; seq: number };

export interface TriggerRecord {
  id: string;
  /** The pipeline's name (what overlap is judged by). */
  pipeline: string;
  /** The module it is loaded from (absolute path). */
  module: string;
  spec: TriggerSpec;
  /** Parameter values each run gets, as `--param` texts. */
  params: Record<string, string>;
  overlap: OverlapPolicy;
  createdAt: number;
  seen: TriggerSeen;
  lastFiredAt: number | null;
  /** Why it last fired (`cron 0 3 * * * due 2026-…`, `2 new files: a.csv, b.csv`, `event drift #12`). */
  lastReason: string | null;
  lastRunId: string | null;
  lastError: string | null;
  /** Firings so far (started, queued or skipped). */
  fires: number;
  /** Firings dropped by the `skip` policy. */
  skipped: number;
  /** Firings waiting under the `queue` policy. */
  queued: number;
}

interface TriggerRow {
  id: string; kind: string; pipeline: string; module: string; spec_json: string; params_json: string; overlap: OverlapPolicy; created_at: number;
  state_json: string | null; last_fired_at: number | null; last_reason: string | null; last_run_id: string | null; last_error: string | null;
  fires: number; skipped: number; queued: number;
}

const toRecord = (r: TriggerRow): TriggerRecord => ({
  id: r.id, pipeline: r.pipeline, module: r.module, spec: JSON.parse(r.spec_json) as TriggerSpec, params: JSON.parse(r.params_json) as Record<string, string>,
  overlap: r.overlap, createdAt: Number(r.created_at), seen: (r.state_json ? JSON.parse(r.state_json) : { kind: r.kind }) as TriggerSeen,
  lastFiredAt: r.last_fired_at === null ? null : Number(r.last_fired_at), lastReason: r.last_reason, lastRunId: r.last_run_id, lastError: r.last_error,
  fires: Number(r.fires), skipped: Number(r.skipped), queued: Number(r.queued),
});

/** One posted event. */
export interface PipelineEvent {
  seq: number;
  name: string;
  payload: unknown;
  source: string | null;
  postedAt: number;
}

/** Reads and writes the trigger tables of one store. */
export class TriggerRecords {
  constructor(readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  async add(t: Omit<TriggerRecord, 'id' | 'lastFiredAt' | 'lastReason' | 'lastRunId' | 'lastError' | 'fires' | 'skipped' | 'queued'>): Promise<TriggerRecord> {
    const id = `${t.spec.kind === 'cron' ? 'sched' : 'trig'}-${randomBytes(5).toString('hex')}`;
    await this.db.run(
      `INSERT INTO pipeline_triggers (id, kind, pipeline, module, spec_json, params_json, overlap, created_at, state_json, last_fired_at, last_reason,
         last_run_id, last_error, fires, skipped, queued) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, 0, 0, 0)`,
      [id, t.spec.kind, t.pipeline, t.module, JSON.stringify(t.spec), JSON.stringify(t.params), t.overlap, t.createdAt, JSON.stringify(t.seen)],
    );
    return this.get(id);
  }

  async get(id: string): Promise<TriggerRecord> {
    const row = await this.db.get<TriggerRow>(`SELECT * FROM pipeline_triggers WHERE id = ?`, [id]);
    if (!row) throw new PipelineTriggerNotFoundError(id);
    return toRecord(row);
  }

  async list(kind?: 'schedules' | 'triggers'): Promise<TriggerRecord[]> {
    const where = kind === 'schedules' ? ` WHERE kind = 'cron'` : kind === 'triggers' ? ` WHERE kind <> 'cron'` : '';
    return (await this.db.all<TriggerRow>(`SELECT * FROM pipeline_triggers${where} ORDER BY created_at, id`)).map(toRecord);
  }

  async remove(id: string): Promise<void> {
    if ((await this.db.run(`DELETE FROM pipeline_triggers WHERE id = ?`, [id])) === 0) throw new PipelineTriggerNotFoundError(id);
  }

  /** Records a firing: what was seen, when and why, and how the overlap policy took it. */
  async fired(id: string, seen: TriggerSeen, at: number, reason: string, outcome: 'start' | 'queue' | 'skip'): Promise<void> {
    await this.db.run(
      `UPDATE pipeline_triggers SET state_json = ?, last_fired_at = ?, last_reason = ?, fires = fires + 1,
         skipped = skipped + ?, queued = queued + ? WHERE id = ?`,
      [JSON.stringify(seen), at, reason, outcome === 'skip' ? 1 : 0, outcome === 'queue' ? 1 : 0, id],
    );
  }

  /** Updates what a trigger has seen without firing (files removed, rows deleted). */
  async saw(id: string, seen: TriggerSeen): Promise<void> {
    await this.db.run(`UPDATE pipeline_triggers SET state_json = ? WHERE id = ?`, [JSON.stringify(seen), id]);
  }

  /** Takes one queued firing; false when another took it first. */
  async dequeue(id: string): Promise<boolean> {
    return (await this.db.run(`UPDATE pipeline_triggers SET queued = queued - 1 WHERE id = ? AND queued > 0`, [id])) === 1;
  }

  async outcome(id: string, runId: string | null, error: string | null): Promise<void> {
    await this.db.run(`UPDATE pipeline_triggers SET last_run_id = COALESCE(?, last_run_id), last_error = ? WHERE id = ?`, [runId, error, id]);
  }

  /** Whether the store records a RUNNING run of `pipeline` (runs whose process died are marked FAILED first). */
  async pipelineRunning(pipeline: string): Promise<boolean> {
    await this.store.markOrphanRuns();
    const row = await this.db.get<{ id: string }>(
      `SELECT p.id FROM pipeline_runs p JOIN runs r ON r.id = p.id WHERE p.pipeline = ? AND p.status = 'RUNNING' AND r.status = 'RUNNING' LIMIT 1`,
      [pipeline],
    );
    return row !== undefined;
  }

  async postEvent(name: string, payload: unknown, source: string | null, at: number): Promise<number> {
    const row = await this.db.get<{ seq: number }>(
      `INSERT INTO pipeline_events (name, payload_json, source, posted_at) VALUES (?, ?, ?, ?) RETURNING seq`, [name, JSON.stringify(payload ?? null), source, at],
    );
    return Number(row!.seq);
  }

  /** The newest event's seq (of `name`, else of any), 0 when there is none. */
  async lastEventSeq(name?: string): Promise<number> {
    const row = name === undefined
      ? await this.db.get<{ seq: number | null }>(`SELECT max(seq) AS seq FROM pipeline_events`)
      : await this.db.get<{ seq: number | null }>(`SELECT max(seq) AS seq FROM pipeline_events WHERE name = ?`, [name]);
    return Number(row?.seq ?? 0);
  }

  /** Events of `name` after `seq`, oldest first. */
  async eventsAfter(name: string, seq: number, limit = 100): Promise<PipelineEvent[]> {
    const rows = await this.db.all<{ seq: number; name: string; payload_json: string; source: string | null; posted_at: number }>(
      `SELECT * FROM pipeline_events WHERE name = ? AND seq > ? ORDER BY seq LIMIT ?`, [name, seq, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), name: r.name, payload: JSON.parse(r.payload_json) as unknown, source: r.source, postedAt: Number(r.posted_at) }));
  }
}
