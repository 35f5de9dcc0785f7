/**
 * Running one task or actor call inside a thread: decode arguments (resolving top-level refs to
 * the dependency bytes the worker passed in), call the user's code, encode the result into shared
 * memory, and describe failures so `get()` can rethrow them typed on the caller's side.
 */
import { errorToWire, ShoalError, TaskError, type WireError } from '../errors.js';
import { ArgPlaceholder, ObjectRef, refHooks } from '../api/object-ref.js';
import { INLINE_OBJECT_MAX_BYTES } from '../constants.js';
import { deserialize, packMessage, serialize, unpackMessage } from '../wire/serialization.js';

/** A task as a thread sees it. */
export interface ThreadTask {
  taskId: string;
  resultId: string;
  name: string;
  bundlePath: string;
  /** The function is built into shoal (bundlePath is a module of the installed package). */
  builtin?: boolean | undefined;
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

/** Set by the API layer: waits until what a call sent through the thread's own session left. */
export const afterCall: { settle: () => Promise<void> | void } = { settle: () => undefined };

/** The pool task this thread is running now (tasks of a batch run one after another). */
export const executionContext: { taskId?: string | undefined } = {};

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
    // Large results go to shared memory (the worker's store keeps them without a copy); small ones
    // travel inline and are cheaper as ordinary buffers.
    return { bytes: serialize(value, { shared: true, sharedAbove: INLINE_OBJECT_MAX_BYTES, label: 'the return value' }), nested };
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
    await afterCall.settle();
    const { bytes, nested } = encodeResult(value);
    return { taskId: task.taskId, bytes, nested, durationMs: performance.now() - started };
  } catch (err) {
    return { taskId: task.taskId, error: describeFailure(err, task), durationMs: performance.now() - started };
  }
}

/**
 * A batch as it crosses to a thread: small fields packed into one transferred buffer (a structured
 * clone of many small objects costs more than msgpack), shared-memory byte arrays beside it (they
 * are shared, not copied, by postMessage).
 */
export interface PackedBatch {
  packed: Uint8Array;
  shared: Array<[index: number, key: string, bytes: Uint8Array]>;
}

const isShared = (b: Uint8Array | undefined): b is Uint8Array => !!b && b.buffer instanceof SharedArrayBuffer;

export function packTasks(tasks: ThreadTask[]): PackedBatch {
  const shared: PackedBatch['shared'] = [];
  const plain = tasks.map((t, i) => {
    let deps = t.deps;
    for (const id in t.deps) {
      if (isShared(t.deps[id])) {
        if (deps === t.deps) deps = { ...t.deps };
        shared.push([i, id, t.deps[id]!]);
        delete deps[id];
      }
    }
    return deps === t.deps ? t : { ...t, deps };
  });
  return { packed: Uint8Array.prototype.slice.call(packMessage(plain)), shared };
}

export function unpackTasks(batch: PackedBatch): ThreadTask[] {
  const tasks = unpackMessage<ThreadTask[]>(batch.packed);
  for (const [i, id, bytes] of batch.shared) tasks[i]!.deps[id] = bytes;
  return tasks;
}

export function packResults(results: ThreadResult[]): PackedBatch {
  const shared: PackedBatch['shared'] = [];
  const plain = results.map((r, i) => {
    if (!isShared(r.bytes)) return r;
    shared.push([i, 'bytes', r.bytes]);
    return { ...r, bytes: undefined };
  });
  return { packed: Uint8Array.prototype.slice.call(packMessage(plain)), shared };
}

export function unpackResults(batch: PackedBatch): ThreadResult[] {
  const results = unpackMessage<ThreadResult[]>(batch.packed);
  for (const [i, , bytes] of batch.shared) results[i]!.bytes = bytes;
  return results;
}
