/**
 * The head's control dispatcher: a call is checked against the method table before its handler
 * runs; an unknown method or a body that does not fit is a typed error naming it, never a handler
 * called with a bad body.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { errorFromWire, InvalidControlRequestError, InvalidOptionError, UnknownControlMethodError } from '../../../../src/core/errors.js';
import type { HeadClient } from '../../../../src/core/wire/head-client.js';
import {
  CONTROL_METHODS, ControlDispatcher, type ControlHandlers, type ControlReplies,
} from '../../../../src/core/wire/control.js';
import { packMessage, unpackMessage } from '../../../../src/core/wire/serialization.js';

const JOB = { id: 'j1', status: 'RUNNING' as const, entrypoint: 'node job.js', submittedAt: 1, logFile: '/tmp/j1.log' };
const HASH = '0123456789abcdef0123456789abcdef';

/** Handlers that record what they were called with. */
function recording(): { calls: Array<[string, unknown]>; handlers: ControlHandlers } {
  const calls: Array<[string, unknown]> = [];
  const rec = <T>(m: string, reply: T) => (req: unknown): T => {
    calls.push([m, req]);
    return reply;
  };
  const handlers: ControlHandlers = {
    ping: rec('ping', { version: '0.1.0', address: '127.0.0.1:1' }),
    status: () => {
      throw new Error('not used here');
    },
    'get-actor': rec('get-actor', { actorId: 'a1', className: 'C', methods: ['m'], name: 'n' }),
    'pg-create': rec('pg-create', null),
    'pg-ready': async (req) => {
      calls.push(['pg-ready', req]);
      return null;
    },
    'pg-remove': rec('pg-remove', null),
    'job-submit': rec('job-submit', JOB),
    'job-list': rec('job-list', [JOB]),
    'job-get': rec('job-get', JOB),
    'job-stop': rec('job-stop', JOB),
    publish: rec('publish', { accepted: true }),
  };
  return { calls, handlers };
}

/** The error as the client sees it: flattened, through msgpack, rebuilt by class name. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return errorFromWire(unpackMessage(packMessage((err as InvalidControlRequestError).toWire())));
}

describe('ControlDispatcher: publish', () => {
  it('passes a topic and its data on, and refuses a topic that is not a name, naming the field', async () => {
    const { calls, handlers } = recording();
    const d = new ControlDispatcher(handlers);
    await expect(d.dispatch('publish', { topic: 'serve.status', data: { a: 1 } })).resolves.toEqual({ accepted: true });
    expect(calls).toEqual([['publish', { topic: 'serve.status', data: { a: 1 } }]]);
    const err = await rejection(d.dispatch('publish', { topic: 'Serve Status!', data: 1 }));
    expect(err).toBeInstanceOf(InvalidControlRequestError);
    expect((err as InvalidControlRequestError).field).toBe('topic');
    expect(err.message).toMatch(/must be a topic name/);
  });
});

describe('ControlDispatcher', () => {
  it('runs the handler with the checked body and returns its reply', async () => {
    const { calls, handlers } = recording();
    const d = new ControlDispatcher(handlers);
    await expect(d.dispatch('ping', null)).resolves.toEqual({ version: '0.1.0', address: '127.0.0.1:1' });
    await expect(d.dispatch('pg-ready', { id: 'pg1' })).resolves.toBeNull();
    const body = { id: 'pg2', bundles: [{ CPU: 1 }, { CPU: 0.5, GPU: 1 }], strategy: 'SPREAD', sessionId: 's1' };
    await d.dispatch('pg-create', body);
    await d.dispatch('job-submit', { bundle: HASH, entrypoint: 'node job.js', args: ['--x'] });
    expect(calls).toEqual([
      ['ping', null],
      ['pg-ready', { id: 'pg1' }],
      ['pg-create', body],
      ['job-submit', { bundle: HASH, entrypoint: 'node job.js', args: ['--x'] }],
    ]);
  });

  it('a method with no body takes null or nothing', async () => {
    const d = new ControlDispatcher(recording().handlers);
    await expect(d.dispatch('job-list', undefined)).resolves.toEqual([JOB]);
    await expect(d.dispatch('job-list', null)).resolves.toEqual([JOB]);
    const err = await rejection(d.dispatch('job-list', { all: true }));
    expect(err).toBeInstanceOf(InvalidControlRequestError);
    expect(err).toMatchObject({ method: 'job-list', field: 'body', code: 'INVALID_CONTROL_REQUEST' });
  });

  it('an unknown method is an UnknownControlMethodError naming it and listing the known ones', async () => {
    const { calls, handlers } = recording();
    const d = new ControlDispatcher(handlers);
    const err = await rejection(d.dispatch('job-delete', { id: 'j1' }));
    expect(err).toBeInstanceOf(UnknownControlMethodError);
    expect(err).toMatchObject({ code: 'UNKNOWN_CONTROL_METHOD', method: 'job-delete', knownMethods: CONTROL_METHODS });
    expect(err.message).toBe(
      "the head has no control method 'job-delete' (it has: ping, status, get-actor, pg-create, pg-ready, pg-remove, job-submit, " +
        'job-list, job-get, job-stop, publish); the caller may run another shoal version than the head',
    );
    // Names of Object.prototype are not methods either.
    await expect(d.dispatch('toString', null)).rejects.toBeInstanceOf(UnknownControlMethodError);
    await expect(d.dispatch('__proto__', null)).rejects.toBeInstanceOf(UnknownControlMethodError);
    expect(calls).toEqual([]);
  });

  it('a body of the wrong shape is an InvalidControlRequestError naming the field; the handler does not run', async () => {
    const { calls, handlers } = recording();
    const d = new ControlDispatcher(handlers);
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['pg-ready', { id: 7 }, 'id', /expected string/],
      ['pg-ready', null, 'body', /expected object/],
      ['job-get', {}, 'id', /expected string/],
      ['get-actor', { name: ['a'] }, 'name', /expected string/],
      ['pg-create', { id: 'pg', bundles: [{ CPU: 1 }, { CPU: 'two' }], strategy: 'PACK', sessionId: 's' }, 'bundles[1].CPU', /expected number/],
      ['pg-create', { id: 'pg', bundles: [{ CPU: -1 }], strategy: 'PACK', sessionId: 's' }, 'bundles[0].CPU', />=0/],
      ['pg-create', { id: 'pg', bundles: [], strategy: 'PACK', sessionId: 's' }, 'bundles', />=1/],
      ['pg-create', { id: 'pg', bundles: [{ CPU: 1 }], strategy: 'TIGHT', sessionId: 's' }, 'strategy', /PACK/],
      ['job-submit', { bundle: '../../etc/passwd', entrypoint: 'x' }, 'bundle', /32 hex digits/],
      ['job-submit', { bundle: HASH, entrypoint: 'x', modules: { 'a.js': 'nope' } }, 'modules.a.js', /32 hex digits/],
      ['job-submit', { bundle: HASH, entrypoint: 'x', args: 'not-a-list' }, 'args', /expected array/],
      ['job-submit', { bundle: HASH }, 'entrypoint', /expected string/],
    ];
    for (const [method, body, field, reason] of cases) {
      const err = await rejection(d.dispatch(method, body));
      expect(err, `${method} ${JSON.stringify(body)}`).toBeInstanceOf(InvalidControlRequestError);
      expect(err).toMatchObject({ method, field });
      expect((err as InvalidControlRequestError).reason).toMatch(reason);
      expect(err.message).toContain(`control call '${method}' has an invalid body: ${field}: `);
    }
    expect(calls).toEqual([]);
  });

  it("a handler's own typed error reaches the caller as it is", async () => {
    const { handlers } = recording();
    handlers['job-get'] = ({ id }) => {
      throw new InvalidOptionError(`no job ${id}`);
    };
    const err = await rejection(new ControlDispatcher(handlers).dispatch('job-get', { id: 'j9' }));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err.message).toBe('no job j9');
  });

  it('the client and the handlers are typed by the same table', () => {
    // Compile-time checks (tsc runs over the tests): never called.
    const typed = (client: HeadClient, handlers: ControlHandlers): void => {
      expectTypeOf(client.control('job-get', { id: 'j1' })).resolves.toEqualTypeOf<ControlReplies['job-get']>();
      expectTypeOf(client.control('status')).resolves.toHaveProperty('nodes');
      // @ts-expect-error a misspelt method does not compile
      void client.control('job-gett', { id: 'j1' });
      // @ts-expect-error a wrong body does not compile
      void client.control('job-get', { id: 1 });
      // @ts-expect-error nor a missing one, where the method takes a body
      void client.control('pg-ready');
      // @ts-expect-error a handler must return its method's reply
      handlers['pg-ready'] = () => ({ ok: true });
    };
    expect(typeof typed).toBe('function');
  });
});
