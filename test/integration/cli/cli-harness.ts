/**
 * Runs the built `shoal` command as a real process (`node bin/shoal.js ...`) with its own
 * SHOAL_HOME, and remembers every pid a test cluster recorded so cleanup can kill them even when
 * a test fails before `shoal stop`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'cli');
export const BIN = join(REPO_ROOT, 'bin', 'shoal.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ClusterRecordJson {
  address: string;
  tokenFile: string;
  dir: string;
  pids: number[];
  processes: Array<{ pid: number; role: 'head' | 'worker' }>;
}

export class CliHome {
  private home?: string;
  private readonly seenPids = new Set<number>();

  /** The SHOAL_HOME folder, made on first use (skipped tests leave nothing behind). */
  get dir(): string {
    this.home ??= mkdtempSync(join(tmpdir(), 'shoal-cli-test-'));
    return this.home;
  }

  /** Runs `shoal ...args`; never rejects on a non-zero exit. */
  run(args: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_HOME: this.dir, ...opts.env };
    for (const key of ['SHOAL_ADDRESS', 'SHOAL_TOKEN', 'SHOAL_TOKEN_FILE'] as const) if (!opts.env?.[key]) delete env[key];
    return new Promise((resolvePromise) => {
      execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, timeout: opts.timeoutMs ?? 45_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        this.remember();
        resolvePromise({ code, stdout, stderr });
      });
    });
  }

  record(): ClusterRecordJson | undefined {
    const file = join(this.dir, 'cluster.json');
    if (!existsSync(file)) return undefined;
    const rec = JSON.parse(readFileSync(file, 'utf8')) as ClusterRecordJson;
    for (const pid of rec.pids) this.seenPids.add(pid);
    return rec;
  }

  private remember(): void {
    this.record();
  }

  /** Every pid any cluster.json of this home listed. */
  get pids(): number[] {
    return [...this.seenPids];
  }

  /** Kills whatever is left (process groups: heads lead theirs, with their jobs) and deletes the home. */
  cleanup(): void {
    if (!this.home) return;
    this.remember();
    for (const pid of this.seenPids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
