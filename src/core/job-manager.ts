/**
 * Jobs: driver scripts the head runs on the cluster (`shoal submit`). The submitted script arrives
 * as a code bundle made by the CLI; the head runs it as a child process that connects back as a
 * driver, and keeps its output as the job's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionsError } from './errors.js';
import type { HeadStore, JobRecord } from './head-store.js';
import { newJobId } from './ids.js';
import { log } from './log.js';

export interface JobSubmission {
  /** Path of the job's bundled entry script on the head host. */
  scriptPath: string;
  args: string[];
  env: Record<string, string>;
  /** How the user wrote it, for display. */
  entrypoint: string;
}

export class JobManager {
  private readonly running = new Map<string, ChildProcess>();

  constructor(
    private readonly store: HeadStore,
    private readonly dir: string,
    private readonly driverEnv: () => Record<string, string>,
  ) {
    mkdirSync(dir, { recursive: true });
    // Jobs recorded as running by a previous head process did not survive it.
    for (const job of store.listJobs()) {
      if (job.status === 'RUNNING' || job.status === 'PENDING') {
        store.saveJob({ ...job, status: 'FAILED', endedAt: Date.now(), message: 'the head restarted while the job ran' });
      }
    }
  }

  submit(sub: JobSubmission): JobRecord {
    const id = newJobId();
    const logFile = join(this.dir, `${id}.log`);
    const job: JobRecord = { id, status: 'PENDING', entrypoint: sub.entrypoint, submittedAt: Date.now(), logFile };
    this.store.saveJob(job);
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, [sub.scriptPath, ...sub.args], {
      env: { ...process.env, ...sub.env, ...this.driverEnv(), SHOAL_JOB_ID: id, SHOAL_ROLE: 'job-driver' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    this.running.set(id, child);
    job.status = 'RUNNING';
    job.startedAt = Date.now();
    job.pid = child.pid;
    this.store.saveJob(job);
    log.info({ jobId: id, entrypoint: sub.entrypoint, pid: child.pid }, 'job started');
    child.on('exit', (code, signal) => {
      this.running.delete(id);
      const current = this.store.getJob(id) ?? job;
      const stopped = current.status === 'STOPPED';
      const done: JobRecord = {
        ...current,
        status: stopped ? 'STOPPED' : code === 0 ? 'SUCCEEDED' : 'FAILED',
        endedAt: Date.now(),
        exitCode: code ?? undefined,
        message: stopped ? 'stopped by stop-job' : code === 0 ? undefined : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`,
      };
      this.store.saveJob(done);
      setTimeout(() => out.end(), 50);
      log.info({ jobId: id, status: done.status, code }, 'job ended');
    });
    return job;
  }

  list(): JobRecord[] {
    return this.store.listJobs();
  }

  get(id: string): JobRecord {
    const job = this.store.getJob(id);
    if (!job) throw new InvalidOptionsError(`no job with id '${id}'`);
    return job;
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  stop(id: string): JobRecord {
    const job = this.get(id);
    const child = this.running.get(id);
    if (!child) return job;
    this.store.saveJob({ ...job, status: 'STOPPED' });
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => clearTimeout(timer));
    return { ...job, status: 'STOPPED' };
  }

  stopAll(): void {
    for (const child of this.running.values()) child.kill('SIGKILL');
  }
}
