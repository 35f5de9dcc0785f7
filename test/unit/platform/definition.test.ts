/** Pipeline definitions: what is refused at definition time (typed errors naming the steps), parameters, step options. */
import { describe, expect, it } from 'vitest';
import {
  compileParams, constant, fromParam, fromStep, mapItem, param, pipeline, PipelineDefinitionError, step, type PipelineSpec,
} from '../../../src/platform/index.js';
import { InvalidOptionError } from '../../../src/core/index.js';

const a = step('a', ({ n }: { n: number }) => ({ n }));
const b = step('b', ({ n }: { n: number }) => ({ n: n + 1 }));
const c = step('c', ({ n }: { n: number }) => ({ n: n * 2 }));

function definitionError(spec: PipelineSpec, name = 'p'): PipelineDefinitionError {
  try {
    pipeline(name, spec);
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineDefinitionError);
    return err as PipelineDefinitionError;
  }
  throw new Error('pipeline() accepted the definition');
}

describe('pipeline definitions', () => {
  it('orders steps by their dependencies (the DAG follows from the inputs)', () => {
    const p = pipeline('ok', {
      params: { n: param.int({ default: 1 }) },
      steps: [
        { step: c, inputs: { n: fromStep('b', 'n') } },
        { step: b, inputs: { n: fromStep('a', 'n') } },
        { step: a, inputs: { n: fromParam('n') } },
      ],
    });
    expect(p.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
    expect(p.nodes.map((n) => n.upstream)).toEqual([[], ['a'], ['b']]);
  });

  it('a cycle is refused, listing it', () => {
    const err = definitionError({
      steps: [
        { step: a, inputs: { n: fromStep('c', 'n') } },
        { step: b, inputs: { n: fromStep('a', 'n') } },
        { step: c, inputs: { n: fromStep('b', 'n') } },
      ],
    });
    expect(err).toMatchObject({ code: 'PIPELINE_DEFINITION', problem: 'cycle', steps: ['a', 'c', 'b', 'a'] });
    expect(err.message).toBe("pipeline 'p': its steps form a cycle (each takes an input from the next): a → c → b → a");
    expect(definitionError({ steps: [{ step: a, inputs: { n: fromStep('a', 'n') } }] })).toMatchObject({ problem: 'cycle', steps: ['a', 'a'] });
  });

  it('an input naming an unknown step or parameter is refused, naming both', () => {
    const err = definitionError({ steps: [{ step: a, inputs: { n: constant(1) } }, { step: b, inputs: { n: fromStep('aa', 'n') } }] });
    expect(err).toMatchObject({ problem: 'unknown-step', steps: ['b', 'aa'] });
    expect(err.message).toMatch(/step 'b' input 'n' names step 'aa', which the pipeline does not have \(it has: a, b\)/);
    const e2 = definitionError({ params: { k: param.int({ default: 1 }) }, steps: [{ step: a, inputs: { n: fromParam('m') } }] });
    expect(e2).toMatchObject({ problem: 'unknown-param', steps: ['a'] });
    expect(e2.message).toMatch(/names parameter 'm', which the pipeline does not have \(it has: k\)/);
  });

  it('two steps of one name are refused', () => {
    const err = definitionError({ steps: [{ step: a, inputs: { n: constant(1) } }, { step: b, name: 'a', inputs: { n: constant(1) } }] });
    expect(err).toMatchObject({ problem: 'duplicate-step', steps: ['a'] });
    expect(err.message).toMatch(/two steps are named 'a'; give one a distinct \{ name \}/);
  });

  it('malformed entries, maps and parameter specs are refused', () => {
    expect(definitionError({ steps: [] }).message).toMatch(/needs \{ steps: \[...\] \} with at least one step/);
    expect(definitionError({ steps: [{ step: (() => 1) as never }] }).message).toMatch(/steps\[0\] must be \{ step, inputs\?, ... \} with a step made by step\(\)/);
    expect(definitionError({ steps: [{ step: a, inputs: { n: mapItem() } }] }).message).toMatch(/uses mapItem\(\) but the step has no map/);
    expect(definitionError({ params: { n: param.int({ default: 1 }) }, steps: [{ step: a, map: fromParam('n'), inputs: { n: mapItem() } }] }).message).toMatch(
      /maps over parameter 'n', which is not a list parameter/,
    );
    expect(definitionError({ steps: [{ step: a, inputs: { n: 'x' as never } }] }).message).toMatch(/input 'n' must be fromParam\(\), fromStep\(\), constant\(\) or mapItem\(\)/);
    expect(definitionError({ params: { n: param.int({ default: 0, min: 1 }) }, steps: [{ step: a, inputs: { n: fromParam('n') } }] }).message).toMatch(
      /the default of parameter 'n' breaks its own rule/,
    );
    expect(definitionError({ steps: [{ step: a }] }, 'bad name').message).toMatch(/pipeline name must start with a letter/);
    expect(definitionError({ steps: [{ step: a, map: constant([1]), inputs: { n: mapItem() }, when: () => true }] }).message).toMatch(/has both map and when/);
  });
});

describe('parameters', () => {
  const specs = { n: param.int({ default: 3, min: 1 }), rate: param.number({ default: 0.5, max: 1 }), mode: param.string({ choices: ['a', 'b'], default: 'a' }), on: param.boolean({ default: false }), xs: param.list({ of: 'int', default: [1] }) };

  it('compiles values over defaults; texts (--param k=v) are parsed by type', () => {
    expect(compileParams('p', specs)).toEqual({ n: 3, rate: 0.5, mode: 'a', on: false, xs: [1] });
    expect(compileParams('p', specs, { n: '7', rate: '0.25', mode: 'b', on: 'true', xs: '1,2,3' }, true)).toEqual({ n: 7, rate: 0.25, mode: 'b', on: true, xs: [1, 2, 3] });
    expect(compileParams('p', specs, { xs: '[4, 5]' }, true).xs).toEqual([4, 5]);
  });

  it('refuses bad values naming the parameter and the rule', () => {
    const msg = (given: Record<string, unknown>, text = false): string => {
      try {
        compileParams('p', specs, given, text);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidOptionError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(msg({ n: 0 })).toBe("pipeline 'p' option 'params.n' must be within [1, ∞]; got 0");
    expect(msg({ n: 'x' }, true)).toBe("pipeline 'p' option 'params.n' must be an integer; got \"x\"");
    expect(msg({ rate: 2 })).toBe("pipeline 'p' option 'params.rate' must be within [-∞, 1]; got 2");
    expect(msg({ mode: 'c' })).toMatch(/'params.mode' must be one of 'a', 'b'; got "c"/);
    expect(msg({ on: 'yes' }, true)).toMatch(/'params.on' must be true or false; got "yes"/);
    expect(msg({ xs: '1,x' }, true)).toMatch(/'params.xs\[1\]' must be an integer; got "x"/);
    expect(msg({ other: 1 })).toMatch(/'params.other' is not a parameter of the pipeline \(it has: n, rate, mode, on, xs\)/);
    expect(() => compileParams('p', { r: param.int() })).toThrow(/'params.r' is required \(it has no default\)/);
  });
});

describe('steps', () => {
  it('the code hash is the function source: equal for equal code, different for other code or version', () => {
    const x1 = step('x1', ({ n }: { n: number }) => ({ n }));
    const x2 = step('x2', ({ n }: { n: number }) => ({ n }));
    const y = step('y', ({ n }: { n: number }) => ({ n: n + 0 }));
    const v = step('v', ({ n }: { n: number }) => ({ n }), { version: '2' });
    expect(x1.codeHash).toBe(x2.codeHash);
    expect(y.codeHash).not.toBe(x1.codeHash);
    expect(v.codeHash).not.toBe(x1.codeHash);
  });

  it('refuses bad names and options, naming them', () => {
    expect(() => step('bad name', () => ({}))).toThrow(/step\(\) option 'name' must start with a letter/);
    expect(() => step('s', () => ({}), { retries: -1 })).toThrow(/step 's' option 'retries' must be a non-negative integer; got -1/);
    expect(() => step('s', () => ({}), { timeoutMs: 0 })).toThrow(/step 's' option 'timeoutMs' must be/);
    expect(() => step('s', () => ({}), { cache: 'no' as never })).toThrow(/step 's' option 'cache'/);
    expect(() => step('s', () => ({}), { retry: 1 } as never)).toThrow(/step 's'.*retry/);
    expect(() => step('s', () => ({}), { sourceVersion: 3 as never })).toThrow(/step 's' option 'sourceVersion' must be a function; got 3/);
  });
});
