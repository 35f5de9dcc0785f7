/**
 * The OOM error of a task with no memory option (issue 13): on a worker whose heap limit is 200 MB
 * (--max-old-space-size), a task allocating without limit must fail with OutOfMemoryError naming a
 * limit near 200 MB (it named 70% of free memory, "limit 15150 MB" at 4.3 GB). A wrong limit is a
 * wrong result; recovery is the time until the worker runs a task again.
 */
import { join } from 'node:path';
import { OutOfMemoryError, startLocalCluster } from 'shoal';
import type { Fault } from '../../lib/fault.js';

export const fault: Fault = {
  name: 'OutOfMemoryError of a task with no memory option',
  area: 'core',
  async run(ctx) {
    // A driver can talk to one cluster at a time: the task runs as a job-like child driver.
    const saved = process.env.SHOAL_NODE_ARGS;
    process.env.SHOAL_NODE_ARGS = '--max-old-space-size=200';
    let cluster;
    try {
      cluster = await startLocalCluster({ dir: join(ctx.dir, 'cluster'), numWorkers: 1, numCpus: 1 });
    } finally {
      if (saved === undefined) delete process.env.SHOAL_NODE_ARGS;
      else process.env.SHOAL_NODE_ARGS = saved;
    }
    try {
      const { execFile } = await import('node:child_process');
      const { fileURLToPath } = await import('node:url');
      const script = fileURLToPath(new URL('../../fixtures/oom-driver.js', import.meta.url));
      const token = (await import('node:fs')).readFileSync(cluster.head.tokenFile, 'utf8').trim();
      const out = await new Promise<string>((resolve) => {
        execFile(process.execPath, [script], { env: { ...process.env, SHOAL_ADDRESS: cluster.head.address, SHOAL_TOKEN: token }, timeout: 120_000 }, (_err, stdout) => resolve(stdout));
      });
      const r = JSON.parse(out.trim().split('\n').pop() || '{}') as { name?: string; limitMb?: number; message?: string; after?: number; recoverSeconds?: number };
      const right = r.name === OutOfMemoryError.name && (r.limitMb ?? 0) >= 200 && (r.limitMb ?? 0) < 400;
      return {
        ran: 'a task allocating ~4 GB with no memory option, worker heap limit 200 MB',
        expected: 'OutOfMemoryError naming a limit of 200–400 MB; the worker runs the next task',
        happened: `${r.name ?? 'no error'}: ${r.message?.split(';')[0] ?? out.slice(-200)}; next task ${r.after === 2 ? 'ran' : 'failed'}`,
        wrongResults: (right ? 0 : 1) + (r.after === 2 ? 0 : 1),
        lostWrites: 0,
        leakedFiles: 0,
        recoverSeconds: r.recoverSeconds ?? 0,
      };
    } finally {
      await cluster.stop();
    }
  },
};
