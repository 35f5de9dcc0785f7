/**
 * Running one task or actor call inside a thread: decode arguments (resolving top-level refs to
 * the dependency bytes the worker passed in), call the user's code, encode the result into shared
 * memory, and describe failures so `get()` can rethrow them typed on the caller's side.
 */
import { errorToWire, ShoalError, TaskError, type WireError } from './errors.js';
import { ArgPlaceholder, ObjectRef, refHooks } from './object-ref.js';
import { deserialize, serialize } from './serialization.js';

/** A task as a thread sees it. */
export interface ThreadTask {
  taskId: string;
  resultId: string;
  name: string;
  bundlePath: string;
  fnName: string;
  definedAt: string;
  method?: string | undefined;
  args: Uint8Array;
  depIds: string[];
  /** Bytes of each dependency, by object id (SharedArrayBuffer-backed when from the local store). */
  deps: Record<string, Uint8Array>;
}

export interface ThreadResult {
  taskId: string;
  bytes?: Uint8Array | undefined;
  nested?: string[] | undefined;
  error?: WireError | undefined;
  /** A failure of the runtime rather than of the user's code. */
  system?: boolean | undefined;
  durationMs: number;
}

export function decodeArgs(task: ThreadTask): unknown[] {
  const args = deserialize<unknown[]>(task.args);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a instanceof ArgPlaceholder) {
      const id = task.depIds[a.index]!;
      const bytes = task.deps[id];
      if (!bytes) throw new Error(`dependency ${id} of task ${task.name} was not delivered`);
      args[i] = deserialize(bytes);
    }
  }
  return args;
}

export function encodeResult(value: unknown): { bytes: Uint8Array; nested: string[] } {
  const nested: string[] = [];
  const prev = refHooks.onSerialize;
  refHooks.onSerialize = (ref: ObjectRef) => nested.push(ref.id);
  try {
    return { bytes: serialize(value, { shared: true, label: 'the return value' }), nested };
  } finally {
    refHooks.onSerialize = prev;
  }
}

/** Shoal's own errors keep their type; anything the user's code threw becomes a TaskError. */
export function describeFailure(err: unknown, task: ThreadTask): WireError {
  if (err instanceof ShoalError) return err.toWire();
  const w = errorToWire(err);
  return new TaskError(task.name, task.taskId, w.name, w.message, w.stack ?? '(no stack)', w.code === 'ERROR' ? undefined : w.code).toWire();
}

export async function runCall(task: ThreadTask, call: (args: unknown[]) => unknown): Promise<ThreadResult> {
  const started = performance.now();
  try {
    const args = decodeArgs(task);
    let value = call(args);
    if (value && typeof (value as Promise<unknown>).then === 'function') value = await (value as Promise<unknown>);
    const { bytes, nested } = encodeResult(value);
    return { taskId: task.taskId, bytes, nested, durationMs: performance.now() - started };
  } catch (err) {
    return { taskId: task.taskId, error: describeFailure(err, task), durationMs: performance.now() - started };
  }
}
