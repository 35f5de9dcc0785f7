/**
 * Making a schedule or trigger (`shoal pipeline schedule|trigger`, or {@link addTrigger}): the
 * options are checked once here — exactly one source, a cron expression croner accepts, a folder
 * that exists, a table that can be read, parameters the pipeline has — and the trigger's first
 * "seen" state is taken now, so a data trigger fires for what arrives after it was made, not for
 * what was already there, and an event trigger for events posted after it.
 */
import { resolve } from 'node:path';
import { optionRules } from '../../core/index.js';
import type { Store } from '../../store/index.js';
import { PipelineTriggerError } from '../errors.js';
import { loadPipeline } from '../pipelines/load-module.js';
import { compileParams } from '../pipelines/params.js';
import { STEP_NAME } from '../pipelines/step.js';
import { compileCron } from './cron.js';
import { checkColumn, listFolder, probeTable, quoteTable } from './data-probes.js';
import { OVERLAP_POLICIES, type OverlapPolicy } from './overlap-policy.js';
import { TriggerRecords, type TriggerRecord, type TriggerSeen, type TriggerSpec } from './trigger-records.js';

/** Options of {@link addTrigger}: the pipeline, exactly one of `cron`, `folder`, `table`, `event`, and what each run gets. */
export interface AddTriggerOptions {
  /** The pipeline module (path). */
  module: string;
  /** Which pipeline, when the module exports several. */
  pipeline?: string | undefined;
  /** A cron expression (5 fields, or 6 with seconds first). */
  cron?: string | undefined;
  /** The cron expression's time zone. @default 'UTC' */
  timezone?: string | undefined;
  /** Fire when new files appear in this folder. */
  folder?: string | undefined;
  /** Fire when rows are added to this PostgreSQL table. */
  table?: { url: string; table: string; column?: string | undefined } | undefined;
  /** Fire when an event of this name is posted (`postPipelineEvent`). */
  event?: string | undefined;
  /** Parameter values of each run (texts, as `--param`), checked against the pipeline now. */
  params?: Readonly<Record<string, string>> | undefined;
  /** What a firing does while a run of the pipeline is going (overlap-policy.ts). @default 'skip' */
  overlap?: OverlapPolicy | undefined;
  /** The time it is made at (epoch ms; a cron schedule's first occurrence is after it). @default Date.now() */
  now?: number | undefined;
}

const KNOWN = ['module', 'pipeline', 'cron', 'timezone', 'folder', 'table', 'event', 'params', 'overlap', 'now'];

/** Checks `options` and records the trigger in `store`; throws PipelineTriggerError / InvalidOptionError / PipelineModuleError naming what is wrong. */
export async function addTrigger(store: Store, options: AddTriggerOptions): Promise<TriggerRecord> {
  const r = optionRules('addTrigger()');
  const o = r.object(options);
  r.knownKeys(o, KNOWN);
  const sources = (['cron', 'folder', 'table', 'event'] as const).filter((k) => o[k] !== undefined);
  if (sources.length !== 1) {
    throw new PipelineTriggerError('(new)', 'spec', 'source', `needs exactly one of cron, folder, table, event; got ${sources.length ? sources.join(', ') : 'none'}`);
  }
  const overlap = o.overlap ?? 'skip';
  if (!OVERLAP_POLICIES.includes(overlap)) throw new PipelineTriggerError('(new)', 'overlap', 'overlap', `must be one of ${OVERLAP_POLICIES.join(', ')}; got ${JSON.stringify(overlap)}`);
  const now = r.int('now', o.now, Date.now(), { min: 0 });
  const { pipeline, module } = await loadPipeline(o.module, { name: o.pipeline });
  const params = { ...(o.params ?? {}) };
  compileParams(pipeline.name, pipeline.params as Record<string, never>, params, true);

  const records = new TriggerRecords(store);
  let spec: TriggerSpec;
  let seen: TriggerSeen;
  if (o.cron !== undefined) {
    const c = compileCron(o.cron, o.timezone ?? 'UTC');
    if (c.nextAfter(now) === undefined) throw new PipelineTriggerError('(new)', 'cron', 'cron', `${JSON.stringify(o.cron)} never fires after ${new Date(now).toISOString()}`);
    spec = { kind: 'cron', cron: c.expression, timezone: c.timezone };
    seen = { kind: 'cron' };
  } else if (o.folder !== undefined) {
    if (typeof o.folder !== 'string' || o.folder === '') throw new PipelineTriggerError('(new)', 'spec', 'folder', `must be a folder path; got ${JSON.stringify(o.folder)}`);
    const path = resolve(o.folder);
    seen = { kind: 'folder', files: await listFolder(path) };
    spec = { kind: 'folder', path };
  } else if (o.table !== undefined) {
    const t = o.table;
    if (typeof t !== 'object' || t === null || typeof t.url !== 'string' || !/^postgres(ql)?:\/\//.test(t.url)) {
      throw new PipelineTriggerError('(new)', 'spec', 'table.url', `must be a postgres:// URL; got ${JSON.stringify(t?.url)}`);
    }
    quoteTable(t.table);
    checkColumn(t.column);
    seen = { kind: 'table', version: await probeTable(t.url, t.table, t.column) };
    spec = { kind: 'table', url: t.url, table: t.table, ...(t.column === undefined ? {} : { column: t.column }) };
  } else {
    if (typeof o.event !== 'string' || !STEP_NAME.test(o.event)) {
      throw new PipelineTriggerError('(new)', 'spec', 'event', `must be an event name (letters, digits, _, ., -); got ${JSON.stringify(o.event)}`);
    }
    seen = { kind: 'event', seq: await records.lastEventSeq(o.event) };
    spec = { kind: 'event', event: o.event };
  }
  return records.add({ pipeline: pipeline.name, module, spec, params, overlap, createdAt: now, seen });
}

/** Posts event `name` (e.g. `drift`, from monitoring) to the store: event triggers on `name` fire on their next tick. Resolves with its seq. */
export async function postPipelineEvent(store: Store, name: string, payload: unknown = null, options: { source?: string; now?: number } = {}): Promise<number> {
  if (typeof name !== 'string' || !STEP_NAME.test(name)) {
    throw new PipelineTriggerError('(event)', 'spec', 'name', `must be an event name (letters, digits, _, ., -); got ${JSON.stringify(name)}`);
  }
  return new TriggerRecords(store).postEvent(name, payload, options.source ?? null, options.now ?? Date.now());
}
