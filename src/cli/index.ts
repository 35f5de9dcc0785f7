/**
 * The `shoal` command: start and stop clusters on this host, inspect them, and run jobs on them.
 *
 * @example
 * ```sh
 * shoal start --head              # head + worker in the background, recorded in ~/.shoal
 * shoal status
 * shoal submit -- node job.ts     # run job.ts on the cluster and follow its output
 * shoal stop
 * ```
 *
 * Errors the user can fix (any ShoalError: bad flags, no cluster, wrong token, port in use) print
 * as one `error: ...` line and exit with code 1; `main()` never throws.
 */
import { Command, CommanderError } from 'commander';
import { SHOAL_VERSION, ShoalError } from '../core/index.js';
import { processIo, type CliContext, type CliIo } from './cli-context.js';
import { dashboardCommand } from './commands/dashboard.js';
import { downCommand } from './commands/down.js';
import { featuresCommand } from './commands/features.js';
import { jobsCommand } from './commands/jobs.js';
import { logsCommand } from './commands/logs.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopJobCommand } from './commands/stop-job.js';
import { stopCommand } from './commands/stop.js';
import { submitCommand } from './commands/submit.js';
import { upCommand } from './commands/up.js';
import { lineageCommand } from './commands/lineage.js';
import { modelsCommand } from './commands/models.js';
import { runsCommand } from './commands/runs.js';
import { serveCommand } from './commands/serve.js';
import { pipelineCommand } from './commands/pipeline.js';
import { monitorCommand } from './commands/monitor.js';

export type { CliIo } from './cli-context.js';
export { NoClusterError, PortInUseError, ProcessStartError, ClusterRunningError } from './errors.js';

const EXAMPLES = `
Examples:
  $ shoal start --head                       # start a cluster on this host (head + worker)
  $ shoal start --head --port 0 --num-cpus 4 --resources '{"GPU":1}'
  $ shoal status                             # nodes, resources, actors, jobs
  $ shoal dashboard                          # the web UI's address (opens it when a browser is there)
  $ shoal submit -- node job.ts --epochs 3   # run a driver script as a job, follow its output
  $ shoal jobs                               # list jobs
  $ shoal logs <job> --follow
  $ shoal stop-job <job>
  $ shoal stop                               # stop what \`shoal start\` started
  $ shoal up cluster.yaml                    # start a cluster on the hosts of a cluster YAML (SSH)
  $ shoal down cluster.yaml
  $ shoal features check-skew listing_stats --sample 1000 --redis redis://127.0.0.1:6379/0
  $ shoal runs list --filter "metrics.ndcg > 0.1"   # runs, models and lineage in the platform store
  $ shoal runs compare <a> <b> --format html --out diff.html
  $ shoal models show rental-recs
  $ shoal lineage models:/rental-recs@champion
  $ shoal serve status                       # a serve instance: deployments, replicas, rps, p50/p99, autoscaler
  $ shoal serve rollout recommendations --weight 10
  $ shoal serve keys create                  # a serving key for the inference endpoints
  $ shoal monitor status                     # monitors, alerts, retraining decisions with reasons
  $ shoal monitor report --from 2026-12-01 --out report.html

Which cluster: --address, else SHOAL_ADDRESS, else the one \`shoal start\` recorded in
$SHOAL_HOME/cluster.json (SHOAL_HOME defaults to ~/.shoal). Token: --token-file, else
SHOAL_TOKEN, else SHOAL_TOKEN_FILE, else the recorded token file.`;

/** Builds the command tree; `ctx` receives output and the exit code. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('shoal')
    .description('shoal: a distributed compute framework for TypeScript — manage clusters and jobs')
    .version(SHOAL_VERSION, '-v, --version', 'print the shoal version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr })
    .addHelpText('after', EXAMPLES);
  for (const make of [
    startCommand, statusCommand, dashboardCommand, stopCommand, submitCommand, jobsCommand, logsCommand, stopJobCommand, upCommand, downCommand,
    featuresCommand, runsCommand, modelsCommand, lineageCommand, serveCommand, pipelineCommand, monitorCommand,
  ]) {
    program.addCommand(inherit(make(ctx), program));
  }
  return program;
}

/** Gives `cmd` and its subcommands (`runs list`, ...) the program's output and exit handling. */
function inherit(cmd: Command, from: Command): Command {
  cmd.copyInheritedSettings(from);
  for (const sub of cmd.commands) inherit(sub, cmd);
  return cmd;
}

/** Runs the command line `argv` (as in process.argv: node, script, args...); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'node' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander printed the message (or help)
    if (err instanceof ShoalError) {
      io.stderr(`error: ${err.message}\n`);
      return 1;
    }
    const e = err as Error;
    io.stderr(`error: ${e?.message ?? String(err)}\n`);
    if (process.env.SHOAL_DEBUG) io.stderr(`${e?.stack ?? ''}\n`);
    else io.stderr('(this looks like a bug in shoal; set SHOAL_DEBUG=1 to print the stack)\n');
    return 1;
  }
}
