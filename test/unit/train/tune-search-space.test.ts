import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/train/errors.js';
import { choice, generateConfigs, grid, loguniform, randint, uniform } from '../../../src/train/tune/search-space.js';

describe('generateConfigs', () => {
  it('grid search covers every combination exactly once, constants passed through', () => {
    const space = { rank: grid([2, 4, 8]), maxIter: grid([5, 10]), regParam: choice([0.01, 0.1]), seed: 7 };
    const configs = generateConfigs(space, 'grid', 1, 0);
    expect(configs).toHaveLength(12);
    const keys = new Set(configs.map((c) => `${String(c.rank)}/${String(c.maxIter)}/${String(c.regParam)}`));
    expect(keys.size).toBe(12);
    for (const r of [2, 4, 8]) for (const m of [5, 10]) for (const g of [0.01, 0.1]) expect(keys.has(`${r}/${m}/${g}`)).toBe(true);
    expect(configs.every((c) => c.seed === 7)).toBe(true);
  });

  it('numSamples repeats the grid, sampling the other dimensions anew', () => {
    const configs = generateConfigs({ a: grid([1, 2]), lr: uniform(0, 1) }, 'grid', 3, 1);
    expect(configs).toHaveLength(6);
    expect(new Set(configs.map((c) => c.lr)).size).toBe(6);
  });

  it('random search respects every domain and is reproducible from its seed', () => {
    const space = { lr: loguniform(1e-4, 1e-1), layers: randint(1, 4), act: choice(['relu', 'tanh']), drop: uniform(0.1, 0.5) };
    const a = generateConfigs(space, 'random', 200, 42);
    expect(a).toHaveLength(200);
    for (const c of a) {
      expect(c.lr).toBeGreaterThanOrEqual(1e-4);
      expect(c.lr).toBeLessThan(1e-1);
      expect([1, 2, 3]).toContain(c.layers);
      expect(['relu', 'tanh']).toContain(c.act);
      expect(c.drop).toBeGreaterThanOrEqual(0.1);
      expect(c.drop).toBeLessThan(0.5);
    }
    expect(new Set(a.map((c) => c.layers)).size).toBe(3);
    // loguniform: about as many draws per decade.
    const decades = [0, 0, 0];
    for (const c of a) decades[Math.floor(Math.log10(c.lr as number) + 4)]!++;
    for (const d of decades) expect(d).toBeGreaterThan(40);
    expect(generateConfigs(space, 'random', 200, 42)).toEqual(a);
    expect(generateConfigs(space, 'random', 200, 43)).not.toEqual(a);
  });

  it('random search still enumerates grid dimensions (Ray semantics)', () => {
    const configs = generateConfigs({ g: grid(['x', 'y']), c: choice([1, 2, 3]) }, 'random', 2, 0);
    expect(configs.map((c) => c.g)).toEqual(['x', 'y', 'x', 'y']);
  });

  it('domains validate their arguments', () => {
    expect(() => grid([])).toThrow(InvalidOptionError);
    expect(() => uniform(1, 1)).toThrow('uniform(low, high) needs finite numbers with low < high (got 1, 1)');
    expect(() => loguniform(0, 1)).toThrow('loguniform(low, high) needs low > 0 (got 0)');
    expect(() => randint(0.5, 3)).toThrow('randint(low, high) needs integers (got 0.5, 3)');
  });
});
