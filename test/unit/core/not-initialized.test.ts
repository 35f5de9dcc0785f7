/**
 * NotInitializedError from real calls: every API that needs a cluster, called in a process that never
 * ran init(), refuses with the API named (no cluster is started here).
 */
import { describe, expect, it } from 'vitest';
import { actor, get, isInitialized, NotInitializedError, put, remote, wait } from '../../../src/core/index.js';
import { ALS } from '../../../src/train/index.js';

const double = remote(function double(x: number) {
  return 2 * x;
});
const Box = actor(class Box {
  v = 1;
});

describe('NotInitializedError', () => {
  it('put, remote calls, actors, and ALS.fit before init() name what needed the cluster', async () => {
    expect(isInitialized()).toBe(false);
    const cases: Array<[string, () => unknown]> = [
      ['put', () => put(1)],
      ['remote', () => double.remote(2)],
      ['actor', () => Box.remote()],
      ['get', () => get([])],
      ['wait', () => wait([])],
    ];
    for (const [name, call] of cases) {
      let err: unknown;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(NotInitializedError);
      expect((err as NotInitializedError).code, name).toBe('NOT_INITIALIZED');
      expect((err as Error).message, name).toMatch(/needs a cluster: call init\(\) first$/);
    }
    const fit = await new ALS({ rank: 2, maxIter: 1 }).fit([{ user: 1, item: 1, rating: 1 }]).catch((e: unknown) => e);
    expect(fit).toBeInstanceOf(NotInitializedError);
    expect((fit as Error).message).toBe('ALS.fit() needs a cluster: call init() first');
  });
});
