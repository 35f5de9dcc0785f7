/**
 * Checking and stopping processes recorded in cluster.json. A pid is only signalled while it still
 * runs the shoal entry it was recorded with (on Linux, read from /proc), so a pid the system has
 * since reused for something else is left alone.
 */
import { readFileSync } from 'node:fs';
import { pidAlive } from '../core/index.js';
import type { ProcessRole, RecordedProcess } from './cluster-record.js';

/** Seconds `stop` waits after SIGTERM before it sends SIGKILL. */
export const STOP_GRACE_MS = 5_000;
const POLL_MS = 100;

/** True when `pid` runs this role's shoal entry (or when that cannot be checked). */
export function isShoalProcess(pid: number, role: ProcessRole): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${role}-main.js`);
  } catch {
    return true;
  }
}

export type StopOutcome = 'stopped' | 'killed' | 'not-running' | 'not-shoal';

/**
 * SIGTERM, then SIGKILL to the process group after `graceMs` (the processes were started detached,
 * so each leads a group that holds its job drivers too).
 */
export async function stopRecordedProcesses(
  processes: readonly RecordedProcess[],
  graceMs = STOP_GRACE_MS,
): Promise<Map<RecordedProcess, StopOutcome>> {
  const outcome = new Map<RecordedProcess, StopOutcome>();
  const waiting: RecordedProcess[] = [];
  for (const p of processes) {
    if (!pidAlive(p.pid)) outcome.set(p, 'not-running');
    else if (!isShoalProcess(p.pid, p.role)) outcome.set(p, 'not-shoal');
    else {
      signal(p.pid, 'SIGTERM');
      waiting.push(p);
    }
  }
  const deadline = Date.now() + graceMs;
  while (waiting.some((p) => pidAlive(p.pid)) && Date.now() < deadline) await sleep(POLL_MS);
  for (const p of waiting) {
    if (pidAlive(p.pid)) {
      signal(-p.pid, 'SIGKILL');
      signal(p.pid, 'SIGKILL');
      outcome.set(p, 'killed');
    } else {
      outcome.set(p, 'stopped');
    }
  }
  return outcome;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already, or not a group leader */
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
