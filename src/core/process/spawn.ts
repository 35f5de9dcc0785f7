/**
 * Spawning shoal's runtime processes (a head or a worker entry) and stopping them. Apart from
 * local-cluster.ts so that what spawns workers (the autoscaler, the CLI) does not depend on the
 * head (local-cluster knows the head's options; the head runs the autoscaler).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessStartError } from '../errors.js';
import { runtimeEntry } from '../paths.js';
import { encodeConfig } from './process-entry.js';
import { makePrivateDir, openPrivateFile } from '../private-files.js';

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
  makePrivateDir(join(opts.logFile, '..'));
  const errFile = opts.logFile.replace(/\.log$/, '') + '.err';
  const errStart = existsSync(errFile) ? statSync(errFile).size : 0;
  const errFd = openPrivateFile(errFile, 'a');
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
