/** `shoal jobs`: the jobs of a cluster, newest last. */
import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import type { JobInfo } from '../cluster-types.js';
import { formatDuration, formatTime, table } from '../format.js';
import { withHead } from '../with-head.js';

export function jobsCommand(ctx: CliContext): Command {
  return new Command('jobs')
    .description('list the jobs submitted to a cluster')
    .option('--address <host:port>', 'head to ask (default: SHOAL_ADDRESS, else the recorded cluster)')
    .option('--token-file <file>', 'file holding the cluster token')
    .option('--json', 'print the jobs as JSON')
    .action(async (flags: { address?: string; tokenFile?: string; json?: boolean }) => {
      const jobs = await withHead(flags, (head) => head.control('job-list'));
      if (flags.json) {
        ctx.io.stdout(`${JSON.stringify(jobs, null, 2)}\n`);
        return;
      }
      if (!jobs.length) {
        ctx.io.stdout('No jobs yet. Submit one with: shoal submit -- node job.js\n');
        return;
      }
      const sorted = [...jobs].sort((a, b) => a.submittedAt - b.submittedAt);
      ctx.io.stdout(`${table([['JOB', 'STATUS', 'ENTRYPOINT', 'START', 'DURATION'], ...sorted.map(jobRow)], '')}\n`);
    });
}

function jobRow(j: JobInfo): string[] {
  const start = j.startedAt ?? j.submittedAt;
  const duration = j.endedAt ? formatDuration(j.endedAt - start) : `${formatDuration(Date.now() - start)} (running)`;
  const status = j.status === 'FAILED' && j.message ? `FAILED (${j.message})` : j.status;
  return [j.id, status, j.entrypoint, formatTime(start), duration];
}
