import { describe, expect, it } from 'vitest';
import {
  ActorDiedError, ActorMethodNotFoundError, ActorNotFoundError, AuthenticationError, BundleBuildError, ConnectionError, HeadUnavailableError,
  errorFromWire, errorToWire, GetTimeoutError, InfeasibleError, InvalidOptionError, NotInitializedError, ObjectFreedError,
  ObjectLostError, OutOfMemoryError, RemoteDefinitionError, SerializationError, ShoalError, TaskCancelledError, TaskError,
  VersionMismatchError, WorkerDiedError,
} from '../../../src/core/errors.js';
import { packMessage, unpackMessage } from '../../../src/core/wire/serialization.js';

/** Through the wire as it really travels: toWire → msgpack → errorFromWire. */
const acrossTheWire = (e: ShoalError): Error => errorFromWire(unpackMessage(packMessage(e.toWire())));

const SAMPLES: Array<[string, ShoalError]> = [
  ['TaskError', new TaskError('f', 't1', 'TypeError', 'bad', 'TypeError: bad\n    at f (x.ts:1:1)', 'EBAD')],
  ['OutOfMemoryError', new OutOfMemoryError('hog', 64)],
  ['WorkerDiedError', new WorkerDiedError('f', 'n1', 2)],
  ['ActorDiedError', new ActorDiedError('a1', 'Counter', 'killed')],
  ['ActorNotFoundError', new ActorNotFoundError('x')],
  ['ActorMethodNotFoundError', new ActorMethodNotFoundError('C', 'm', ['a', 'b'])],
  ['ObjectFreedError', new ObjectFreedError('o1')],
  ['ObjectLostError', new ObjectLostError('o1', 'node died')],
  ['GetTimeoutError', new GetTimeoutError(100, 3)],
  ['TaskCancelledError', new TaskCancelledError('f', 't1')],
  ['SerializationError', new SerializationError('arguments[0]', 'functions cannot be serialized')],
  ['RemoteDefinitionError', new RemoteDefinitionError('no name', 'x.ts:3')],
  ['BundleBuildError', new BundleBuildError('x.ts', 'x.ts:1:1: syntax error')],
  ['InvalidOptionError', new InvalidOptionError('options.x must be y')],
  ['InfeasibleError', new InfeasibleError('no node has GPU')],
  ['ConnectionError', new ConnectionError('h:1', 'refused')],
  ['HeadUnavailableError', new HeadUnavailableError('h:1', 3000, 'closed the session')],
  ['AuthenticationError', new AuthenticationError('h:1')],
  ['NotInitializedError', new NotInitializedError('get()')],
  ['VersionMismatchError', new VersionMismatchError('0.1.0', '0.2.0')],
];

const CLASSES: Record<string, abstract new (...a: never[]) => ShoalError> = {
  TaskError, OutOfMemoryError, WorkerDiedError, ActorDiedError, ActorNotFoundError, ActorMethodNotFoundError, ObjectFreedError,
  ObjectLostError, GetTimeoutError, TaskCancelledError, SerializationError, RemoteDefinitionError, BundleBuildError,
  InvalidOptionError, InfeasibleError, ConnectionError, HeadUnavailableError, AuthenticationError, NotInitializedError, VersionMismatchError,
};

describe('errors across the wire', () => {
  it.each(SAMPLES)('%s keeps its class, code, message and context', (name, original) => {
    const back = acrossTheWire(original) as ShoalError;
    expect(back.name).toBe(name);
    expect(back).toBeInstanceOf(CLASSES[name]!);
    expect(back).toBeInstanceOf(ShoalError);
    expect(back).toBeInstanceOf(Error);
    expect(back.code).toBe(original.code);
    expect(back.message).toBe(original.message);
    expect(back.context()).toEqual(original.context());
  });

  it('keeps the remote stack below the local one', () => {
    const original = new WorkerDiedError('f', 'n1', 1);
    const back = acrossTheWire(original);
    expect(back.stack).toContain('--- remote ---');
    expect(back.stack).toContain(original.stack!.split('\n')[1]!.trim());
  });

  it('TaskError carries the cause and its remote stack', () => {
    const back = acrossTheWire(SAMPLES[0]![1]) as TaskError;
    expect(back).toMatchObject({ taskName: 'f', taskId: 't1', causeName: 'TypeError', causeMessage: 'bad', causeCode: 'EBAD' });
    expect(back.remoteStack).toContain('x.ts:1:1');
    expect(back.message).toContain('--- remote stack ---');
  });

  it("an error's remote stack appears once in err.stack, also after several hops (worker → head → driver)", () => {
    const once = acrossTheWire(SAMPLES[0]![1]);
    const twice = errorFromWire(unpackMessage(packMessage(errorToWire(once))));
    for (const e of [once, twice]) {
      expect(e.stack!.split('at f (x.ts:1:1)')).toHaveLength(2);
      expect(e.stack!.split('task f failed')).toHaveLength(2);
      expect(e.stack!.startsWith('TaskError: task f failed: TypeError: bad')).toBe(true);
    }
    const died = errorFromWire(unpackMessage(packMessage(errorToWire(acrossTheWire(new WorkerDiedError('f', 'n1', 1))))));
    expect(died.stack!.split(died.message)).toHaveLength(2);
  });

  it('instanceof works across realms through the Symbol.for marker', () => {
    const foreign = { [Symbol.for('shoal/ShoalError')]: true, message: 'x' };
    expect(foreign).toBeInstanceOf(ShoalError);
    expect({}).not.toBeInstanceOf(ShoalError);
    expect(new Error('x')).not.toBeInstanceOf(ShoalError);
    expect(new TaskCancelledError('f', 't')).not.toBeInstanceOf(TaskError);
  });

  it('non-shoal errors keep their class name, message and code', () => {
    const w = errorToWire(Object.assign(new RangeError('too big'), { code: 'ERANGE' }));
    expect(w).toMatchObject({ name: 'RangeError', code: 'ERANGE', message: 'too big' });
    const back = errorFromWire(w);
    expect(back.name).toBe('RangeError');
    expect(back.message).toBe('too big');
    expect((back as ShoalError).code).toBe('ERANGE');
  });

  it('a thrown non-Error value is described', () => {
    expect(errorToWire('just a string')).toMatchObject({ name: 'NonErrorThrown', message: expect.stringContaining('just a string') });
  });

  it('every error has a stable code', () => {
    const codes = SAMPLES.map(([, e]) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[A-Z_]+$/);
  });
});
