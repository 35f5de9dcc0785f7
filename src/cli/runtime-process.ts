/**
 * Starting a head or worker as a detached background process that outlives the `shoal` command:
 * core's `spawnEntry` (detached) with a ready timeout, and EADDRINUSE in a head's stderr turned into
 * a PortInUseError naming the port.
 */
import { ProcessStartError, runtimeEntry, spawnEntry } from '../core/index.js';
import type { ProcessRole } from './cluster-record.js';
import { PortInUseError } from './errors.js';

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

/** The compiled entry of a role; a ProcessStartError when dist/ has not been built. */
export function runtimeEntryPath(role: ProcessRole): string {
  try {
    return runtimeEntry(`${role}-main.js`);
  } catch (err) {
    throw new ProcessStartError(role, (err as Error).message, '(not started)', { cause: err });
  }
}

export async function spawnRuntime(role: ProcessRole, config: unknown, opts: SpawnRuntimeOptions): Promise<StartedProcess> {
  runtimeEntryPath(role);
  try {
    const { child, info } = await spawnEntry(`${role}-main.js`, config, {
      attached: false,
      logFile: opts.logFile,
      env: opts.env,
      readyTimeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
    return { pid: child.pid!, role, logFile: opts.logFile, errFile: errFileOf(opts.logFile), info };
  } catch (err) {
    if (opts.bind && err instanceof ProcessStartError && /EADDRINUSE/.test(err.stderr)) {
      throw new PortInUseError(opts.bind.host, opts.bind.port, { cause: err });
    }
    throw err;
  }
}

function errFileOf(logFile: string): string {
  return logFile.replace(/\.log$/, '') + '.err';
}
