/**
 * What `ray list tasks` / `ray summary tasks` give, kept by the head as tasks finish: per function
 * (or `Class.method`) how many finished and failed and how long they ran, the slowest runs, and the
 * last failures with their remote stack. Finished tasks leave the scheduler's table at once, so
 * this is the only place their outcome is remembered. One map update per finished task: cheap
 * enough for the scheduler's hot path (the dashboard bench measures it under a task storm).
 */
import type { WireError } from '../errors.js';
import type { TaskKind } from '../wire/protocol.js';

/** Failures kept (the newest), and slowest runs kept. */
export const TASK_FAILURES_KEPT = 100;
export const SLOWEST_TASKS_KEPT = 20;
/** Jobs whose per-function counts are kept (the newest to finish a task). */
export const JOBS_KEPT = 200;

export interface TaskNameSummary {
  name: string;
  kind: TaskKind;
  finished: number;
  failed: number;
  /** Run time in the thread, summed over the runs that reported it. */
  totalMs: number;
  maxMs: number;
}

export interface TaskFailure {
  taskId: string;
  name: string;
  jobId: string;
  nodeId?: string | undefined;
  at: number;
  error: WireError;
}

export interface SlowTask { taskId: string; name: string; jobId: string; nodeId?: string | undefined; ms: number; at: number }

/** The finished side of the task table, for views (the running side is the scheduler's). */
export interface TaskSummaryView {
  byName: TaskNameSummary[];
  /** The same counts per job (the job page's tasks), for the newest {@link JOBS_KEPT} jobs. */
  byJob: Array<{ jobId: string; tasks: TaskNameSummary[] }>;
  failures: TaskFailure[];
  slowest: SlowTask[];
}

interface FinishedTask { spec: { taskId: string; name: string; jobId: string; kind: TaskKind }; nodeId?: string | undefined }

export class TaskSummary {
  private readonly byName = new Map<string, TaskNameSummary>();
  private readonly byJob = new Map<string, Map<string, TaskNameSummary>>();
  private readonly failures: TaskFailure[] = [];
  private slowest: SlowTask[] = [];
  private slowestFloorMs = 0;

  /** Records a finished task: `ms` is its run time in the thread, when the worker reported it. */
  record(t: FinishedTask, error: WireError | undefined, ms: number | undefined): void {
    const { spec } = t;
    const s = entry(this.byName, spec);
    let job = this.byJob.get(spec.jobId);
    if (!job) {
      this.byJob.set(spec.jobId, (job = new Map()));
      if (this.byJob.size > JOBS_KEPT) this.byJob.delete(this.byJob.keys().next().value!);
    }
    const js = entry(job, spec);
    if (error) {
      s.failed++;
      js.failed++;
      this.failures.push({ taskId: spec.taskId, name: spec.name, jobId: spec.jobId, nodeId: t.nodeId, at: Date.now(), error });
      if (this.failures.length > TASK_FAILURES_KEPT) this.failures.shift();
    } else {
      s.finished++;
      js.finished++;
    }
    if (ms === undefined) return;
    s.totalMs += ms;
    js.totalMs += ms;
    if (ms > s.maxMs) s.maxMs = ms;
    if (ms > js.maxMs) js.maxMs = ms;
    if (this.slowest.length >= SLOWEST_TASKS_KEPT && ms <= this.slowestFloorMs) return;
    this.slowest.push({ taskId: spec.taskId, name: spec.name, jobId: spec.jobId, nodeId: t.nodeId, ms, at: Date.now() });
    this.slowest.sort((a, b) => b.ms - a.ms);
    if (this.slowest.length > SLOWEST_TASKS_KEPT) this.slowest.length = SLOWEST_TASKS_KEPT;
    this.slowestFloorMs = this.slowest[this.slowest.length - 1]!.ms;
  }

  view(): TaskSummaryView {
    return {
      byName: [...this.byName.values()].map((s) => ({ ...s })),
      byJob: [...this.byJob].map(([jobId, tasks]) => ({ jobId, tasks: [...tasks.values()].map((s) => ({ ...s })) })),
      failures: [...this.failures],
      slowest: [...this.slowest],
    };
  }
}

function entry(by: Map<string, TaskNameSummary>, spec: FinishedTask['spec']): TaskNameSummary {
  let s = by.get(spec.name);
  if (!s) by.set(spec.name, (s = { name: spec.name, kind: spec.kind, finished: 0, failed: 0, totalMs: 0, maxMs: 0 }));
  return s;
}
