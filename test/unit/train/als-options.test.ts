import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/train/errors.js';
import { compileALSOptions, type ALSOptions } from '../../../src/train/als/als-options.js';

describe('compileALSOptions', () => {
  it("has Spark MLlib's defaults", () => {
    const o = compileALSOptions();
    expect(o).toMatchObject({
      rank: 10, maxIter: 10, regParam: 0.1, implicitPrefs: false, alpha: 1.0, nonnegative: false, coldStartStrategy: 'nan',
      numUserBlocks: 10, numItemBlocks: 10, checkpointInterval: 10, userCol: 'user', itemCol: 'item', ratingCol: 'rating',
      predictionCol: 'prediction', factorExchange: 'auto', solver: 'cholesky', cgSteps: 3, seed: 0,
    });
  });

  it("defaults to the CG solver for implicit feedback (not with nonnegative), Cholesky otherwise", () => {
    expect(compileALSOptions({ implicitPrefs: true }).solver).toBe('cg');
    expect(compileALSOptions({ implicitPrefs: true, nonnegative: true }).solver).toBe('cholesky');
    expect(compileALSOptions({ implicitPrefs: true, solver: 'cholesky' }).solver).toBe('cholesky');
    expect(compileALSOptions({ implicitPrefs: false }).solver).toBe('cholesky');
  });

  const cases: Array<[ALSOptions, string]> = [
    [{ rank: -1 }, `ALS option 'rank' must be a positive integer; got -1`],
    [{ rank: 0 }, `ALS option 'rank' must be a positive integer; got 0`],
    [{ maxIter: 1.5 }, `ALS option 'maxIter' must be a positive integer; got 1.5`],
    [{ regParam: -0.1 }, `ALS option 'regParam' must be a finite number ≥ 0; got -0.1`],
    [{ alpha: Number.NaN }, `ALS option 'alpha' must be a finite number ≥ 0; got NaN`],
    [{ implicitPrefs: 'yes' as unknown as boolean }, `ALS option 'implicitPrefs' must be a boolean; got "yes"`],
    [{ nonnegative: 1 as unknown as boolean }, `ALS option 'nonnegative' must be a boolean; got 1`],
    [{ coldStartStrategy: 'zero' as 'nan' }, `ALS option 'coldStartStrategy' must be one of 'nan', 'drop'; got "zero"`],
    [{ seed: 0.5 }, `ALS option 'seed' must be a safe integer; got 0.5`],
    [{ numUserBlocks: 0 }, `ALS option 'numUserBlocks' must be a positive integer; got 0`],
    [{ numItemBlocks: 70000 }, `ALS option 'numItemBlocks' must be at most 65535; got 70000`],
    [{ checkpointInterval: 0 }, `ALS option 'checkpointInterval' must be a positive integer; got 0`],
    [{ checkpointDir: '' }, `ALS option 'checkpointDir' must be a non-empty path; got ""`],
    [{ userCol: '' }, `ALS option 'userCol' must be a non-empty column name; got ""`],
    [{ itemCol: 3 as unknown as string }, `ALS option 'itemCol' must be a non-empty column name; got 3`],
    [{ ratingCol: '' }, `ALS option 'ratingCol' must be a non-empty column name; got ""`],
    [{ predictionCol: '' }, `ALS option 'predictionCol' must be a non-empty column name; got ""`],
    [{ factorExchange: 'all' as 'auto' }, `ALS option 'factorExchange' must be one of 'auto', 'whole', 'gather'; got "all"`],
    [{ solver: 'lu' as 'cg' }, `ALS option 'solver' must be one of 'cholesky', 'cg'; got "lu"`],
    [{ solver: 'cg', nonnegative: true }, `ALS option 'solver' must be 'cholesky' when option 'nonnegative' is true; got "cg"`],
    [{ cgSteps: 0 }, `ALS option 'cgSteps' must be a positive integer; got 0`],
    [{ onIteration: 5 as unknown as () => void }, `ALS option 'onIteration' must be a function; got 5`],
    [null as unknown as ALSOptions, 'ALS options must be an object; got null'],
  ];
  it.each(cases)('rejects %j', (options, message) => {
    let err: unknown;
    try {
      compileALSOptions(options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toBe(message);
    expect((err as InvalidOptionError).code).toBe('INVALID_OPTION');
  });

  it('rejects unknown options by name', () => {
    expect(() => compileALSOptions({ ranks: 3 } as ALSOptions)).toThrow("ALS option 'ranks' is not an option of ALS (known: rank, ");
  });
});
