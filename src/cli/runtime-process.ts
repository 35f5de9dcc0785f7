/**
 * Starting a head or worker as a detached background process that outlives the `shoal` command.
 *
 * Same convention as core's `spawnEntry` (config as base64url JSON in argv[2], `SHOAL_READY {json}`
 * on stdout once it serves), but it gives up after a timeout and turns a failure into a typed error
 * that quotes the process's stderr (EADDRINUSE becomes a PortInUseError naming the port). Folding
 * these into `spawnEntry` is open work.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT } from '../core/index.js';
import type { ProcessRole } from './cluster-record.js';
import { PortInUseError, ProcessStartError } from './errors.js';

/** How long `shoal start` waits for a process to say it is ready. */
export const READY_TIMEOUT_MS = 30_000;

export interface StartedProcess {
  pid: number;
  role: ProcessRole;
  logFile: string;
  errFile: string;
  /** What the entry announced (a head: HeadInfo; a worker: { nodeId }). */
  info: Record<string, unknown>;
}

export interface SpawnRuntimeOptions {
  logFile: string;
  env?: Record<string, string> | undefined;
  /** For a head: the port asked for, to name it if it is taken. */
  bind?: { host: string; port: number } | undefined;
  readyTimeoutMs?: number | undefined;
}

export function runtimeEntryPath(role: ProcessRole): string {
  const path = join(PACKAGE_ROOT, 'dist', 'src', 'core', `${role}-main.js`);
  if (!existsSync(path)) {
    throw new ProcessStartError(role, `its entry ${path} is missing: run \`npm run build\``, path);
  }
  return path;
}

export function spawnRuntime(role: ProcessRole, config: unknown, opts: SpawnRuntimeOptions): Promise<StartedProcess> {
  const entry = runtimeEntryPath(role);
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const errFile = opts.logFile.replace(/\.log$/, '') + '.err';
  const errStart = existsSync(errFile) ? statSync(errFile).size : 0;
  const errFd = openSync(errFile, 'a');
  const child = spawn(process.execPath, [entry, Buffer.from(JSON.stringify(config)).toString('base64url')], {
    stdio: ['ignore', 'pipe', errFd],
    detached: true,
    env: { ...process.env, SHOAL_LOG_FILE: opts.logFile, SHOAL_ROLE: role, ...opts.env },
  });
  closeSync(errFd);

  const failure = (reason: string): Error => {
    const stderr = readTail(errFile, errStart);
    if (opts.bind && /EADDRINUSE/.test(stderr)) return new PortInUseError(opts.bind.host, opts.bind.port);
    const last = stderr.trim().split('\n').filter(Boolean).pop();
    return new ProcessStartError(role, last ? `${reason}: ${last}` : reason, errFile);
  };

  return new Promise<StartedProcess>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      finish();
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      reject(failure(`it was not ready after ${(opts.readyTimeoutMs ?? READY_TIMEOUT_MS) / 1000} s`));
    }, opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      child.stdout!.destroy();
      child.unref();
    };
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = /SHOAL_READY (.*)\n/.exec(buf);
      if (!m) return;
      finish();
      resolve({ pid: child.pid!, role, logFile: opts.logFile, errFile, info: JSON.parse(m[1]!) as Record<string, unknown> });
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null): void => {
      finish();
      reject(failure(`it exited (${sig ? `signal ${sig}` : `code ${code}`}) before it was ready`));
    };
    const onError = (err: Error): void => {
      finish();
      reject(new ProcessStartError(role, err.message, errFile));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function readTail(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}
