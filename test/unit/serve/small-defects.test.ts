/**
 * Regressions of two small serve defects: a PostgresExposureLog with a bad table name must refuse
 * before it starts its flush timer (it left an interval running behind a thrown constructor), and
 * a 500's logged stack must carry its header line once (it was written twice: header + a remote
 * stack that already starts with it).
 */
import { describe, expect, it } from 'vitest';
import { TaskError } from 'shoal';
import { InvalidOptionError, PostgresExposureLog } from 'shoal/serve';
import { stackForLog } from '../../../src/serve/http-util.js';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('PostgresExposureLog table name', () => {
  it('refuses a bad name with a typed error naming it, and leaves no timer running', () => {
    const before = timers();
    let caught: unknown;
    try {
      new PostgresExposureLog('postgres://127.0.0.1/test', 'x; DROP TABLE y', { flushIntervalMs: 60_000 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as InvalidOptionError).message).toMatch(/exposure table name must be an identifier \(got x; DROP TABLE y\)/);
    expect(timers()).toBe(before);
  });
});

describe('stackForLog', () => {
  it('writes a remote error header once when the remote stack starts with it', () => {
    const remote = new RangeError('boom in user code');
    const err = new TaskError('Boom.call', 't1', 'RangeError', 'boom in user code', remote.stack!);
    const stack = stackForLog(err);
    expect(stack.split('\n')[0]).toBe('RangeError: boom in user code');
    expect(stack.match(/RangeError: boom in user code/g)).toHaveLength(1);
    expect(stack).toContain('small-defects.test.ts');
  });
  it('adds the header when the remote stack lacks it', () => {
    const err = new TaskError('Boom.call', 't1', 'RangeError', 'boom', '    at f (x.js:1:1)');
    expect(stackForLog(err)).toBe('RangeError: boom\n    at f (x.js:1:1)');
  });
  it('keeps a local error stack and a thrown non-error as they are', () => {
    const e = new Error('local');
    expect(stackForLog(e)).toBe(e.stack);
    expect(stackForLog('plain string')).toBe('plain string');
  });
});
