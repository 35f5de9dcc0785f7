/**
 * Namespace hosts (cluster/netns-hosts.sh) each running a real OpenSSH server, for testing
 * `shoal up` / `shoal down` and the SSH node provider: host I is 10.213.0.(10+I) and runs
 * `sshd -D -f <temp config>` inside its namespace, with a host key generated for the run and one
 * authorized client key (`clientKey`), root login by key only.
 *
 * Holds the same machine-wide lock as NetnsCluster (the hosts have fixed names); `stop()` never
 * throws, kills every process left in the namespaces (sshd and whatever `shoal up` started) and
 * removes the hosts. Needs root, iproute2 and openssh-server; `sshdUnavailable()` says why not.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, hostAddress, HOSTS_SCRIPT, netnsUnavailable } from './netns-cluster.js';
import { waitFor } from './test-cluster.js';

export { hostAddress };

const SSHD = '/usr/sbin/sshd';

/** Why sshd-in-namespace tests cannot run here, or undefined when they can. */
export function sshdUnavailable(): string | undefined {
  const netns = netnsUnavailable();
  if (netns) return netns;
  for (const cmd of [SSHD, 'ssh', 'ssh-keygen']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `\`${cmd}\` not found (Debian: apt-get install openssh-server openssh-client)`;
  }
  return undefined;
}

export class SshHosts {
  private readonly sshd = new Map<number, ChildProcess>();
  private lock?: { release(): void };
  private stopped = false;

  private constructor(readonly dir: string, readonly hosts: number) {}

  /** The private key every host accepts for root. */
  get clientKey(): string {
    return join(this.dir, 'id_ed25519');
  }

  /** Makes hosts 1..`hosts` and starts sshd in each; waits until each accepts a login. */
  static async start(hosts: number): Promise<SshHosts> {
    const reason = sshdUnavailable();
    if (reason) throw new Error(`SshHosts: ${reason}`);
    const base = join(tmpdir(), 'shoal');
    mkdirSync(base, { recursive: true });
    const h = new SshHosts(mkdtempSync(join(base, 'sshd-')), hosts);
    process.once('exit', () => h.killAllNow());
    try {
      h.lock = await acquireLock(240_000);
      execFileSync(HOSTS_SCRIPT, ['up', String(hosts)], { stdio: ['ignore', 'ignore', 'pipe'] });
      chmodSync(h.dir, 0o700);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'shoal-test-host', '-f', join(h.dir, 'host_key')]);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'shoal-test-client', '-f', h.clientKey]);
      execFileSync('cp', [`${h.clientKey}.pub`, join(h.dir, 'authorized_keys')]);
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
      for (let i = 1; i <= hosts; i++) h.startSshd(i);
      for (let i = 1; i <= hosts; i++) {
        await waitFor(`sshd on host ${i}`, async () => (h.ssh(i, 'true').status === 0 ? true : undefined), 15_000, 200);
      }
    } catch (err) {
      await h.stop();
      throw err;
    }
    return h;
  }

  private startSshd(i: number): void {
    const config = join(this.dir, `sshd-h${i}.conf`);
    writeFileSync(config, [
      `ListenAddress ${hostAddress(i)}`, 'Port 22', `HostKey ${join(this.dir, 'host_key')}`, `PidFile ${join(this.dir, `sshd-h${i}.pid`)}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'LogLevel ERROR', 'MaxStartups 50', '',
    ].join('\n'));
    const child = spawn('ip', ['netns', 'exec', `shoal-h${i}`, SSHD, '-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', () => undefined);
    this.sshd.set(i, child);
  }

  /** Runs `command` on host `i` over SSH as root with the client key (synchronously). */
  ssh(i: number, command: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ssh', [
      '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${join(this.dir, 'known_hosts')}`,
      '-o', 'LogLevel=ERROR', '-i', this.clientKey, `root@${hostAddress(i)}`, command,
    ], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Shoal processes (a `*-main.js` entry) running in host `i`'s namespace, as "pid: command line". */
  shoalProcessesIn(i: number): string[] {
    const pids = spawnSync('ip', ['netns', 'pids', `shoal-h${i}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    const out: string[] = [];
    for (const p of pids) {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        if (cmd.includes('-main.js')) out.push(`${p}: ${cmd.slice(0, 120)}`);
      } catch {
        /* exited meanwhile */
      }
    }
    return out;
  }

  linkDown(i: number): void {
    execFileSync(HOSTS_SCRIPT, ['link', String(i), 'down']);
  }

  linkUp(i: number): void {
    execFileSync(HOSTS_SCRIPT, ['link', String(i), 'up']);
  }

  /** Kills every process in the namespaces, removes the hosts and releases the lock; never throws. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.killAllNow();
    if (!process.env.SHOAL_TEST_KEEP_DIRS) await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  killAllNow(): void {
    for (const c of this.sshd.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (!this.lock) return;
    try {
      execFileSync(HOSTS_SCRIPT, ['down'], { stdio: 'ignore' });
    } catch {
      /* nothing more to do */
    }
    this.lock.release();
    this.lock = undefined;
  }
}
