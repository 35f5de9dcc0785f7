/**
 * The multi-host harness: a shoal cluster whose head and workers live on different "hosts" made of
 * Linux network namespaces (`cluster/netns-hosts.sh`): the head on host 1 bound to 10.213.0.11,
 * one worker on each of hosts 2..N bound to its own address, and this test process connected as
 * the driver from the root namespace over the bridge. Every byte between them crosses a veth, so
 * faults are real: SIGKILL a worker, take a host's link down, slow it down.
 *
 * The hosts have fixed names and addresses, so only one NetnsCluster may exist on the machine at a
 * time: `start()` takes an exclusive lock (`flock`, held by a child process, so a crashed run
 * releases it) and waits for it; vitest runs files in parallel. `stop()` never throws, kills every
 * process and removes the hosts; a process 'exit' hook does the same for a crashed or interrupted
 * run. Needs root and iproute2; `netnsUnavailable()` says why not.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterStatus, init, isInitialized, shutdown, type ClusterInfo } from 'shoal';
import { waitFor } from './test-cluster.js';

export { waitFor };

export type ClusterStatus = Awaited<ReturnType<typeof clusterStatus>>;

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The script that makes and removes the namespace hosts. */
export const HOSTS_SCRIPT = join(REPO, 'cluster', 'netns-hosts.sh');
const LOCK_FILE = '/run/lock/shoal-netns-hosts.lock';
const ENTRY_DIR = join(REPO, 'dist', 'src', 'core', 'process');

/** Address of namespace host `host` (1-based): 10.213.0.(10 + host). */
export const hostAddress = (host: number): string => `10.213.0.${10 + host}`;

export interface NetnsClusterOptions {
  /** Hosts to make: the head on host 1, a worker on each of the others. @default 3 */
  hosts?: number;
  /** CPUs of each worker. @default 1 */
  workerCpus?: number;
  /** Object store capacity of each worker, bytes; or per host number. @default 256 MiB */
  objectStoreBytes?: number | Record<number, number>;
  /** The head declares a silent node dead after this long. @default 3000 */
  nodeTimeoutMs?: number;
  /** Extra environment of the worker processes, per host number (e.g. `SHOAL_TRACE`). */
  workerEnv?: Record<number, Record<string, string>>;
  /** Extra environment of the head process. */
  headEnv?: Record<string, string>;
}

interface HostProcess {
  host: number;
  child: ChildProcess;
  info: Record<string, unknown>;
  errFile: string;
}

/** Why multi-host tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root)';
  for (const cmd of ['ip', 'tc', 'flock']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `\`${cmd}\` not found (Debian: apt-get install iproute2 util-linux)`;
  }
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.status !== 0) return `\`ip netns\` does not work here: ${probe.stderr.trim()}`;
  return undefined;
}

/** True when the kernel has tc netem (delay, loss); false e.g. on kernels built without sch_netem. */
export function netemAvailable(): boolean {
  return spawnSync(HOSTS_SCRIPT, ['has-netem']).status === 0;
}

function hostsScript(...args: string[]): void {
  execFileSync(HOSTS_SCRIPT, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const live = new Set<NetnsCluster>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.killAllNow();
  });
}

/** Holds the machine-wide lock on the namespace hosts until `release()` (or this process dies). */
export async function acquireLock(timeoutMs: number): Promise<{ release(): void }> {
  mkdirSync('/run/lock', { recursive: true });
  // flock holds the lock while `cat` runs; cat ends when our end of its stdin closes.
  const child = spawn('flock', ['-x', LOCK_FILE, 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`timed out after ${timeoutMs} ms waiting for ${LOCK_FILE} (another multi-host cluster is running)`));
    }, timeoutMs);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      ok();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`flock exited with code ${code}`));
    });
  });
  child.stdout.destroy();
  return {
    release() {
      child.stdin.end();
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Spawns a runtime entry inside host `host`'s namespace and waits for its SHOAL_READY line. */
function spawnInHost(host: number, entry: string, config: unknown, logFile: string, env: Record<string, string> = {}): Promise<HostProcess> {
  mkdirSync(join(logFile, '..'), { recursive: true });
  const errFile = logFile.replace(/\.log$/, '.err');
  const errFd = openSync(errFile, 'a');
  const encoded = Buffer.from(JSON.stringify(config)).toString('base64url');
  // `ip netns exec` execs node in place: the child's pid is node's, so kill() reaches it.
  const child = spawn('ip', ['netns', 'exec', `shoal-h${host}`, process.execPath, join(ENTRY_DIR, entry), encoded], {
    stdio: ['pipe', 'pipe', errFd],
    env: { ...process.env, SHOAL_LOG_FILE: logFile, ...env },
  });
  return new Promise((ok, fail) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = /SHOAL_READY (.*)\n/.exec(buf);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      ok({ host, child, info: JSON.parse(m[1]!) as Record<string, unknown>, errFile });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      let err = '';
      try {
        err = readFileSync(errFile, 'utf8').slice(-2000);
      } catch {
        /* no stderr */
      }
      fail(new Error(`${entry} on host ${host} exited (${signal ?? code}) before it was ready: ${err}`));
    });
    child.once('error', fail);
  });
}

export class NetnsCluster {
  driver?: ClusterInfo;
  readonly processes: HostProcess[] = [];
  private stopped = false;
  private lock?: { release(): void };

  private constructor(readonly dir: string, readonly options: Required<Pick<NetnsClusterOptions, 'hosts' | 'workerCpus' | 'nodeTimeoutMs'>> & NetnsClusterOptions) {}

  /**
   * Makes the hosts, starts the head on host 1 and a worker on each other host, connects this
   * process as the driver and waits until the head lists every worker.
   */
  static async start(options: NetnsClusterOptions = {}): Promise<NetnsCluster> {
    const reason = netnsUnavailable();
    if (reason) throw new Error(`NetnsCluster: ${reason}`);
    installExitHook();
    const hosts = options.hosts ?? 3;
    if (!Number.isInteger(hosts) || hosts < 2) throw new Error('options.hosts must be an integer >= 2');
    const base = join(tmpdir(), 'shoal');
    mkdirSync(base, { recursive: true });
    const nc = new NetnsCluster(mkdtempSync(join(base, 'netns-')), {
      ...options, hosts, workerCpus: options.workerCpus ?? 1, nodeTimeoutMs: options.nodeTimeoutMs ?? 3000,
    });
    live.add(nc);
    try {
      nc.lock = await acquireLock(240_000);
      hostsScript('up', String(hosts));
      const head = await spawnInHost(1, 'head-main.js', {
        dir: nc.dir, host: hostAddress(1), port: 0, metricsPort: -1, nodeTimeoutMs: nc.options.nodeTimeoutMs, watchParent: true,
      }, join(nc.dir, 'logs', 'head.log'), options.headEnv);
      nc.processes.push(head);
      const workers = [];
      for (let h = 2; h <= hosts; h++) workers.push(nc.startWorker(h));
      await Promise.all(workers);
      nc.driver = await init({ address: nc.headAddress, tokenFile: nc.tokenFile });
      await nc.waitForNodes(hosts - 1, 20_000);
    } catch (err) {
      await nc.stop();
      throw err;
    }
    return nc;
  }

  private async startWorker(host: number): Promise<void> {
    const store = this.options.objectStoreBytes;
    const objectStoreBytes = typeof store === 'number' ? store : (store?.[host] ?? 256 * 2 ** 20);
    const p = await spawnInHost(host, 'worker-main.js', {
      headAddress: this.headAddress, tokenFile: this.tokenFile, host: hostAddress(host), numCpus: this.options.workerCpus,
      memoryBytes: 2 * 2 ** 30, dir: join(this.dir, `worker-h${host}`), objectStoreBytes, watchParent: true,
    }, join(this.dir, 'logs', `worker-h${host}.log`), this.options.workerEnv?.[host]);
    this.processes.push(p);
  }

  get headAddress(): string {
    return String(this.processes[0]!.info.address);
  }

  get tokenFile(): string {
    return String(this.processes[0]!.info.tokenFile);
  }

  private worker(host: number): HostProcess {
    const p = this.processes.find((x) => x.host === host && x.host !== 1);
    if (!p) throw new Error(`no worker on host ${host} (workers are on hosts 2..${this.options.hosts})`);
    return p;
  }

  /** Node id of the worker on host `host` (2..hosts). */
  nodeId(host: number): string {
    return String(this.worker(host).info.nodeId);
  }

  /** Pid of the worker process on host `host`. */
  workerPid(host: number): number {
    return this.worker(host).child.pid!;
  }

  /** What the worker on host `host` wrote to stderr (traces, warnings). */
  workerStderr(host: number): string {
    return readFileSync(this.worker(host).errFile, 'utf8');
  }

  /** SIGKILLs the worker process on host `host` and waits until it is gone. */
  async killWorker(host: number): Promise<void> {
    const { child } = this.worker(host);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Takes host `host`'s link down (its processes keep running, unreachable). */
  linkDown(host: number): void {
    hostsScript('link', String(host), 'down');
  }

  linkUp(host: number): void {
    hostsScript('link', String(host), 'up');
  }

  /** Adds `ms` of delay to host `host`'s traffic both ways (tc netem; see `netemAvailable()`). */
  delay(host: number, ms: number): void {
    hostsScript('delay', String(host), String(ms));
  }

  /** Caps host `host`'s bandwidth both ways (tc tbf), e.g. `'20mbit'`. */
  rate(host: number, rate: string): void {
    hostsScript('rate', String(host), rate);
  }

  /**
   * The root qdisc's counters on host `host`'s eth0 (its egress), from `tc -s qdisc`: bytes sent and
   * overlimits (packets that had to wait for a rate cap's tokens: proof a cap really shaped traffic).
   */
  qdiscStats(host: number): { sentBytes: number; overlimits: number; kind: string } {
    const out = execFileSync('ip', ['netns', 'exec', `shoal-h${host}`, 'tc', '-s', 'qdisc', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
    const kind = /qdisc (\S+)/.exec(out)?.[1] ?? '';
    const sent = /Sent (\d+) bytes .*overlimits (\d+)/.exec(out);
    return { kind, sentBytes: Number(sent?.[1] ?? 0), overlimits: Number(sent?.[2] ?? 0) };
  }

  /** Removes delay, loss and rate caps of host `host`. */
  clear(host: number): void {
    hostsScript('clear', String(host));
  }

  /** The head's view: nodes, tasks, actors, jobs. */
  status(): Promise<ClusterStatus> {
    return clusterStatus();
  }

  /** Waits until the head lists exactly `n` alive nodes. */
  waitForNodes(n: number, timeoutMs = 15_000): Promise<ClusterStatus> {
    return waitFor(`${n} alive node(s)`, async () => {
      const s = await this.status();
      return s.nodes.filter((x) => x.alive).length === n ? s : undefined;
    }, timeoutMs);
  }

  /** Disconnects the driver, kills every process, removes the hosts; never throws, safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (isInitialized()) await Promise.race([shutdown(), new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      /* keep stopping */
    }
    this.killAllNow();
    const exits = this.processes
      .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
      .map((p) => new Promise<void>((ok) => {
        p.child.once('exit', () => ok());
        setTimeout(ok, 2000).unref();
      }));
    await Promise.all(exits);
    live.delete(this);
    // SHOAL_TEST_KEEP_DIRS=1 keeps the cluster's folder (logs of head and workers) for a post-mortem.
    if (!process.env.SHOAL_TEST_KEEP_DIRS) await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Synchronous: SIGKILLs every process, removes the hosts, releases the lock (the exit hook's part). */
  killAllNow(): void {
    for (const p of this.processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        try {
          p.child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    if (this.lock) {
      try {
        hostsScript('down');
      } catch {
        /* nothing more to do */
      }
      this.lock.release();
      this.lock = undefined;
    }
  }
}
