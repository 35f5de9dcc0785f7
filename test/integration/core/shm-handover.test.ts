/**
 * The shared-memory hand-over of large objects between processes of one host leaves nothing
 * behind: its /dev/shm file is private to this user while it exists (0600, also under umask 000),
 * and when the driver reading it is killed mid-get, the file is swept (a new worker sweeps orphans
 * by owner pid when it starts; `shoal stop` does too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';

const SHM = '/dev/shm';
const DRIVER = fileURLToPath(new URL('../../fixtures/core/large-get-driver.mjs', import.meta.url));

/** The hand-over files a writer process `pid` has in /dev/shm now. */
function handOverFiles(pid: number): Array<{ name: string; mode: number }> {
  const out: Array<{ name: string; mode: number }> = [];
  for (const name of readdirSync(SHM)) {
    if (!name.startsWith(`shoal-${pid}-`)) continue;
    try {
      out.push({ name, mode: statSync(join(SHM, name)).mode & 0o777 });
    } catch {
      /* unlinked meanwhile */
    }
  }
  return out;
}

const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

describe.skipIf(!existsSync(SHM))('the /dev/shm hand-over of a large get', () => {
  let tc: TestCluster;
  let oldUmask = 0;
  let driver: ChildProcess | undefined;
  beforeAll(async () => {
    oldUmask = process.umask(0);
    try {
      tc = await TestCluster.start({ numWorkers: 1, numCpus: 1, connect: true });
    } finally {
      process.umask(oldUmask);
    }
  });
  afterAll(async () => {
    if (driver && alive(driver)) driver.kill('SIGKILL');
    await tc?.stop();
  });

  it('a driver killed mid-get leaves no file once orphans are swept, and the file is 0600 while it exists', async () => {
    const workerPid = tc.workers[0]!.child.pid!;
    const child = spawn(process.execPath, [DRIVER, '32'], {
      env: { ...process.env, SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    driver = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
    await waitFor('the driver to get its first object', () => out.includes('getting') || !alive(child), 60_000, 20);
    expect(alive(child), out).toBe(true);

    // Freeze the driver at a moment a hand-over file exists, then kill it there.
    let seen: Array<{ name: string; mode: number }> = [];
    await waitFor('the driver frozen while a hand-over file exists', () => {
      child.kill('SIGSTOP');
      seen = handOverFiles(workerPid);
      if (seen.length > 0) return true;
      child.kill('SIGCONT');
      return false;
    }, 60_000, 7);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    for (const f of seen) expect(`${f.name} ${f.mode.toString(8)}`).toBe(`${f.name} 600`);

    // A worker that starts sweeps the orphans of dead readers.
    await tc.addWorker({ numCpus: 1 });
    await waitFor('no hand-over file of the killed driver left', () => handOverFiles(workerPid).length === 0, 20_000);
    expect(handOverFiles(workerPid)).toEqual([]);
  }, 120_000);
});
