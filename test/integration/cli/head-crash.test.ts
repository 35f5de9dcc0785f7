/**
 * A crashed head started again from the CLI, and what `shoal start` leaves on disk. `shoal start
 * --head` over a cluster whose head died but whose workers live restarts that head (same port,
 * folder and store) instead of refusing with "already running"; the workers come back to it.
 * Everything `shoal start` writes under SHOAL_HOME is private to the user (0700 / 0600), even
 * under umask 000.
 */
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CliHome, isAlive, REPO_ROOT, waitFor, type ClusterRecordJson } from './cli-harness.js';

interface StatusJson {
  nodes: Array<{ alive: boolean }>;
}

/** Paths under `dir` whose mode lets another user in (folders other than 0700, files with group/other bits). */
function openPaths(dir: string): string[] {
  const out: string[] = [];
  const visit = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) out.push(`${path} 0${mode.toString(8)}`);
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (mode & 0o077) out.push(`${path} 0${mode.toString(8)}`);
  };
  visit(dir);
  return out;
}

/** `shoal ...args` under umask 000 (a shell sets it: the CLI must not rely on the umask). */
function runUmask0(home: CliHome, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_HOME: home.dir };
  for (const key of ['SHOAL_ADDRESS', 'SHOAL_TOKEN', 'SHOAL_TOKEN_FILE'] as const) delete env[key];
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, BIN, ...args], { cwd: REPO_ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      home.record();
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('shoal start --head after the head crashed', () => {
  const home = new CliHome();
  let rec: ClusterRecordJson;
  beforeAll(async () => {
    const started = await runUmask0(home, ['start', '--head', '--port', '0', '--num-cpus', '1']);
    if (started.code !== 0) throw new Error(`shoal start failed: ${JSON.stringify(started)}`);
    rec = home.record()!;
  });
  afterAll(() => home.cleanup());

  it('everything shoal start wrote under SHOAL_HOME is 0700 / 0600 under umask 000', () => {
    expect(openPaths(home.dir)).toEqual([]);
  });

  it('restarts the dead head on its port; the live worker comes back to it', async () => {
    const head = rec.processes.find((p) => p.role === 'head')!;
    const worker = rec.processes.find((p) => p.role === 'worker')!;
    process.kill(head.pid, 'SIGKILL');
    await waitFor('the head to die', () => !isAlive(head.pid) || undefined);
    expect(isAlive(worker.pid)).toBe(true);

    const again = await runUmask0(home, ['start', '--head', '--port', '0']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Restarted the head of the cluster at ${rec.address}`);
    const now = home.record()!;
    expect(now.address).toBe(rec.address);
    expect(now.processes.map((p) => p.role).sort()).toEqual(['head', 'worker']);
    expect(now.pids).toContain(worker.pid);
    expect(now.pids).not.toContain(head.pid);
    const status = await waitFor('the worker back with the restarted head', async () => {
      const r = await home.run(['status', '--json']);
      if (r.code !== 0) return undefined;
      const s = JSON.parse(r.stdout) as StatusJson;
      return s.nodes.filter((n) => n.alive).length === 1 ? s : undefined;
    }, 40_000);
    expect(status.nodes.filter((n) => n.alive)).toHaveLength(1);
    expect(openPaths(home.dir)).toEqual([]);

    // With every process alive, a second start is still refused.
    const refused = await home.run(['start', '--head', '--port', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`already running on this host at ${rec.address}`);
    expect((await home.run(['stop'])).code).toBe(0);
  }, 120_000);
});
