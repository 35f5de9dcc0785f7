import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/train/errors.js';
import { AshaScheduler } from '../../../src/train/tune/trial-scheduler-policy.js';
import { compileTuneOptions, type TuneOptions } from '../../../src/train/tune/tune-options.js';

describe('AshaScheduler', () => {
  it('places rungs at gracePeriod · rf^k below maxT', () => {
    const s = new AshaScheduler({ gracePeriod: 1, reductionFactor: 3, maxT: 27, mode: 'min' });
    expect(s.rungs.map((r) => r.milestone)).toEqual([9, 3, 1]);
  });

  it('lets the first trial at a rung through and stops one below the top 1/rf', () => {
    const s = new AshaScheduler({ gracePeriod: 2, reductionFactor: 2, maxT: 16, mode: 'min' });
    expect(s.onResult('a', 1, 5)).toBe('continue'); // before the first rung
    expect(s.onResult('a', 2, 1.0)).toBe('continue'); // first at rung 2
    expect(s.onResult('b', 2, 3.0)).toBe('stop'); // worse than the median of {1.0}
    expect(s.onResult('c', 2, 0.5)).toBe('continue'); // better
    expect(s.onResult('a', 16, 0.1)).toBe('stop'); // reached maxT
  });

  it("mode 'max' keeps the highest", () => {
    const s = new AshaScheduler({ gracePeriod: 1, reductionFactor: 2, maxT: 8, mode: 'max' });
    expect(s.onResult('a', 1, 0.9)).toBe('continue');
    expect(s.onResult('b', 1, 0.1)).toBe('stop');
    expect(s.onResult('c', 1, 0.95)).toBe('continue');
  });
});

describe('compileTuneOptions', () => {
  const base: TuneOptions = { searchSpace: {}, metric: 'loss' };
  it('fills defaults', () => {
    expect(compileTuneOptions(base)).toMatchObject({
      mode: 'min', numSamples: 1, searchAlg: 'grid', scheduler: 'fifo', gracePeriod: 1, reductionFactor: 4, maxT: 100, seed: 0,
      resourcesPerTrial: { numCpus: 1 },
    });
  });
  it.each([
    [{ metric: '' }, 'options.metric must be a non-empty string'],
    [{ mode: 'best' }, "options.mode must be 'min' or 'max' (got best)"],
    [{ searchAlg: 'bayes' }, "options.searchAlg must be 'grid' or 'random' (got bayes)"],
    [{ scheduler: 'pbt' }, "options.scheduler must be 'fifo' or 'asha' (got pbt)"],
    [{ numSamples: 0 }, 'options.numSamples must be a positive integer (got 0)'],
    [{ maxConcurrentTrials: 1.5 }, 'options.maxConcurrentTrials must be a positive integer (got 1.5)'],
    [{ reductionFactor: 1 }, 'options.reductionFactor must be a number > 1 (got 1)'],
    [{ scheduler: 'asha', gracePeriod: 20, maxT: 10 }, 'options.gracePeriod (20) must not exceed options.maxT (10)'],
    [{ resourcesPerTrial: { numCpus: -1 } }, 'options.resourcesPerTrial.numCpus must be a non-negative number (got -1)'],
    [{ searchSpace: null }, 'options.searchSpace must be an object of name → domain or constant'],
    [{ foo: 1 }, "options has an unknown key 'foo'"],
  ])('rejects %j', (over, message) => {
    expect(() => compileTuneOptions({ ...base, ...(over as object) } as TuneOptions)).toThrow(InvalidOptionError);
    expect(() => compileTuneOptions({ ...base, ...(over as object) } as TuneOptions)).toThrow(message);
  });
});
