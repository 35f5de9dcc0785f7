/**
 * `shoal up` / `shoal down` with `provider.type: local`: the same launch scripts run by a local shell
 * instead of SSH, head and worker on 127.0.0.1 (no namespace hosts, no root needed).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BIN = join(REPO, 'bin', 'shoal.js');
const home = mkdtempSync(join(tmpdir(), 'shoal-launcher-local-'));

function shoal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, SHOAL_HOME: home }, timeout: 120_000 }, (err, stdout, stderr) => {
      ok({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
}

describe.skipIf(process.platform !== 'linux')('shoal up / down with provider type local', () => {
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it('starts a head and a worker through a local shell, runs nothing over SSH, and down stops both', async () => {
    const session = join(home, 'session');
    const file = join(home, 'local.yaml');
    writeFileSync(file, `cluster_name: local-test
provider:
  type: local
  head_ip: 127.0.0.1
  worker_ips: [127.0.0.1]
head:
  port: 0
workers:
  cpus: 1
  object_store_bytes: 64MB
install_dir: ${REPO}
node_path: ${process.execPath}
session_dir: ${session}
`);
    const up = await shoal(['up', file]);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toMatch(/worker +127\.0\.0\.1 +pid \d+, node \S+ \(joined\)/);
    const rec = JSON.parse(readFileSync(join(home, 'clusters', 'local-test', 'cluster.json'), 'utf8')) as {
      address: string; tokenFile: string; head: { pid: number }; workers: Array<{ pid: number }>;
    };
    const pids = [rec.head.pid, ...rec.workers.map((w) => w.pid)];
    const status = await shoal(['status', '--address', rec.address, '--token-file', rec.tokenFile]);
    expect(status.stdout).toContain('Nodes: 1 alive');
    expect(pids.filter(alive)).toHaveLength(2);

    const again = await shoal(['up', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`cluster local-test is already up (head at ${rec.address})`);

    const down = await shoal(['down', file]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/head +127\.0\.0\.1 +pid \d+: stopped/);
    // A worker whose head went away exits by itself, so it may be gone before down reaches it.
    expect(down.stdout).toMatch(/worker +127\.0\.0\.1 +pid \d+: (stopped|killed|not-running)/);
    expect(pids.filter(alive)).toEqual([]);
    expect((await shoal(['down', file])).stdout).toContain('Nothing of cluster local-test was running.');
  }, 120_000);
});
