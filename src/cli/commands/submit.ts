/**
 * `shoal submit -- node job.js [args...]`: bundles the script (its npm imports inlined, `shoal`
 * left to the cluster's installation), uploads the bundle to the head, and runs it there as a job
 * that connects back as a driver. By default it then follows the job's output and exits with 0
 * when the job SUCCEEDED, 1 otherwise.
 */
import { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { InvalidOptionError } from '../../core/index.js';
import type { CliContext } from '../cli-context.js';
import { formatDuration } from '../format.js';
import { bundleJob } from '../job-bundle.js';
import { followJob } from '../job-follow.js';
import { withHead } from '../with-head.js';

/** Script kinds a job entry can be. */
export const JOB_SCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'] as const;

interface SubmitFlags {
  address?: string;
  tokenFile?: string;
  wait: boolean;
  env: Record<string, string>;
}

export interface JobCommandLine {
  script: string;
  args: string[];
  /** As the user wrote it, for display. */
  entrypoint: string;
}

export function submitCommand(ctx: CliContext): Command {
  return new Command('submit')
    .description('run a driver script on the cluster as a job')
    .argument('<command...>', 'node SCRIPT [ARGS...] (SCRIPT: .js, .mjs, .ts, .mts, ...)')
    .option('--address <host:port>', 'head to submit to (default: SHOAL_ADDRESS, else the recorded cluster)')
    .option('--token-file <file>', 'file holding the cluster token')
    .option('--no-wait', 'print the job id and return at once instead of following the job')
    .option('-e, --env <KEY=VALUE>', 'environment variable for the job (repeatable)', collectEnv, {})
    .passThroughOptions()
    .addHelpText('after', `
Examples:
  $ shoal submit -- node train.ts --epochs 3
  $ shoal submit --no-wait -e LOG_LEVEL=debug -- node jobs/etl.mjs 2025-01-01`)
    .action(async (command: string[], flags: SubmitFlags) => {
      const job = parseJobCommandLine(command);
      await withHead(flags, async (head) => {
        const bundle = await bundleJob(job.script);
        for (const file of bundle.files) await head.uploadBundle(file.hash, file.code);
        const entry = bundle.files.find((f) => f.name === bundle.entry)!;
        const modules = Object.fromEntries(bundle.files.map((f) => [f.name, f.hash]));
        const submitted = await head.control('job-submit', { bundle: entry.hash, modules, args: job.args, env: flags.env, entrypoint: job.entrypoint });
        ctx.io.stdout(`Submitted job ${submitted.id}: ${job.entrypoint}\n`);
        if (!flags.wait) {
          ctx.io.stdout(`Follow it with: shoal logs ${submitted.id} --follow    (status: shoal jobs, stop: shoal stop-job ${submitted.id})\n`);
          return;
        }
        ctx.io.stdout('--- job output (Ctrl-C stops following; the job keeps running) ---\n');
        const done = await followJob(ctx, head, submitted.id);
        if (!done) return;
        const took = done.endedAt && done.startedAt ? ` in ${formatDuration(done.endedAt - done.startedAt)}` : '';
        ctx.io.stdout(`--- job ${done.id} ${done.status}${took}${done.message ? `: ${done.message}` : ''} ---\n`);
        ctx.exitCode = done.status === 'SUCCEEDED' ? 0 : 1;
      });
    });
}

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidOptionError(`--env must be KEY=VALUE, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Reads `node job.js args...` (the leading `node` is optional). */
export function parseJobCommandLine(command: readonly string[]): JobCommandLine {
  const tokens = [...command];
  if (tokens[0] !== undefined && ['node', basename(process.execPath)].includes(basename(tokens[0]))) tokens.shift();
  const [script, ...args] = tokens;
  if (script === undefined) throw new InvalidOptionError('shoal submit needs a script to run: shoal submit -- node job.js [args...]');
  if (script.startsWith('-')) {
    throw new InvalidOptionError(`shoal submit runs 'node SCRIPT [ARGS...]'; node options such as '${script}' are not supported (the job runs with the head's node)`);
  }
  const ext = extname(script);
  if (!(JOB_SCRIPT_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new InvalidOptionError(`shoal submit: the script must be one of ${JOB_SCRIPT_EXTENSIONS.join(', ')}, got '${script}'`);
  }
  const path = resolve(script);
  if (!existsSync(path) || !statSync(path).isFile()) throw new InvalidOptionError(`shoal submit: the script ${script} does not exist (looked for ${path})`);
  return { script: path, args, entrypoint: ['node', script, ...args].join(' ') };
}
