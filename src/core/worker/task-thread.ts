/**
 * Entry of the piscina threads that run tasks. Each call receives a batch of tasks (the worker
 * batches to amortize the per-message cost of thread hand-off) and runs them one after another.
 */
import { resolveDefinition } from '../api/definitions.js';
import { executionContext, packResults, runCall, unpackTasks, type PackedBatch, type ThreadResult } from './execution.js';

process.setSourceMapsEnabled(true);
process.env.SHOAL_IN_WORKER = '1';

export default async function runBatch(batch: PackedBatch): Promise<PackedBatch> {
  const results: ThreadResult[] = [];
  for (const task of unpackTasks(batch)) {
    let fn: (...args: unknown[]) => unknown;
    try {
      fn = (await resolveDefinition(task.bundlePath, task.fnName, 'function', task.definedAt, task.builtin)).target;
    } catch (err) {
      results.push(await runCall(task, () => {
        throw err;
      }));
      continue;
    }
    executionContext.taskId = task.taskId;
    try {
      results.push(await runCall(task, (args) => fn(...args)));
    } finally {
      executionContext.taskId = undefined;
    }
  }
  // One buffer of packed results (plus any shared-memory results beside it).
  return packResults(results);
}
