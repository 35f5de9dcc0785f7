/**
 * tune() on a real 2-CPU cluster: trials as tasks (grid and random search) and as actors (ASHA
 * early stopping of a step trainable), failed trials, and the errors of bad calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choice, grid, InvalidOptionError, loguniform, randint, tune, TuneError, uniform } from 'shoal/train';
import { TestCluster } from '../../harness/test-cluster.js';
import { CurveTrainable, echoConfig, quadratic, sometimesThrows } from '../../fixtures/train/index.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.start({ numCpus: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('tune', () => {
  it('grid search runs every combination and finds the best', async () => {
    const r = await tune({ task: quadratic }, {
      searchSpace: { x: grid([0, 0.3, 0.6]), y: grid([-2, -1, 0, 1]) }, metric: 'loss', mode: 'min',
    });
    expect(r.trials).toHaveLength(12);
    expect(new Set(r.trials.map((t) => `${String(t.config.x)},${String(t.config.y)}`)).size).toBe(12);
    expect(r.trials.every((t) => t.status === 'completed' && t.history.length === 1)).toBe(true);
    expect(r.bestConfig).toEqual({ x: 0.3, y: -1 });
    expect(r.bestTrial.lastResult?.loss).toBe(0);
  });

  it('random search samples within the space, reproducibly from the seed', async () => {
    const space = { lr: loguniform(1e-3, 1), layers: randint(1, 5), act: choice(['relu', 'tanh']), drop: uniform(0, 0.5), fixed: 'k' };
    const run = () => tune({ task: echoConfig }, { searchSpace: space, numSamples: 10, searchAlg: 'random', metric: 'score', mode: 'max', seed: 5, maxConcurrentTrials: 2 });
    const [a, b] = [await run(), await run()];
    expect(a.trials).toHaveLength(10);
    for (const t of a.trials) {
      const m = t.lastResult!;
      expect(m.lr).toBeGreaterThanOrEqual(1e-3);
      expect(m.lr).toBeLessThan(1);
      expect([1, 2, 3, 4]).toContain(m.layers);
      expect(['relu', 'tanh']).toContain(m.act);
      expect(m.fixed).toBe('k');
      expect(m).toMatchObject(t.config); // the task received exactly the config
    }
    expect(b.trials.map((t) => t.config)).toEqual(a.trials.map((t) => t.config));
  });

  it('ASHA stops bad trials early and keeps the best', async () => {
    const floors = [0.9, 0.1, 0.7, 0.5, 0.8, 0.3, 0.6, 0.4];
    const maxT = 27;
    const r = await tune({ actor: CurveTrainable }, {
      searchSpace: { floor: grid(floors), scale: 1 }, metric: 'loss', mode: 'min', scheduler: 'asha', gracePeriod: 1, reductionFactor: 3, maxT,
      maxConcurrentTrials: 2,
    });
    expect(r.bestConfig.floor).toBe(0.1);
    const best = r.bestTrial;
    expect(best.status).toBe('completed');
    expect(best.steps).toBe(maxT);
    const stopped = r.trials.filter((t) => t.status === 'stopped');
    expect(stopped.length).toBeGreaterThanOrEqual(4);
    for (const t of stopped) expect(t.steps).toBeLessThan(maxT);
    // Early stopping ran far fewer steps than running every trial to maxT.
    expect(r.totalSteps).toBeLessThan(floors.length * maxT * 0.6);
    console.log(`ASHA: ${r.totalSteps} steps of ${floors.length * maxT} without early stopping; stopped ${stopped.length} of ${floors.length}`);
  });

  it('keeps going when a trial fails, and reports it', async () => {
    const r = await tune({ task: sometimesThrows }, { searchSpace: { bad: grid([false, true]), v: grid([1, 2]) }, metric: 'loss' });
    expect(r.trials.filter((t) => t.status === 'error')).toHaveLength(2);
    expect(r.trials.find((t) => t.status === 'error')?.error).toMatch(/broken on purpose/);
    expect(r.bestConfig).toEqual({ bad: false, v: 1 });
    await expect(tune({ task: sometimesThrows }, { searchSpace: { bad: true, v: 1 }, metric: 'loss' })).rejects.toThrow(TuneError);
  });

  it('rejects ASHA with a task trainable, and a trainable of neither kind', async () => {
    await expect(tune({ task: quadratic }, { searchSpace: {}, metric: 'loss', scheduler: 'asha' })).rejects.toThrow(InvalidOptionError);
    await expect(tune({} as never, { searchSpace: {}, metric: 'loss' })).rejects.toThrow(/tune\(\) takes \{ task: remote\(fn\) \}/);
  });
});
