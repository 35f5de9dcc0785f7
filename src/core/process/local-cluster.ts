/**
 * Starting clusters of real processes on this host: what `init()` does with no address (a head and
 * a worker using all cores, tied to the driver's life), what `shoal start` does (detached), and what
 * the tests' TestCluster builds on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessStartError } from '../errors.js';
import type { HeadInfo, HeadOptions } from '../head/head.js';
import { runtimeEntry } from '../paths.js';
import { encodeConfig } from './process-entry.js';
import type { Resources } from '../wire/protocol.js';
import type { TlsOptions } from '../wire/transport.js';

/**
 * Environment of runtime processes unless the caller's sets it. A worker fills new memory for every
 * object it receives; where a page fault is costly (measured in a sandboxed VM here: copying 100 MB
 * into fresh memory ~40× slower than into touched memory), asking glibc to back its large blocks
 * with transparent huge pages (madvise; used when the host's THP mode is `madvise` or `always`)
 * takes 512× fewer faults. glibc < 2.35 ignores the tunable.
 */
const RUNTIME_ENV: Record<string, string> = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };

export interface ClusterProcess {
  child: ChildProcess;
  info: Record<string, unknown>;
}

export interface SpawnOptions {
  /** Kill the process when this one exits (stdin pipe). */
  attached: boolean;
  logFile: string;
  env?: Record<string, string> | undefined;
  /** Give up (and kill the process) when it has not said it is ready by then. @default no limit */
  readyTimeoutMs?: number | undefined;
}

/**
 * Spawns a runtime entry (config as base64url JSON in argv[2]) and waits for its `SHOAL_READY {json}`
 * line on stdout. stderr goes to `<logFile without .log>.err`. A process that exits first, or is not
 * ready within `readyTimeoutMs`, rejects with a ProcessStartError quoting its last stderr line.
 */
export function spawnEntry(entry: 'head-main.js' | 'worker-main.js', config: unknown, opts: SpawnOptions): Promise<ClusterProcess> {
  const role = entry.replace(/-main\.js$/, '');
  mkdirSync(join(opts.logFile, '..'), { recursive: true });
  const errFile = opts.logFile.replace(/\.log$/, '') + '.err';
  const errStart = existsSync(errFile) ? statSync(errFile).size : 0;
  const errFd = openSync(errFile, 'a');
  // SHOAL_NODE_ARGS passes extra flags to the runtime processes (e.g. `--cpu-prof` for profiling).
  const nodeArgs = (process.env.SHOAL_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, runtimeEntry(entry), encodeConfig(config)], {
    stdio: [opts.attached ? 'pipe' : 'ignore', 'pipe', errFd],
    detached: !opts.attached,
    env: { ...RUNTIME_ENV, ...process.env, SHOAL_LOG_FILE: opts.logFile, SHOAL_ROLE: role, ...opts.env },
  });
  closeSync(errFd);
  const failure = (reason: string, cause?: unknown): ProcessStartError => {
    const stderr = stderrSince(errFile, errStart);
    const last = stderr.trim().split('\n').filter(Boolean).pop()?.replace(`shoal ${role} failed to start: `, '');
    return new ProcessStartError(role, last ? `${reason}: ${last}` : reason, errFile, { cause, stderr });
  };
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = opts.readyTimeoutMs === undefined ? undefined : setTimeout(() => {
      stopWaiting();
      try {
        if (opts.attached) child.kill('SIGKILL');
        else process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      reject(failure(`it was not ready after ${opts.readyTimeoutMs! / 1000} s`));
    }, opts.readyTimeoutMs);
    const stopWaiting = (): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = /SHOAL_READY (.*)\n/.exec(buf);
      if (!m) return;
      stopWaiting();
      child.stdout!.resume();
      if (!opts.attached) {
        child.stdout!.destroy();
        child.unref();
      }
      resolve({ child, info: JSON.parse(m[1]!) });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      stopWaiting();
      reject(failure(signal ? `it was killed by ${signal} before it was ready` : `it exited with code ${code} before it was ready`));
    };
    const onError = (err: Error): void => {
      stopWaiting();
      reject(failure(err.message, err));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function stderrSince(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}

export interface LocalClusterOptions {
  /** CPUs of each worker process. @default all cores */
  numCpus?: number;
  /** Worker processes to start. @default 1 */
  numWorkers?: number;
  /** Object store memory per worker, bytes. @default 30% of free memory */
  objectStoreBytes?: number;
  /** Custom resources of every worker. */
  resources?: Resources;
  /**
   * Folder for logs, token and state. @default a new session folder under <tmp>/shoal, removed by
   * `stop()` when the cluster is attached (set SHOAL_KEEP_SESSION=1 to keep it for its logs)
   */
  dir?: string;
  host?: string;
  port?: number;
  tls?: TlsOptions;
  /** Tie the processes to this one's life. @default true */
  attached?: boolean;
  headOptions?: Partial<HeadOptions>;
}

export interface LocalCluster {
  head: HeadInfo;
  dir: string;
  processes: ClusterProcess[];
  addWorker(options?: { numCpus?: number; resources?: Resources; objectStoreBytes?: number }): Promise<ClusterProcess>;
  stop(): Promise<void>;
}

/**
 * A fresh folder for a local cluster's logs and state under <tmp>/shoal/, named after the process
 * that owns it (`session-<pid>-…`). Folders whose owner is gone (a driver that crashed or exited
 * without shutdown()) are swept here; folders of the older unnamed form go after a day.
 */
function newSessionDir(): string {
  const base = join(tmpdir(), 'shoal');
  mkdirSync(base, { recursive: true });
  const cutoff = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(base)) {
    const path = join(base, name);
    const owner = /^session-(\d+)-/.exec(name);
    try {
      if (owner ? !pidAlive(Number(owner[1])) : name.startsWith('session-') && statSync(path).mtimeMs < cutoff) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      /* raced with another process */
    }
  }
  return mkdtempSync(join(base, `session-${process.pid}-`));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const dir = options.dir ?? newSessionDir();
  // A session folder this call made goes with an attached cluster (its processes die with the owner anyway).
  const removeAtStop = options.dir === undefined && (options.attached ?? true) && process.env.SHOAL_KEEP_SESSION !== '1';
  mkdirSync(dir, { recursive: true });
  const attached = options.attached ?? true;
  const headConfig: HeadOptions & { watchParent: boolean } = {
    dir, host: options.host ?? '127.0.0.1', port: options.port ?? 0, tls: options.tls, watchParent: attached,
    ...options.headOptions,
  };
  const headProc = await spawnEntry('head-main.js', headConfig, { attached, logFile: join(dir, 'logs', 'head.log') });
  const head = headProc.info as unknown as HeadInfo;
  const processes: ClusterProcess[] = [headProc];
  let workerIndex = 0;
  const addWorker = async (w: { numCpus?: number; resources?: Resources; objectStoreBytes?: number } = {}): Promise<ClusterProcess> => {
    const index = workerIndex++;
    const numCpus = w.numCpus ?? options.numCpus ?? availableParallelism();
    const p = await spawnEntry('worker-main.js', {
      headAddress: head.address, tokenFile: head.tokenFile, tls: options.tls, host: options.host ?? '127.0.0.1',
      numCpus, memoryBytes: Math.round(freemem() * 0.7), resources: w.resources ?? options.resources,
      dir: join(dir, 'worker'), objectStoreBytes: w.objectStoreBytes ?? options.objectStoreBytes ?? Math.round(freemem() * 0.3),
      watchParent: attached,
    }, { attached, logFile: join(dir, 'logs', `worker-${index}.log`) });
    processes.push(p);
    return p;
  };
  const n = options.numWorkers ?? 1;
  for (let i = 0; i < n; i++) await addWorker();
  return {
    head, dir, processes, addWorker,
    async stop() {
      await Promise.all(processes.map((p) => stopProcess(p.child)));
      if (removeAtStop) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
