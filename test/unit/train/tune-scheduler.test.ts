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
    [{ metric: '' }, `tune() option 'metric' must be a non-empty string; got ""`],
    [{ mode: 'best' }, `tune() option 'mode' must be one of 'min', 'max'; got "best"`],
    [{ searchAlg: 'bayes' }, `tune() option 'searchAlg' must be one of 'grid', 'random'; got "bayes"`],
    [{ scheduler: 'pbt' }, `tune() option 'scheduler' must be one of 'fifo', 'asha'; got "pbt"`],
    [{ numSamples: 0 }, "tune() option 'numSamples' must be a positive integer; got 0"],
    [{ maxConcurrentTrials: 1.5 }, "tune() option 'maxConcurrentTrials' must be a positive integer; got 1.5"],
    [{ reductionFactor: 1 }, "tune() option 'reductionFactor' must be a number > 1; got 1"],
    [{ scheduler: 'asha', gracePeriod: 20, maxT: 10 }, "tune() option 'gracePeriod' must not exceed option 'maxT' (10); got 20"],
    [{ resourcesPerTrial: { numCpus: -1 } }, "tune() option 'resourcesPerTrial' numCpus must be a non-negative number; got -1"],
    [{ searchSpace: null }, "tune() option 'searchSpace' must be an object of name → domain or constant; got null"],
    [{ foo: 1 }, "tune() option 'foo' is not an option of tune() (known: searchSpace, "],
  ])('rejects %j', (over, message) => {
    expect(() => compileTuneOptions({ ...base, ...(over as object) } as TuneOptions)).toThrow(InvalidOptionError);
    expect(() => compileTuneOptions({ ...base, ...(over as object) } as TuneOptions)).toThrow(message);
  });
});
