/**
 * Failures of user code and user input on a real cluster: a task's own error, values that cannot be
 * serialized, definitions workers cannot find, out-of-memory tasks, and a task calling process.exit.
 */
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actor, get, OutOfMemoryError, remote, RemoteDefinitionError, SerializationError, ShoalError, TaskError } from 'shoal';
import { TestCluster } from '../../harness/test-cluster.js';
import { exits, hog, makeInner, ok, returnsFunction, takesAnything, throwsTypeError, throwsWithCode } from '../../fixtures/core/index.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
});
afterAll(async () => {
  await tc?.stop();
});

describe('a task that throws', () => {
  it('get() rejects with a TaskError carrying the task name, the cause and the remote stack', async () => {
    const err = await get(throwsTypeError.remote('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect(err).toBeInstanceOf(ShoalError);
    const te = err as TaskError;
    expect(te.code).toBe('TASK_FAILED');
    expect(te.taskName).toBe('throwsTypeError');
    expect(te.causeName).toBe('TypeError');
    expect(te.causeMessage).toBe('bad input: x');
    expect(te.remoteStack).toMatch(/fixtures\/core\/errors\.ts/);
    expect(te.message).toContain('throwsTypeError');
    expect(te.message).toContain('TypeError: bad input: x');
    // The task's stack travels worker → driver once: err.stack holds it once, not once per hop.
    const frame = te.remoteStack.split('\n').find((l) => l.includes('fixtures/core/errors.ts'))!.trim();
    expect(te.stack!.split(frame)).toHaveLength(2);
  });

  it('keeps the code of the thrown error', async () => {
    const err = (await get(throwsWithCode.remote()).catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.causeCode).toBe('ENOTHING');
  });

  it('a return value that cannot be serialized fails the task with SerializationError naming it', async () => {
    const err = await get(returnsFunction.remote()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as SerializationError).path).toBe('the return value.cb');
  });
});

describe('arguments that cannot be serialized', () => {
  it('a function argument throws SerializationError at .remote(), naming the path', () => {
    let thrown: unknown;
    try {
      takesAnything.remote({ nested: { cb: () => 1 } });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(SerializationError);
    expect((thrown as SerializationError).path).toBe('arguments[0].nested.cb');
    expect((thrown as Error).message).toMatch(/functions cannot be serialized/);
  });

  it('a socket argument throws SerializationError at .remote(), naming the path', () => {
    const socket = new Socket();
    try {
      expect(() => takesAnything.remote([1, socket])).toThrow(SerializationError);
      expect(() => takesAnything.remote([1, socket])).toThrow(/arguments\[0\]\[1\].*Socket/);
    } finally {
      socket.destroy();
    }
  });

  it('a Promise argument throws SerializationError at .remote()', () => {
    expect(() => takesAnything.remote(Promise.resolve(1))).toThrow(/cannot serialize arguments\[0\]: a Promise/);
  });
});

describe('definitions', () => {
  it('an anonymous remote function throws RemoteDefinitionError at definition', () => {
    expect(() => remote(() => 1)).toThrow(RemoteDefinitionError);
    expect(() => remote(() => 1)).toThrow(/needs a named function or the \{ name \} option/);
  });

  it('an anonymous actor class throws RemoteDefinitionError at definition', () => {
    expect(() => actor(class {})).toThrow(RemoteDefinitionError);
  });

  it('a function defined outside the top level of its module fails with RemoteDefinitionError', async () => {
    const inner = makeInner();
    const err = await get(inner.remote()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteDefinitionError);
    expect((err as Error).message).toMatch(/'definedInsideAFunction'.*was not registered/);
    expect((err as Error).message).toMatch(/the module registered: topLevel/);
  });
});

describe('memory limits', () => {
  it('a task over its memory limit fails with OutOfMemoryError and the worker lives on', async () => {
    const err = await get(hog.remote(2_000), { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err).toMatchObject({ code: 'OUT_OF_MEMORY', taskName: 'hog', limitMb: 64 });
    expect(await get(ok.remote(1), { timeoutMs: 10_000 })).toBe(2);
    // A limited task that fits still runs on the replaced thread.
    expect(await get(hog.remote(8), { timeoutMs: 10_000 })).toBe(8);
    const status = await tc.status();
    expect(status.nodes).toHaveLength(1);
  });
});

describe('process.exit in a task', () => {
  // process.exit() inside a worker_threads thread ends that thread only: the task fails (as a system
  // failure, retried up to maxRetries) and the worker process lives on. What the caller gets today
  // is an untyped ShoalError named 'Error' with piscina's message 'worker exited with code: 1',
  // which names neither the task nor the cause: the last assertion guards a typed, named error.
  it('fails the task and leaves the worker process running', async () => {
    const err = await get(exits.options({ maxRetries: 0 }).remote(), { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShoalError);
    expect(tc.workers[0]!.child.exitCode).toBeNull();
    expect(await get(ok.remote(41), { timeoutMs: 10_000 })).toBe(42);
    expect((await tc.status()).nodes).toHaveLength(1);
    // The error should say what happened: a typed error naming the task.
    expect((err as Error).message).toMatch(/exits/);
  });
});
