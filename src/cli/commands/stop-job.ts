/** `shoal stop-job JOB`: stops a running job (SIGTERM to its driver, SIGKILL after 3 s) and waits for it to end. */
import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { parseCount } from '../cli-options.js';
import { sleep } from '../process-control.js';
import { withHead } from '../with-head.js';

const POLL_MS = 200;

export function stopJobCommand(ctx: CliContext): Command {
  return new Command('stop-job')
    .description('stop a running job')
    .argument('<job>', 'job id (see `shoal jobs`)')
    .option('--timeout-ms <ms>', 'how long to wait for the job to end', (v) => parseCount('--timeout-ms', v), 10_000)
    .option('--address <host:port>', 'head to ask (default: SHOAL_ADDRESS, else the recorded cluster)')
    .option('--token-file <file>', 'file holding the cluster token')
    .action(async (jobId: string, flags: { timeoutMs: number; address?: string; tokenFile?: string }) => {
      await withHead(flags, async (head) => {
        const before = await head.control('job-get', { id: jobId });
        if (before.endedAt !== undefined) {
          ctx.io.stdout(`Job ${jobId} already ended: ${before.status}.\n`);
          return;
        }
        await head.control('job-stop', { id: jobId });
        const deadline = Date.now() + flags.timeoutMs;
        let job = await head.control('job-get', { id: jobId });
        while (job.endedAt === undefined && Date.now() < deadline) {
          await sleep(POLL_MS);
          job = await head.control('job-get', { id: jobId });
        }
        if (job.endedAt === undefined) {
          ctx.io.stdout(`Asked job ${jobId} to stop; it is still exiting after ${flags.timeoutMs} ms (status ${job.status}).\n`);
          ctx.exitCode = 1;
          return;
        }
        ctx.io.stdout(`Job ${jobId} ${job.status}.\n`);
      });
    });
}
