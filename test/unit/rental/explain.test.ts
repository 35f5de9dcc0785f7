/**
 * The served hybrid's explanations (examples/rental-recs/explain.ts): attributions over its features
 * add up to the served score minus the baseline score, the baseline being the user's average
 * listing (so the baseline score is the mean of the served scores); and they survive the registry's
 * stored form (model-store.ts).
 */
import { describe, expect, it } from 'vitest';
import { scoresOf } from '../../../examples/rental-recs/evaluate.js';
import type { Explanation } from '../../../examples/rental-recs/explain.js';
import { servedModelContents, servedModelFromStored } from '../../../examples/rental-recs/model-store.js';
import { ModelIndex, type ServedModel } from '../../../examples/rental-recs/served-model.js';
import type { StoredModel } from '../../../src/store/index.js';
import { hybridMarket } from '../../fixtures/rental/hybrid-market.js';

const { fit, model, x } = hybridMarket();
type Additive = Extract<Explanation, { method: 'additive-shapley' }>;

function answer(m: ServedModel, user: string, k: number) {
  return new ModelIndex(m).recommend({ user, k, nbhd: -1, context: [], unknownContext: 0, explain: true });
}

describe('hybrid explanations', () => {
  it('attributions sum to score − baselineScore; the baseline score is the mean served score', () => {
    const numItems = x.catalogue.length;
    for (const u of [0, 1, 17, 120]) {
      const a = answer(model, model.userIds[u]!, 6);
      expect(a.fallback).toBeNull();
      const row = scoresOf(fit.scorer, [u], numItems);
      const mean = row.reduce((s, v) => s + v, 0) / numItems;
      for (const item of a.items) {
        const e = item.explanation as Additive;
        expect(e.method).toBe('additive-shapley');
        expect(e.baselineScore).toBeCloseTo(mean, 4);
        const sum = e.attributions.reduce((s, f) => s + f.value, 0);
        expect(sum).toBeCloseTo(item.score - e.baselineScore, 4);
        for (let k = 1; k < e.attributions.length; k++) expect(Math.abs(e.attributions[k]!.value)).toBeLessThanOrEqual(Math.abs(e.attributions[k - 1]!.value));
        const names = new Set(fit.weights.map((w) => w.feature));
        for (const f of e.attributions) expect(names.has(f.feature)).toBe(true);
      }
    }
  });

  it('names the signal the model learned: same neighbourhood pushes a listing of the user\'s neighbourhood up', () => {
    const a = answer(model, model.userIds[3]!, 3);
    for (const item of a.items) {
      const same = (item.explanation as Additive).attributions.find((f) => f.feature === 'same neighbourhood');
      expect(same?.value).toBeGreaterThan(0);
    }
  });

  it('the stored form (registry) explains the same', () => {
    const c = servedModelContents(model);
    const files = Object.fromEntries(Object.entries(c.files ?? {}).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
    const stored = { ...c, files, uri: 'models:/t/1', runId: 'r', path: 'p', signature: c.signature ?? null } as StoredModel;
    const back = servedModelFromStored(stored);
    const u = model.userIds[5]!;
    expect(answer(back, u, 4)).toEqual(answer(model, u, 4));
  });
});
