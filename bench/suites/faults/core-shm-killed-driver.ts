/**
 * /dev/shm hand-over (issue 13): a driver getting 32 MiB objects from a worker is frozen while a
 * hand-over file exists and SIGKILLed there. Expected: the file was 0600, and none is left once a
 * worker starts (it sweeps the files of dead processes). Each file left, or readable by others,
 * counts as a leaked file; recovery is the time from the kill until no file is left.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster } from 'shoal';
import type { Fault } from '../../lib/fault.js';

const DRIVER = fileURLToPath(new URL('../../fixtures/shm-get-driver.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function files(writerPid: number): Array<{ name: string; mode: number }> {
  const out: Array<{ name: string; mode: number }> = [];
  for (const name of readdirSync('/dev/shm')) {
    if (!name.startsWith(`shoal-${writerPid}-`)) continue;
    try {
      out.push({ name, mode: statSync(join('/dev/shm', name)).mode & 0o777 });
    } catch {
      /* read meanwhile */
    }
  }
  return out;
}

export const fault: Fault = {
  name: 'driver killed during a large get (/dev/shm hand-over)',
  area: 'core',
  async run(ctx) {
    if (!existsSync('/dev/shm')) {
      return { ran: '-', expected: '-', happened: 'no /dev/shm on this host', wrongResults: 0, lostWrites: 0, leakedFiles: 0, recoverSeconds: 0, skipped: true };
    }
    const cluster = await startLocalCluster({ dir: join(ctx.dir, 'cluster'), numWorkers: 1, numCpus: 1, objectStoreBytes: 256 * 2 ** 20 });
    const token = (await import('node:fs')).readFileSync(cluster.head.tokenFile, 'utf8').trim();
    const child = spawn(process.execPath, [DRIVER, '32'], { env: { ...process.env, SHOAL_ADDRESS: cluster.head.address, SHOAL_TOKEN: token }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const workerPid = cluster.processes[1]!.child.pid!;
      let out = '';
      child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
      for (let i = 0; i < 600 && !out.includes('getting'); i++) await sleep(100);
      let seen: Array<{ name: string; mode: number }> = [];
      for (let i = 0; i < 5000 && seen.length === 0; i++) {
        child.kill('SIGSTOP');
        seen = files(workerPid);
        if (!seen.length) {
          child.kill('SIGCONT');
          await sleep(5);
        }
      }
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
      const killedAt = performance.now();
      const open = seen.filter((f) => f.mode & 0o077).length;
      await cluster.addWorker({ numCpus: 1 });
      let left = files(workerPid);
      for (let i = 0; i < 100 && left.length; i++) {
        await sleep(100);
        left = files(workerPid);
      }
      return {
        ran: 'a driver looping get() of 32 MiB objects, frozen while a hand-over file existed, then SIGKILLed; a worker started',
        expected: 'the file was 0600; no file of the dead driver left after the sweep',
        happened: `${seen.length} file(s) at the kill (mode ${seen.map((f) => f.mode.toString(8)).join(', ') || '-'}), ${left.length} left`,
        wrongResults: 0,
        lostWrites: 0,
        leakedFiles: left.length + open,
        recoverSeconds: (performance.now() - killedAt) / 1000,
      };
    } finally {
      child.kill('SIGKILL');
      await cluster.stop();
    }
  },
};
