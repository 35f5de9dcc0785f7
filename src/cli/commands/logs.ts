/** `shoal logs JOB`: a job's output so far; with `--follow`, until the job ends. */
import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { followJob } from '../job-follow.js';
import { withHead } from '../with-head.js';

export function logsCommand(ctx: CliContext): Command {
  return new Command('logs')
    .description("print a job's output (stdout and stderr), or a process log of the head's host (head, worker-0, ...)")
    .argument('<job>', 'job id (see `shoal jobs`), or `head` / `worker-N` for the structured log of that process')
    .option('-f, --follow', 'keep printing until the job ends')
    .option('--address <host:port>', 'head to ask (default: SHOAL_ADDRESS, else the recorded cluster)')
    .option('--token-file <file>', 'file holding the cluster token')
    .action(async (jobId: string, flags: { follow?: boolean; address?: string; tokenFile?: string }) => {
      await withHead(flags, async (head) => {
        if (flags.follow && !/^(head|worker-\d+)$/.test(jobId)) {
          await followJob(ctx, head, jobId);
          return;
        }
        if (flags.follow) {
          // A process log has no end: follow until interrupted.
          const stop = new AbortController();
          process.once('SIGINT', () => stop.abort());
          await head.jobLogs(jobId, { follow: true, signal: stop.signal }, (chunk) => ctx.io.stdout(chunk.toString('utf8')));
          return;
        }
        await head.jobLogs(jobId, { follow: false }, (chunk) => ctx.io.stdout(chunk.toString('utf8')));
      });
    });
}
