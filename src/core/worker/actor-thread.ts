/**
 * Entry of an actor's own thread: builds the instance from the actor class, then serves method
 * calls in arrival order, up to `maxConcurrency` at once (async methods interleave at awaits).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { resolveDefinition } from '../api/definitions.js';
import { ActorMethodNotFoundError } from '../errors.js';
import { packResults, runCall, unpackTasks, type PackedBatch, type ThreadResult, type ThreadTask } from './execution.js';

process.setSourceMapsEnabled(true);
process.env.SHOAL_IN_WORKER = '1';

/** Calls arrive in batches, results leave in batches: per-message cost dominates small calls. */
export type ActorThreadIn = { type: 'create'; task: ThreadTask } | { type: 'calls'; batch: PackedBatch };
export type ActorThreadOut = { type: 'results'; batch: PackedBatch };

const { maxConcurrency, actorName } = workerData as { maxConcurrency: number; actorName: string };
let instance: Record<string, unknown> | undefined;
const queue: ThreadTask[] = [];
let running = 0;

let outbox: ThreadResult[] = [];
let flushScheduled = false;

function reply(result: ThreadResult): void {
  outbox.push(result);
  if (flushScheduled) return;
  flushScheduled = true;
  // After this turn's other calls finish too, so their results leave together.
  setImmediate(() => {
    flushScheduled = false;
    const batch = packResults(outbox);
    outbox = [];
    parentPort!.postMessage({ type: 'results', batch } satisfies ActorThreadOut, [batch.packed.buffer as ArrayBuffer]);
  });
}

async function create(task: ThreadTask): Promise<void> {
  let Cls: new (...args: unknown[]) => Record<string, unknown>;
  try {
    Cls = (await resolveDefinition(task.bundlePath, task.fnName, 'actor', task.definedAt, task.builtin)).target as unknown as typeof Cls;
  } catch (err) {
    reply(await runCall(task, () => {
      throw err;
    }));
    return;
  }
  reply(await runCall(task, (args) => {
    instance = new Cls(...args);
    return null;
  }));
  pump();
}

function pump(): void {
  while (instance && running < maxConcurrency && queue.length) {
    const task = queue.shift()!;
    running++;
    void runCall(task, (args) => {
      const method = instance![task.method!];
      if (typeof method !== 'function') {
        const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(instance)).filter((m) => m !== 'constructor');
        throw new ActorMethodNotFoundError(actorName, task.method!, methods);
      }
      return (method as (...a: unknown[]) => unknown).apply(instance, args);
    }).then((result) => {
      running--;
      reply(result);
      pump();
    });
  }
}

parentPort!.on('message', (msg: ActorThreadIn) => {
  if (msg.type === 'create') void create(msg.task);
  else {
    for (const task of unpackTasks(msg.batch)) queue.push(task);
    pump();
  }
});
