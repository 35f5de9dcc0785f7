/**
 * `shoal pipeline run|list|show|resume|report|schedule|trigger|event`: pipelines (shoal/platform)
 * from the command line. `run` and `resume` load the pipeline module (TypeScript through tsx),
 * connect to the cluster as a driver (or start a local one) and record into the platform store;
 * `list`, `show` and `report` read the store only, so they work after the cluster is gone;
 * `schedule`, `trigger` and `event` write the store, where the head's pipelines extension reads them.
 */
import { Command, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import { init, InvalidOptionError, shutdown } from '../../core/index.js';
import {
  addTrigger, buildRunReport, compileParams, reportHtml, reportMarkdown, loadPipeline, PipelineRecords, PipelineRunError, postPipelineEvent, resumePipeline, runPipeline, TriggerRecords,
  type AddTriggerOptions, type OverlapPolicy, type PipelineRunRecord, type PipelineRunResult, type StepLogLine, type StepRecord, type TriggerRecord,
} from '../../platform/index.js';
import type { Store } from '../../store/index.js';
import type { CliContext } from '../cli-context.js';
import { formatDuration, formatTime, table } from '../format.js';
import { STORE_FLAG, withStore } from './runs.js';

const ADDRESS_FLAG = ['--address <host:port>', 'cluster to run on (default: SHOAL_ADDRESS, the cluster `shoal start` recorded, else a local one)'] as const;

interface RunFlags { param: string[]; cache: boolean; store?: string; address?: string; name?: string; json?: boolean; trigger?: string }

/** `--param k=v` texts → name → text. */
function parseParamFlags(texts: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of texts) {
    const at = t.indexOf('=');
    if (at <= 0) throw new InvalidOptionError(`--param must be NAME=VALUE; got ${JSON.stringify(t)}`, { option: '--param' });
    out[t.slice(0, at)] = t.slice(at + 1);
  }
  return out;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function stepRow(s: StepRecord, indent: string): string[] {
  const duration = s.durationMs !== null ? formatDuration(s.durationMs) : s.startTime !== null && s.state === 'running' ? `${formatDuration(Date.now() - s.startTime)}…` : '-';
  return [
    `${indent}${s.step}`, s.state, duration, s.cacheHit ? 'hit' : s.state === 'reused' ? 'reused' : '-', s.attempts ? String(s.attempts) : '-',
    s.error ? s.error.replace(/\s+/g, ' ').slice(0, 100) : '',
  ];
}

/** The DAG of a run: each node (in order) with its upstream, state, duration, cache hit; a map's elements under it. */
export function renderPipelineRun(run: PipelineRunRecord, steps: readonly StepRecord[]): string {
  const byNode = new Map<string, StepRecord[]>();
  for (const s of steps) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
  const rows: string[][] = [['STEP', 'STATE', 'DURATION', 'CACHE', 'ATTEMPTS', 'ERROR']];
  for (const n of run.dag) {
    const recs = byNode.get(n.name) ?? [];
    const own = recs.find((s) => s.step === n.name);
    const row = own ? stepRow(own, '') : [n.name, 'pending', '-', '-', '-', ''];
    row[0] = `${n.name}${n.upstream.length ? ` ← ${n.upstream.join(', ')}` : ''}${n.map ? ' (map)' : ''}${n.condition ? ' (when)' : ''}`;
    rows.push(row);
    for (const s of recs) if (s.step !== n.name) rows.push(stepRow(s, '  '));
  }
  const duration = run.endTime !== null ? formatDuration(run.endTime - run.startTime) : `${formatDuration(Date.now() - run.startTime)} (running)`;
  return [
    `pipeline run ${run.id}  ${run.pipeline}  ${run.status}`,
    `  started: ${formatTime(run.startTime)}  duration: ${duration}${run.options.noCache ? '  (no cache)' : ''}`,
    run.module ? `  module: ${run.module}` : '',
    run.resumedFrom ? `  resumes: ${run.resumedFrom}` : '',
    `  params: ${Object.entries(run.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') || '(none)'}`,
    run.error ? `  error: ${run.error}` : '',
    '',
    table(rows, '  '),
  ].filter((l, i) => l !== '' || i === 6).join('\n') + '\n';
}

async function summary(ctx: CliContext, store: Store, runId: string, json: boolean | undefined, logs?: { step?: string | undefined }): Promise<void> {
  const records = new PipelineRecords(store);
  const run = await records.getRun(runId);
  const steps = await records.getSteps(run.id);
  const lines = logs ? await records.getLogs(run.id, logs.step) : undefined;
  if (json) return void ctx.io.stdout(`${JSON.stringify({ ...run, steps, ...(lines ? { logs: lines } : {}) }, null, 2)}\n`);
  ctx.io.stdout(renderPipelineRun(run, steps));
  if (lines) ctx.io.stdout(renderStepLogs(steps, lines, logs?.step));
}

/** Each step's log under a header, in the order the steps started; cached and reused steps say where their log is. */
export function renderStepLogs(steps: readonly StepRecord[], lines: readonly StepLogLine[], only?: string): string {
  const byStep = new Map<string, StepLogLine[]>();
  for (const l of lines) byStep.set(l.step, [...(byStep.get(l.step) ?? []), l]);
  const out: string[] = [];
  for (const s of steps) {
    if (only !== undefined && s.step !== only) continue;
    if (s.runId === null && s.state !== 'cached' && s.state !== 'reused') continue;
    out.push('', `── ${s.step} (${s.state}) ──`);
    const own = byStep.get(s.step) ?? [];
    if (!own.length) out.push(s.cachedFrom ? `  (no log: its outputs were taken from step run ${s.cachedFrom})` : '  (no output)');
    for (const l of own) out.push(`  ${new Date(l.ts).toISOString().slice(11, 23)} ${l.stream === 'stdout' ? '' : `[${l.stream}] `}${l.line}`);
  }
  if (only !== undefined && !out.length) out.push('', `(no step ${only} in this run)`);
  return `${out.join('\n')}\n`;
}

/** Runs `fn` connected to the cluster (`--address`, else the default of `init()`), disconnecting after. */
async function onCluster<T>(flags: { address?: string }, fn: () => Promise<T>): Promise<T> {
  await init(flags.address !== undefined ? { address: flags.address } : {});
  try {
    return await fn();
  } finally {
    await shutdown();
  }
}

/** Prints the run (failed or not); a failed run sets exit code 1 and names the step. */
async function report(ctx: CliContext, store: Store, flags: { json?: boolean }, work: () => Promise<PipelineRunResult>): Promise<void> {
  let runId: string;
  try {
    runId = (await work()).runId;
  } catch (err) {
    if (!(err instanceof PipelineRunError)) throw err;
    runId = err.runId;
    ctx.exitCode = 1;
    ctx.io.stderr(`error: ${err.message}\n`);
  }
  await summary(ctx, store, runId, flags.json);
}

export function pipelineCommand(ctx: CliContext): Command {
  const cmd = new Command('pipeline').description('pipelines: run a pipeline module on the cluster, list and show runs (with step logs), resume a failed run, report candidate vs champion, schedule and trigger runs');
  cmd
    .command('run <module>')
    .description('run the pipeline a module exports (its default export, else its only pipeline) on the cluster')
    .option('--param <name=value>', 'a parameter value (repeatable)', collect, [])
    .option('--no-cache', 'run every step, even those with a cached result')
    .option('--name <pipeline>', 'which pipeline, when the module exports several')
    .option(...STORE_FLAG)
    .option(...ADDRESS_FLAG)
    .option('--json', 'print the run as JSON')
    .addOption(new Option('--trigger <id>', 'the schedule or trigger that started the run (set by the head)').hideHelp())
    .action(async (module: string, flags: RunFlags) => {
      const { pipeline, module: file } = await loadPipeline(module, { name: flags.name });
      // Parameters are checked before a cluster is started or a run recorded.
      const params = compileParams(pipeline.name, pipeline.params as Record<string, never>, parseParamFlags(flags.param), true);
      await withStore(flags, (store) => onCluster(flags, () => report(ctx, store, flags, () => runPipeline(pipeline, { store, params, noCache: !flags.cache, module: file, ...(flags.trigger ? { trigger: flags.trigger } : {}) }))));
    });
  cmd
    .command('resume <run>')
    .description('run the failed steps of a pipeline run and those downstream of them again, reusing the rest (a new run)')
    .option('--module <file>', 'the pipeline module (default: the one the run was started from)')
    .option('--no-cache', 'do not take the re-run steps from the cache')
    .option(...STORE_FLAG)
    .option(...ADDRESS_FLAG)
    .option('--json', 'print the new run as JSON')
    .action(async (id: string, flags: { module?: string; cache: boolean; store?: string; address?: string; json?: boolean }) => {
      await withStore(flags, async (store) => {
        const old = await new PipelineRecords(store).getRun(id);
        const module = flags.module ?? old.module;
        if (!module) throw new InvalidOptionError(`run ${old.id} records no module; pass --module <file>`, { option: '--module' });
        const { pipeline, module: file } = await loadPipeline(module, { name: old.pipeline });
        await onCluster(flags, () => report(ctx, store, flags, () => resumePipeline(pipeline, old.id, { store, module: file, ...(flags.cache ? {} : { noCache: true }) })));
      });
    });
  cmd
    .command('list')
    .description('pipeline runs, newest first')
    .option('--pipeline <name>', 'only runs of this pipeline')
    .option('--limit <n>', 'at most this many', '50')
    .option(...STORE_FLAG)
    .option('--json', 'print the runs as JSON')
    .action(async (flags: { pipeline?: string; limit: string; store?: string; json?: boolean }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError(`--limit must be a positive integer; got ${flags.limit}`, { option: '--limit' });
      await withStore(flags, async (store) => {
        const records = new PipelineRecords(store);
        const runs = await records.listRuns({ pipeline: flags.pipeline, limit });
        if (flags.json) return void ctx.io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
        if (!runs.length) return void ctx.io.stdout('No pipeline runs.\n');
        const rows = [['RUN', 'PIPELINE', 'STATUS', 'START', 'DURATION', 'STEPS']];
        for (const r of runs) {
          const steps = await records.getSteps(r.id);
          const count = (st: string): number => steps.filter((s) => s.state === st).length;
          rows.push([
            r.id, r.pipeline, r.status, formatTime(r.startTime), r.endTime !== null ? formatDuration(r.endTime - r.startTime) : '(running)',
            `${count('succeeded')} ran, ${count('cached')} cached, ${count('reused')} reused, ${count('failed')} failed`,
          ]);
        }
        ctx.io.stdout(`${table(rows, '')}\n`);
      });
    });
  cmd
    .command('show <run>')
    .description('one pipeline run: its DAG with each step\'s state, duration, cache hit, attempts and error')
    .option('--logs', 'also print each step\'s log (its stdout, stderr and ctx.log lines)')
    .option('--step <name>', 'with --logs: only this step\'s')
    .option(...STORE_FLAG)
    .option('--json', 'print the run and its steps as JSON')
    .action(async (id: string, flags: { store?: string; json?: boolean; logs?: boolean; step?: string }) => {
      if (flags.step !== undefined && !flags.logs) throw new InvalidOptionError('--step goes with --logs', { option: '--step' });
      await withStore(flags, (store) => summary(ctx, store, id, flags.json, flags.logs ? { step: flags.step } : undefined));
    });
  cmd
    .command('report <run>')
    .description('candidate vs champion: the metrics of a pipeline run against the champion of its model, with plots, as Markdown (stdout) and HTML')
    .option('--model <name>', 'the registered model whose champion to compare with (default: the model the run registered a version of)')
    .option('--alias <alias>', 'the champion\'s alias', 'champion')
    .option('--lower-is-better <metrics>', 'comma-separated metrics where lower is better (besides loss, error, rmse, mae, mse, latency, time, duration)')
    .option('--html <file>', 'also write the report as one HTML page (inline SVG plots)')
    .option('--markdown <file>', 'write the Markdown to this file instead of stdout')
    .option(...STORE_FLAG)
    .option('--json', 'print the report data as JSON')
    .action(async (id: string, flags: { model?: string; alias: string; lowerIsBetter?: string; html?: string; markdown?: string; store?: string; json?: boolean }) => {
      await withStore(flags, async (store) => {
        const report = await buildRunReport(store, id, {
          model: flags.model, alias: flags.alias, lowerIsBetter: flags.lowerIsBetter?.split(',').map((m) => m.trim()).filter(Boolean),
        });
        if (flags.html) await writeFile(flags.html, reportHtml(report));
        if (flags.json) return void ctx.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
        const md = reportMarkdown(report);
        if (flags.markdown) await writeFile(flags.markdown, md);
        else ctx.io.stdout(md);
        if (flags.html || flags.markdown) ctx.io.stderr(`wrote ${[flags.markdown, flags.html].filter(Boolean).join(' and ')}\n`);
      });
    });
  triggerCommands(ctx, cmd);
  return cmd;
}

function describeSpec(t: TriggerRecord): string {
  switch (t.spec.kind) {
    case 'cron':
      return `cron "${t.spec.cron}"${t.spec.timezone !== 'UTC' ? ` ${t.spec.timezone}` : ''}`;
    case 'folder':
      return `new files in ${t.spec.path}`;
    case 'table':
      return `rows added to ${t.spec.table}${t.spec.column ? ` (max ${t.spec.column})` : ''}`;
    case 'event':
      return `event ${t.spec.event}`;
  }
}

function printTriggers(ctx: CliContext, list: TriggerRecord[], json: boolean | undefined, none: string): void {
  if (json) return void ctx.io.stdout(`${JSON.stringify(list, null, 2)}\n`);
  if (!list.length) return void ctx.io.stdout(`${none}\n`);
  const rows = [['ID', 'PIPELINE', 'WHEN', 'OVERLAP', 'FIRES', 'SKIPPED', 'QUEUED', 'LAST FIRED', 'LAST RUN', 'LAST ERROR']];
  for (const t of list) {
    rows.push([
      t.id, t.pipeline, describeSpec(t), t.overlap, String(t.fires), String(t.skipped), String(t.queued), t.lastFiredAt !== null ? formatTime(t.lastFiredAt) : '-',
      t.lastRunId ?? '-', (t.lastError ?? '').replace(/\s+/g, ' ').slice(0, 80),
    ]);
  }
  ctx.io.stdout(`${table(rows, '')}\n`);
}

interface TriggerFlags {
  param: string[]; name?: string; overlap?: string; list?: boolean; remove?: string; store?: string; json?: boolean;
  cron?: string; timezone?: string; folder?: string; table?: string; url?: string; column?: string; event?: string;
}

/** Adds, lists or removes (`--list`, `--remove ID`) schedules or data/event triggers. */
async function manageTriggers(ctx: CliContext, which: 'schedules' | 'triggers', module: string | undefined, flags: TriggerFlags, source: Partial<AddTriggerOptions>): Promise<void> {
  await withStore(flags, async (store) => {
    const records = new TriggerRecords(store);
    if (flags.remove !== undefined) {
      await records.remove(flags.remove);
      return void ctx.io.stdout(`removed ${flags.remove}\n`);
    }
    if (flags.list || module === undefined) {
      if (!flags.list) throw new InvalidOptionError(`give a pipeline module, --list or --remove ID`, { option: 'module' });
      return printTriggers(ctx, await records.list(which), flags.json, which === 'schedules' ? 'No pipeline schedules.' : 'No pipeline triggers.');
    }
    const t = await addTrigger(store, {
      module, pipeline: flags.name, params: parseParamFlags(flags.param), overlap: flags.overlap as OverlapPolicy | undefined, ...source,
    });
    if (flags.json) return void ctx.io.stdout(`${JSON.stringify(t, null, 2)}\n`);
    ctx.io.stdout(`${t.id}: ${t.pipeline} on ${describeSpec(t)} (overlap: ${t.overlap}); a head started with \`shoal start --head\` over this store fires it\n`);
  });
}

function triggerCommands(ctx: CliContext, cmd: Command): void {
  const common = (c: Command): Command =>
    c
      .option('--param <name=value>', 'a parameter value of each run (repeatable)', collect, [])
      .option('--name <pipeline>', 'which pipeline, when the module exports several')
      .option('--overlap <policy>', 'when it fires while a run of the pipeline is going: skip, queue or allow (default: skip)')
      .option('--list', 'list them instead')
      .option('--remove <id>', 'remove one instead')
      .option(...STORE_FLAG)
      .option('--json', 'print as JSON');
  common(
    cmd
      .command('schedule [module]')
      .description('run a pipeline on a cron schedule, held by the head (survives a head restart; one missed run is caught up on start)')
      .option('--cron <expr>', 'cron expression, 5 fields (or 6 with seconds first), e.g. "0 3 * * *"')
      .option('--timezone <tz>', 'time zone of the expression (default: UTC)'),
  ).action(async (module: string | undefined, flags: TriggerFlags) => {
    if (module !== undefined && !flags.list && flags.remove === undefined && flags.cron === undefined) {
      throw new InvalidOptionError('shoal pipeline schedule needs --cron "<expr>"', { option: '--cron' });
    }
    await manageTriggers(ctx, 'schedules', module, flags, { cron: flags.cron, timezone: flags.timezone });
  });
  common(
    cmd
      .command('trigger [module]')
      .description('run a pipeline when new files appear in a folder, rows are added to a PostgreSQL table, or an event is posted')
      .option('--folder <dir>', 'fire on new files in this folder')
      .option('--table <name>', 'fire on rows added to this PostgreSQL table (with --url)')
      .option('--url <postgres-url>', 'the database of --table')
      .option('--column <name>', 'with --table: fire when the maximum of this column grows (default: the row count)')
      .option('--event <name>', 'fire when this event is posted (`shoal pipeline event NAME`)'),
  ).action(async (module: string | undefined, flags: TriggerFlags) => {
    const table = flags.table !== undefined ? { url: flags.url ?? '', table: flags.table, column: flags.column } : undefined;
    await manageTriggers(ctx, 'triggers', module, flags, { folder: flags.folder, table, event: flags.event });
  });
  cmd
    .command('event <name>')
    .description('post an event (e.g. drift) to the store: pipelines triggered by it run')
    .option('--payload <json>', 'JSON payload', 'null')
    .option(...STORE_FLAG)
    .action(async (name: string, flags: { payload: string; store?: string }) => {
      let payload: unknown;
      try {
        payload = JSON.parse(flags.payload);
      } catch (err) {
        throw new InvalidOptionError(`--payload must be JSON: ${(err as Error).message}`, { option: '--payload' });
      }
      await withStore(flags, async (store) => {
        const seq = await postPipelineEvent(store, name, payload, { source: 'cli' });
        ctx.io.stdout(`posted event ${name} #${seq}\n`);
      });
    });
}
