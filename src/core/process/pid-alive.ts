import { readFileSync } from 'node:fs';

/**
 * True while a process with this pid runs. EPERM means it exists but belongs to another user; a
 * zombie (exited, not yet reaped) counts as gone. Without /proc (macOS), kill(pid, 0) is all we know.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
