/** Every validation message of task and actor options, asserted once (piscina option-validation style). */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/core/errors.js';
import { compileActorOptions, compileStrategy, compileTaskOptions, type ActorOptions, type TaskOptions } from '../../../src/core/api/options.js';

const task = (o: unknown) => () => compileTaskOptions(o as TaskOptions);
const act = (o: unknown) => () => compileActorOptions(o as ActorOptions);

describe('task options', () => {
  it.each<[string, unknown, string]>([
    ['numCpus negative', { numCpus: -1 }, "task option 'numCpus' must be a finite number ≥ 0; got -1"],
    ['numCpus NaN', { numCpus: NaN }, "task option 'numCpus' must be a finite number ≥ 0; got NaN"],
    ['memory zero', { memory: 0 }, "task option 'memory' must be a positive number; got 0"],
    ['unknown key', { numCPUs: 1 }, "task option 'numCPUs' is not an option of task (known: numCpus, memory, resources, maxRetries, name, schedulingStrategy)"],
    ['maxRetries fractional', { maxRetries: 1.5 }, "task option 'maxRetries' must be a non-negative integer; got 1.5"],
    ['maxRetries negative', { maxRetries: -1 }, "task option 'maxRetries' must be a non-negative integer; got -1"],
    ['name empty', { name: '' }, "task option 'name' must be a non-empty string; got \"\""],
    ['resources with CPU', { resources: { CPU: 2 } }, "task option 'resources' must not contain 'CPU'; use the option 'numCpus'"],
    ['resources with memory', { resources: { memory: 2 } }, "task option 'resources' must not contain 'memory'; use the option 'memory'"],
    ['resource negative', { resources: { GPU: -1 } }, "task option 'resources.GPU' must be a finite number ≥ 0; got -1"],
    ['resources not an object', { resources: null }, "task option 'resources' must be an object of name → amount; got null"],
    ['schedulingStrategy bad string', { schedulingStrategy: 'RANDOM' }, `task option 'schedulingStrategy' must be 'DEFAULT', 'SPREAD', 'PACK', { nodeId, soft? } or { placementGroup, bundleIndex? }; got "RANDOM"`],
    ['schedulingStrategy bad object', { schedulingStrategy: { node: 'x' } }, `task option 'schedulingStrategy' must be 'DEFAULT', 'SPREAD', 'PACK', { nodeId, soft? } or { placementGroup, bundleIndex? }; got {"node":"x"}`],
    ['bundleIndex negative', { schedulingStrategy: { placementGroup: { id: 'pg1' }, bundleIndex: -2 } }, "task option 'schedulingStrategy.bundleIndex' must be a non-negative integer; got -2"],
  ])('%s', (_label, options, message) => {
    expect(task(options)).toThrow(InvalidOptionError);
    expect(task(options)).toThrow(message);
  });

  it('options that are not an object', () => {
    expect(task(null)).toThrow('task options must be an object');
  });

  it('compiles defaults and units', () => {
    expect(compileTaskOptions({})).toEqual({ resources: { CPU: 1 }, maxRetries: 3, name: undefined, strategy: 'DEFAULT' });
    expect(compileTaskOptions({ numCpus: 0.5, memory: 2 ** 20, resources: { GPU: 1 }, maxRetries: 0, name: 'n', schedulingStrategy: { nodeId: 'n1' } }))
      .toEqual({ resources: { CPU: 0.5, memory: 2 ** 20, GPU: 1 }, maxRetries: 0, name: 'n', strategy: { nodeId: 'n1', soft: false } });
  });
});

describe('actor options', () => {
  it.each<[string, unknown, string]>([
    ['maxConcurrency 0', { maxConcurrency: 0 }, "actor option 'maxConcurrency' must be a positive integer; got 0"],
    ['maxRestarts negative', { maxRestarts: -1 }, "actor option 'maxRestarts' must be a non-negative integer; got -1"],
    ['maxTaskRetries fractional', { maxTaskRetries: 0.5 }, "actor option 'maxTaskRetries' must be a non-negative integer; got 0.5"],
    ['lifetime bad', { lifetime: 'forever' }, "actor option 'lifetime' must be one of 'job', 'detached'; got \"forever\""],
    ['name empty', { name: '' }, "actor option 'name' must be a non-empty string; got \"\""],
    ['getIfExists not boolean', { name: 'a', getIfExists: 'yes' }, "actor option 'getIfExists' must be a boolean; got \"yes\""],
    ['getIfExists without name', { getIfExists: true }, "actor option 'getIfExists' needs the option 'name' (the name to look up)"],
    ['unknown key', { concurrency: 2 }, "actor option 'concurrency' is not an option of actor (known: name, getIfExists, numCpus, memory, resources, maxConcurrency, maxRestarts, maxTaskRetries, lifetime, schedulingStrategy)"],
    ['numCpus negative', { numCpus: -2 }, "actor option 'numCpus' must be a finite number ≥ 0; got -2"],
    ['resources with CPU', { resources: { CPU: 1 } }, "actor option 'resources' must not contain 'CPU'; use the option 'numCpus'"],
    ['schedulingStrategy bad', { schedulingStrategy: 42 }, "actor option 'schedulingStrategy' must be"],
  ])('%s', (_label, options, message) => {
    expect(act(options)).toThrow(InvalidOptionError);
    expect(act(options)).toThrow(message);
  });

  it('options that are not an object', () => {
    expect(act('x')).toThrow('actor options must be an object');
  });

  it('compiles defaults: no CPU reserved, one call at a time, job lifetime', () => {
    expect(compileActorOptions({})).toEqual({
      name: undefined, getIfExists: false, resources: { CPU: 0 }, maxConcurrency: 1, maxRestarts: 0, maxTaskRetries: 0, detached: false, strategy: 'DEFAULT',
    });
    expect(compileActorOptions({ lifetime: 'detached' }).detached).toBe(true);
  });
});

describe('scheduling strategies', () => {
  it('compiles every form', () => {
    expect(compileStrategy(undefined, 'o')).toBe('DEFAULT');
    expect(compileStrategy('SPREAD', 'o')).toBe('SPREAD');
    expect(compileStrategy({ nodeId: 'n', soft: true }, 'o')).toEqual({ nodeId: 'n', soft: true });
    expect(compileStrategy({ placementGroup: { id: 'pg' } }, 'o')).toEqual({ placementGroupId: 'pg', bundleIndex: -1 });
    expect(compileStrategy({ placementGroup: { id: 'pg' }, bundleIndex: 1 }, 'o')).toEqual({ placementGroupId: 'pg', bundleIndex: 1 });
  });
});
