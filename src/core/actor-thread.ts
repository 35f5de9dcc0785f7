/**
 * Entry of an actor's own thread: builds the instance from the actor class, then serves method
 * calls in arrival order, up to `maxConcurrency` at once (async methods interleave at awaits).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { resolveDefinition } from './definitions.js';
import { ActorMethodNotFoundError } from './errors.js';
import { runCall, type ThreadResult, type ThreadTask } from './execution.js';

process.setSourceMapsEnabled(true);
process.env.SHOAL_IN_WORKER = '1';

export type ActorThreadIn = { type: 'create'; task: ThreadTask } | { type: 'call'; task: ThreadTask };
export type ActorThreadOut = { type: 'result'; result: ThreadResult };

const { maxConcurrency, actorName } = workerData as { maxConcurrency: number; actorName: string };
let instance: Record<string, unknown> | undefined;
const queue: ThreadTask[] = [];
let running = 0;

function reply(result: ThreadResult): void {
  const transfer: ArrayBuffer[] = [];
  parentPort!.postMessage({ type: 'result', result } satisfies ActorThreadOut, transfer);
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
    queue.push(msg.task);
    pump();
  }
});
