/**
 * `shoal up` / `shoal down` against real OpenSSH servers inside namespace hosts (test/harness/sshd.ts):
 * the head on host 1, workers on hosts 2 and 3 and on an address nobody answers (the unreachable
 * host), all started from the root namespace over SSH. Then the bad inputs that need hosts: a second
 * head on the taken port, a worker of another shoal version joining from host 4. Then the SSH node
 * provider: an autoscaled cluster on hosts 2 and 3 grows for pending tasks and shrinks when idle.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get, init, isInitialized, shutdown, SHOAL_VERSION } from 'shoal';
import { hostAddress, SshHosts } from '../../harness/sshd.js';
import { waitFor } from '../../harness/test-cluster.js';
import { step, whereAmI } from '../../fixtures/multihost/tasks.js';
import { describeMultihost } from './support.js';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BIN = join(REPO, 'bin', 'shoal.js');
const HEAD_PORT = 16_380;
/** In the hosts' subnet, but no host has it: SSH cannot connect. */
const NOBODY = '10.213.0.99';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let hosts: SshHosts;
let home: string;

function shoal(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((ok) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, SHOAL_HOME: home, ...env }, timeout: 150_000 }, (err, stdout, stderr) => {
      ok({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function writeYaml(name: string, body: string): string {
  const file = join(home, `${name}.yaml`);
  writeFileSync(file, body);
  return file;
}

const yaml = (o: { name: string; port?: number; workers: string[]; extra?: string }): string => `# test cluster
cluster_name: ${o.name}
provider:
  type: ssh
  head_ip: ${hostAddress(1)}
  worker_ips: [${o.workers.join(', ')}]
auth:
  ssh_user: root
  ssh_private_key: ${hosts.clientKey}
head:
  port: ${o.port ?? HEAD_PORT}
workers:
  cpus: 1
  object_store_bytes: 64MB
install_dir: ${REPO}
node_path: ${process.execPath}
session_dir: ${join(home, `session-${o.name}`)}
${o.extra ?? ''}`;

const noShoalLeft = (): string[] => [1, 2, 3, 4].flatMap((i) => hosts.shoalProcessesIn(i).map((p) => `host ${i}: ${p}`));

describeMultihost('shoal up / down over SSH on namespace hosts', () => {
  let staticYaml: string;
  let address: string;
  let tokenFile: string;
  let up: CliResult;

  // `shoal up` of the static cluster is the suite's fixture (each test stands on it, none on another
  // test): the first test checks what it printed, the others use the cluster it started.
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'shoal-launcher-test-'));
    hosts = await SshHosts.start(4);
    staticYaml = writeYaml('static', yaml({ name: 'static', workers: [hostAddress(2), hostAddress(3), NOBODY] }));
    up = await shoal(['up', staticYaml]);
    const record = JSON.parse(readFileSync(join(home, 'clusters', 'static', 'cluster.json'), 'utf8')) as { address: string; tokenFile: string };
    address = record.address;
    tokenFile = record.tokenFile;
  }, 540_000);
  afterAll(async () => {
    if (isInitialized()) await shutdown().catch(() => undefined);
    await hosts?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('up starts the head and the reachable workers; the unreachable host is named and the exit code says partial', async () => {
    const r = up;
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr).toContain(`cannot reach host ${NOBODY} over SSH`);
    expect(r.stdout).toMatch(new RegExp(`worker +${hostAddress(2).replace(/\./g, '\\.')} +pid \\d+, node \\S+ \\(joined\\)`));
    expect(r.stdout).toMatch(new RegExp(`worker +${hostAddress(3).replace(/\./g, '\\.')} +pid \\d+, node \\S+ \\(joined\\)`));
    expect(address).toBe(`${hostAddress(1)}:${HEAD_PORT}`);
    // The token reached the workers on stdin and in 0600 files, never on a command line.
    const token = readFileSync(tokenFile, 'utf8').trim();
    const ps = await new Promise<string>((ok) => execFile('ps', ['-eo', 'args'], { maxBuffer: 16 * 2 ** 20 }, (_e, out) => ok(out)));
    expect(ps).not.toContain(token);
    expect(ps).toContain('worker-main.js');
  }, 240_000);

  it('runs tasks on the workers of hosts 2 and 3; shoal status lists them', async () => {
    await init({ address, tokenFile });
    const where = await get(Array.from({ length: 6 }, () => whereAmI.remote()), { timeoutMs: 30_000 });
    for (const w of where) expect([hostAddress(2), hostAddress(3)]).toContain(w.address);
    const steps = await get([0, 1, 2, 3].map((i) => step.remote(i, 50)), { timeoutMs: 30_000 });
    expect(steps.map((s) => s.value)).toEqual([0, 1, 2, 3].map((i) => (i * 2654435761) % 1_000_003));
    await shutdown();
    const s = await shoal(['status', '--address', address, '--token-file', tokenFile]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('Nodes: 2 alive');
    expect(s.stdout).toMatch(/10\.213\.0\.12:\d+ +alive/);
    expect(s.stdout).toMatch(/10\.213\.0\.13:\d+ +alive/);
  }, 120_000);

  it('a second head on the taken port fails naming the port; the first head is unaffected', async () => {
    const other = writeYaml('second', yaml({ name: 'second', workers: [hostAddress(4)] }));
    const r = await shoal(['up', other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot start the head on ${hostAddress(1)}: port ${HEAD_PORT} is already in use`);
    expect(noShoalLeft().filter((p) => p.startsWith('host 4'))).toEqual([]);
    const s = await shoal(['status', '--address', address, '--token-file', tokenFile]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('Nodes: 2 alive');
  }, 120_000);

  it('a worker of another shoal version joining from host 4 is refused with both versions named; the head stays healthy', async () => {
    const joinHome = join(home, 'joiner');
    const r = hosts.ssh(4, [
      `cd ${REPO} &&`, `SHOAL_HOME=${joinHome} SHOAL_VERSION_OVERRIDE=9.9.9-other`,
      `${process.execPath} ${BIN} start --address ${address} --token-file ${tokenFile} --host ${hostAddress(4)} --num-cpus 1 --object-store-memory 64MB`,
    ].join(' '));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('shoal version mismatch: this process runs 9.9.9-other (protocol');
    expect(r.stderr).toContain(`the head runs ${SHOAL_VERSION} (protocol`);
    expect(hosts.shoalProcessesIn(4)).toEqual([]);
    const s = await shoal(['status', '--address', address, '--token-file', tokenFile]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('Nodes: 2 alive');
  }, 120_000);

  it('down stops every process it started; the unreachable host is named; a second down finds nothing', async () => {
    const r = await shoal(['down', staticYaml]);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr).toContain(`cannot reach host ${NOBODY}`);
    expect(r.stdout).toMatch(/head +10\.213\.0\.11 +pid \d+: (stopped|killed)/);
    expect(noShoalLeft()).toEqual([]);
    expect(readdirSync(join(home, 'session-static')).filter((f) => f.endsWith('.token'))).toEqual([]);
    const reachable = writeYaml('static-reachable', yaml({ name: 'static', workers: [hostAddress(2), hostAddress(3)] }));
    const again = await shoal(['down', reachable]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Nothing of cluster static was running.');
  }, 240_000);

  it('the SSH node provider launches a worker for pending tasks and removes it when idle; status shows why', async () => {
    const file = writeYaml('auto', yaml({
      name: 'auto', port: HEAD_PORT + 1, workers: [hostAddress(2), hostAddress(3)], extra: 'min_workers: 0\nmax_workers: 2\nidle_timeout_s: 3\n',
    }));
    const r = await shoal(['up', file]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const rec = JSON.parse(readFileSync(join(home, 'clusters', 'auto', 'cluster.json'), 'utf8')) as { address: string; tokenFile: string };
    // The head's autoscaler got its own copy of the SSH key, readable by the owner only.
    expect(statSync(join(home, 'session-auto', 'ssh_key')).mode & 0o777).toBe(0o600);
    await init({ address: rec.address, tokenFile: rec.tokenFile });
    const results = await get([0, 1, 2].map((i) => step.remote(i, 200)), { timeoutMs: 90_000 });
    expect(results.map((x) => x.value)).toEqual([0, 1, 2].map((i) => (i * 2654435761) % 1_000_003));
    for (const x of results) expect([hostAddress(2), hostAddress(3)]).toContain(x.address);
    await shutdown();
    const status = (): Promise<CliResult> => shoal(['status', '--address', rec.address, '--token-file', rec.tokenFile]);
    const shrunk = await waitFor('idle workers removed', async () => {
      const s = await status();
      return /Nodes: 0 alive/.test(s.stdout) && /terminate .*idle for \d+ s \(idleTimeoutS 3\)/.test(s.stdout) ? s : undefined;
    }, 60_000, 1_000);
    expect(shrunk.stdout).toContain(`Autoscaler (ssh: ${hostAddress(2)}, ${hostAddress(3)}, 0..2 workers, idle timeout 3 s)`);
    expect(shrunk.stdout).toMatch(/launch +\S+ +\d+ task\(s\) wait for \{"CPU":1\}/);
    // Removed workers' processes are gone from their hosts.
    expect([2, 3].flatMap((i) => hosts.shoalProcessesIn(i))).toEqual([]);
    const d = await shoal(['down', file]);
    expect(d.code, d.stderr).toBe(0);
    expect(noShoalLeft()).toEqual([]);
    expect(existsSync(join(home, 'session-auto', 'ssh_key'))).toBe(false);
  }, 360_000);
});
