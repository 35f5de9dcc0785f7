/** The head's finished-task summary: counts by function overall and per job, the newest jobs kept. */
import { describe, expect, it } from 'vitest';
import { JOBS_KEPT, TaskSummary } from '../../../../src/core/head/task-summary.js';

const finished = (jobId: string, name: string, n: number) => ({ spec: { taskId: `t-${jobId}-${name}-${n}`, name, jobId, kind: 'task' as const }, nodeId: 'n-a' });
const failure = { name: 'TaskError', code: 'TASK_FAILED', message: 'boom' };

describe('TaskSummary', () => {
  it("counts each job's tasks by function apart from the other jobs', beside the totals", () => {
    const s = new TaskSummary();
    s.record(finished('j1', 'square', 1), undefined, 4);
    s.record(finished('j1', 'square', 2), undefined, 6);
    s.record(finished('j1', 'explode', 3), failure, 1);
    s.record(finished('j2', 'square', 4), undefined, 10);
    const v = s.view();
    expect(v.byName.find((t) => t.name === 'square')).toMatchObject({ finished: 3, failed: 0, totalMs: 20, maxMs: 10 });
    const j1 = v.byJob.find((j) => j.jobId === 'j1')!.tasks;
    expect(j1.find((t) => t.name === 'square')).toMatchObject({ finished: 2, failed: 0, totalMs: 10, maxMs: 6 });
    expect(j1.find((t) => t.name === 'explode')).toMatchObject({ finished: 0, failed: 1, totalMs: 1 });
    expect(v.byJob.find((j) => j.jobId === 'j2')!.tasks).toEqual([{ name: 'square', kind: 'task', finished: 1, failed: 0, totalMs: 10, maxMs: 10 }]);
  });

  it(`keeps the per-job counts of the newest ${JOBS_KEPT} jobs only`, () => {
    const s = new TaskSummary();
    for (let j = 0; j <= JOBS_KEPT; j++) s.record(finished(`j${j}`, 'f', j), undefined, 1);
    const jobs = s.view().byJob.map((j) => j.jobId);
    expect(jobs).toHaveLength(JOBS_KEPT);
    expect(jobs).not.toContain('j0');
    expect(jobs).toContain(`j${JOBS_KEPT}`);
    expect(s.view().byName[0]!.finished).toBe(JOBS_KEPT + 1);
  });
});
