/**
 * Exposure of state (issue 13): a cluster started under umask 000 runs work (a bundle, objects
 * spilled past a small store, logs); every path under its folder must be 0700 / 0600, and its head
 * store must not hold the cluster token. Each path another user could read counts as a leaked file.
 */
import { lstatSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalCluster } from 'shoal';
import type { Fault } from '../../lib/fault.js';

function openPaths(dir: string): string[] {
  const out: string[] = [];
  const visit = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) out.push(path);
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (mode & 0o077) out.push(path);
  };
  visit(dir);
  return out;
}

export const fault: Fault = {
  name: 'state files of a cluster started under umask 000',
  area: 'core',
  async run(ctx) {
    const old = process.umask(0);
    let cluster;
    try {
      cluster = await startLocalCluster({ dir: join(ctx.dir, 'cluster'), numWorkers: 1, numCpus: 1, objectStoreBytes: 8 * 2 ** 20 });
    } finally {
      process.umask(old);
    }
    try {
      // The suite's driver is connected to its own cluster: this one is inspected as started (head
      // store, token, logs, worker folder); the suite's other rows run work through the shared one.
      const open = openPaths(cluster.dir);
      const token = readFileSync(cluster.head.tokenFile, 'utf8').trim();
      const withToken = ['head.sqlite', 'head.sqlite-wal'].filter((f) => {
        const p = join(cluster.dir, f);
        return existsSync(p) && readFileSync(p).includes(Buffer.from(token));
      });
      return {
        ran: 'startLocalCluster under umask 000, then every path under its folder checked',
        expected: 'folders 0700, files 0600, no token in head.sqlite(-wal)',
        happened: `${open.length} path(s) open to others${open.length ? ` (${open.slice(0, 3).map((p) => p.slice(cluster.dir.length)).join(', ')}…)` : ''}; token in ${withToken.join(', ') || 'no store file'}`,
        wrongResults: withToken.length,
        lostWrites: 0,
        leakedFiles: open.length,
        recoverSeconds: 0,
      };
    } finally {
      await cluster.stop();
    }
  },
};
