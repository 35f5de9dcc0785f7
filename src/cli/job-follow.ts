/**
 * Following a job's log to its end. The head closes a followed log as soon as the job's process
 * exits, which can be before the last of its output reached the log file; so once the stream ends
 * this reads the log again from where it stopped, to print the tail too.
 */
import type { CliContext } from './cli-context.js';
import type { JobInfo } from './cluster-types.js';
import type { HeadClient } from '../core/index.js';
import { sleep } from './process-control.js';

/** Wait before reading a finished job's log once more. */
const TAIL_SETTLE_MS = 150;

/** Prints the job's output until it ends (or Ctrl-C); returns the job, or undefined on Ctrl-C. */
export async function followJob(ctx: CliContext, head: HeadClient, jobId: string): Promise<JobInfo | undefined> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    const print = (chunk: Buffer): void => ctx.io.stdout(chunk.toString('utf8'));
    const offset = await head.jobLogs(jobId, { follow: true, signal: abort.signal }, print);
    if (abort.signal.aborted) {
      ctx.io.stderr(`\nStopped following job ${jobId}; it keeps running. \`shoal logs ${jobId} --follow\` resumes, \`shoal stop-job ${jobId}\` stops it.\n`);
      return undefined;
    }
    let job = await head.control('job-get', { id: jobId });
    for (let i = 0; i < 20 && job.endedAt === undefined; i++) {
      await sleep(TAIL_SETTLE_MS);
      job = await head.control('job-get', { id: jobId });
    }
    await sleep(TAIL_SETTLE_MS);
    await head.jobLogs(jobId, { follow: false, offset }, print);
    return job;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
