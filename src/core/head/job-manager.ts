/**
 * Jobs: driver scripts the head runs on the cluster (`shoal submit`). The submitted script arrives
 * as a code bundle made by the CLI; the head runs it as a child process that connects back as a
 * driver, and keeps its output as the job's log.
 *
 * A job must outlive its head (a head killed and restarted takes its jobs back): each job runs under
 * a small runner in a process group of its own, writing straight to its log file; the runner records
 * the job's exit status in a file next to the log. A restarted head adopts the runners of the jobs
 * its store lists as running and watches them until they exit.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../errors.js';
import type { HeadStore, JobRecord } from './head-store.js';
import { newJobId } from '../ids.js';
import { log } from '../log.js';
import { makePrivateDir, openPrivateFile } from '../private-files.js';
import { pidAlive as alive } from '../process/pid-alive.js';

/** How often an adopted job's runner is checked for exit. */
const ADOPTED_POLL_MS = 250;

/** Runs the job's script, forwards stop signals to it, and writes its exit status (argv: exit file, script, args). */
const RUNNER = `
const { spawn } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const [exitFile, script, ...args] = process.argv.slice(1);
const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  writeFileSync(exitFile, JSON.stringify({ code, signal }), { mode: 0o600 });
  process.exit(code ?? 1);
});
`;

export interface JobSubmission {
  /** Path of the job's bundled entry script on the head host. */
  scriptPath: string;
  args: string[];
  env: Record<string, string>;
  /** How the user wrote it, for display. */
  entrypoint: string;
}

export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();
  /** Runner pids of the jobs running now (started here or adopted after a restart). */
  private readonly running = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: Pick<HeadStore, 'put'>,
    private readonly dir: string,
    private readonly driverEnv: () => Record<string, string>,
    stored: Iterable<JobRecord> = [],
    /** Called with a job each time its record changes (submitted, started, ended, stopped). */
    private readonly onChange: (job: JobRecord) => void = () => {},
  ) {
    makePrivateDir(dir, true);
    for (const job of [...stored].sort((a, b) => a.submittedAt - b.submittedAt)) {
      this.jobs.set(job.id, job);
      if (job.status === 'RUNNING' || job.status === 'PENDING') this.adopt(job);
    }
  }

  private save(job: JobRecord): void {
    this.jobs.set(job.id, job);
    this.store.put('job', job.id, job);
    this.onChange(job);
  }

  private exitFile(id: string): string {
    return join(this.dir, `${id}.exit`);
  }

  submit(sub: JobSubmission): JobRecord {
    const id = newJobId();
    const logFile = join(this.dir, `${id}.log`);
    const job: JobRecord = { id, status: 'PENDING', entrypoint: sub.entrypoint, submittedAt: Date.now(), logFile };
    this.save(job);
    const out = openPrivateFile(logFile, 'a');
    const child = spawn(process.execPath, ['-e', RUNNER, this.exitFile(id), sub.scriptPath, ...sub.args], {
      env: { ...process.env, ...sub.env, ...this.driverEnv(), SHOAL_JOB_ID: id, SHOAL_ROLE: 'job-driver' },
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    child.unref();
    const started: JobRecord = { ...job, status: 'RUNNING', startedAt: Date.now(), pid: child.pid };
    this.save(started);
    if (child.pid) this.running.set(id, child.pid);
    log.info({ jobId: id, entrypoint: sub.entrypoint, jobPid: child.pid }, 'job started');
    child.on('exit', (code, signal) => this.ended(id, code, signal));
    return started;
  }

  /** A job the previous head started: watch its runner, or settle it if it ended meanwhile. */
  private adopt(job: JobRecord): void {
    if (job.pid && alive(job.pid)) {
      this.running.set(job.id, job.pid);
      log.info({ jobId: job.id, jobPid: job.pid }, 'job of the previous head process still runs; watching it');
      const timer = setInterval(() => {
        if (alive(job.pid!)) return;
        clearInterval(timer);
        this.timers.delete(timer);
        this.ended(job.id, null, null);
      }, ADOPTED_POLL_MS);
      timer.unref();
      this.timers.add(timer);
      return;
    }
    this.ended(job.id, null, null);
  }

  /** Records the end of a job; without a code from a child 'exit', the runner's exit file says. */
  private ended(id: string, code: number | null, signal: NodeJS.Signals | null): void {
    this.running.delete(id);
    const current = this.jobs.get(id);
    if (!current) return;
    const file = this.exitFile(id);
    let known = code !== null || signal !== null;
    if (existsSync(file)) {
      try {
        const status = JSON.parse(readFileSync(file, 'utf8')) as { code: number | null; signal: NodeJS.Signals | null };
        ({ code, signal } = status);
        known = true;
      } catch {
        /* a runner killed while writing it: use what we have */
      }
    }
    const stopped = current.status === 'STOPPED';
    const status = stopped ? 'STOPPED' : known && code === 0 ? 'SUCCEEDED' : 'FAILED';
    const message = stopped ? 'stopped by stop-job'
      : !known ? 'its process ended while the head was down and left no exit status'
        : code === 0 ? undefined : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`;
    const done: JobRecord = { ...current, status, endedAt: Date.now(), exitCode: code ?? undefined, message };
    this.save(done);
    log.info({ jobId: id, status: done.status, code }, 'job ended');
  }

  list(): JobRecord[] {
    return [...this.jobs.values()];
  }

  get(id: string): JobRecord {
    const job = this.jobs.get(id);
    if (!job) throw new InvalidOptionError(`no job with id '${id}'`);
    return job;
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  stop(id: string): JobRecord {
    const job = this.get(id);
    const pid = this.running.get(id);
    if (!pid) return job;
    const stopped: JobRecord = { ...job, status: 'STOPPED' };
    this.save(stopped);
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.running.get(id) === pid) killGroup(pid, 'SIGKILL');
    }, 3000);
    timer.unref();
    return stopped;
  }

  /** Kills every job (the head is stopping on purpose). */
  stopAll(): void {
    for (const pid of this.running.values()) killGroup(pid, 'SIGKILL');
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
  }
}


/** Signals a runner's whole process group (the runner and the job's driver). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}
