/** `shoal runs list|show|compare`: the runs of the platform store (SQLite under $SHOAL_HOME, or SHOAL_METADATA_URL). */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { invalidOption } from '../../core/index.js';
import { openStore, type RunInfo, type Store } from '../../store/index.js';
import type { CliContext } from '../cli-context.js';
import { formatDuration, formatTime, table } from '../format.js';
import { compareHtml, compareMarkdown } from '../store-report.js';

/** The option every store command takes. */
export const STORE_FLAG = ['--store <url>', 'platform store: postgres://... or a SQLite file (default: SHOAL_METADATA_URL, else $SHOAL_HOME/store/store.db)'] as const;

/** Runs `fn` on the store `flags.store` names, closing it after. */
export async function withStore<T>(flags: { store?: string }, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(flags.store ? { url: flags.store } : undefined);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const brief = (m: Record<string, number>, n = 4): string =>
  Object.entries(m).slice(0, n).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`).join(' ') + (Object.keys(m).length > n ? ' …' : '');

function runRow(r: RunInfo): string[] {
  const duration = r.endTime !== null ? formatDuration(r.endTime - r.startTime) : `${formatDuration(Date.now() - r.startTime)} (running)`;
  return [r.id.slice(0, 12), r.experimentName, r.name, r.status, formatTime(r.startTime), duration, brief(r.metrics)];
}

export function runsCommand(ctx: CliContext): Command {
  const cmd = new Command('runs').description('look at the runs in the platform store');
  cmd
    .command('list')
    .description('list runs, newest first')
    .option(...STORE_FLAG)
    .option('--experiment <name...>', 'only these experiments')
    .option('--filter <expr>', "filter, e.g. \"metrics.ndcg > 0.1 and params.rank = '16'\"")
    .option('--order-by <key>', "e.g. 'metrics.ndcg DESC'", 'start_time DESC')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print the runs as JSON')
    .action(async (flags: { store?: string; experiment?: string[]; filter?: string; orderBy: string; limit: string; json?: boolean }) => {
      const runs = await withStore(flags, (s) => s.searchRuns({ experiments: flags.experiment, filter: flags.filter, orderBy: flags.orderBy, limit: Number(flags.limit) }));
      if (flags.json) return void ctx.io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
      if (!runs.length) return void ctx.io.stdout('No runs match.\n');
      ctx.io.stdout(`${table([['RUN', 'EXPERIMENT', 'NAME', 'STATUS', 'START', 'DURATION', 'METRICS'], ...runs.map(runRow)], '')}\n`);
    });
  cmd
    .command('show <run>')
    .description('one run: params, metrics, tags, artifacts, inputs, children')
    .option(...STORE_FLAG)
    .option('--json', 'print the run as JSON')
    .action(async (id: string, flags: { store?: string; json?: boolean }) => {
      const r = await withStore(flags, async (s) => s.getRun(await resolveRunId(s, id)));
      if (flags.json) return void ctx.io.stdout(`${JSON.stringify(r, null, 2)}\n`);
      const kv = (o: Record<string, unknown>): string => Object.entries(o).map(([k, v]) => `    ${k}: ${String(v)}`).join('\n') || '    (none)';
      ctx.io.stdout(
        [
          `run ${r.id}  ${r.name}  (${r.experimentName})`,
          `  status: ${r.status}${r.failure ? ` — ${r.failure}` : ''}`,
          `  start: ${formatTime(r.startTime)}${r.endTime !== null ? `  duration: ${formatDuration(r.endTime - r.startTime)}` : ''}`,
          r.parentRunId ? `  parent: ${r.parentRunId}` : '',
          r.codeHash || r.gitCommit ? `  code: ${r.codeHash ?? '-'}  git: ${r.gitCommit ?? '-'}` : '',
          `  params:\n${kv(r.params)}`,
          `  metrics (latest):\n${kv(r.metrics)}`,
          `  tags:\n${kv(r.tags)}`,
          `  artifacts:\n${r.artifacts.map((a) => `    ${a.path}  ${a.bytes} B  sha256:${a.sha256.slice(0, 12)}`).join('\n') || '    (none)'}`,
          `  inputs:\n${r.inputs.map((i) => `    ${i.kind} ${i.ref} (${i.role})`).join('\n') || '    (none)'}`,
          r.children.length ? `  children: ${r.children.length} (${r.children.slice(0, 5).join(', ')}${r.children.length > 5 ? ', …' : ''})` : '',
        ].filter(Boolean).join('\n') + '\n',
      );
    });
  cmd
    .command('compare <a> <b>')
    .description('compare two runs: metric differences and plots (markdown for a pull request, or HTML)')
    .option(...STORE_FLAG)
    .option('--format <md|html>', 'report format', 'md')
    .option('--out <file>', 'write the report to a file instead of stdout')
    .action(async (a: string, b: string, flags: { store?: string; format: string; out?: string }) => {
      if (flags.format !== 'md' && flags.format !== 'html') throw invalidOption('--format', `must be md or html; got ${flags.format}`);
      const input = await withStore(flags, (s) => s.compareRuns(a, b));
      const text = flags.format === 'html' ? compareHtml(input) : compareMarkdown(input);
      if (flags.out) {
        writeFileSync(flags.out, text);
        ctx.io.stdout(`wrote ${flags.out}\n`);
      } else ctx.io.stdout(text);
    });
  return cmd;
}

/** A run id, or a unique prefix of one (as `runs list` prints them). */
export function resolveRunId(store: Store, id: string): Promise<string> {
  return store.resolveRunId(id);
}
