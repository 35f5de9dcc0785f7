/** The rental job's champion rule (examples/rental-recs/tracking.ts): champion only on a win under the same validation protocol. */
import { describe, expect, it } from 'vitest';
import { chooseAlias } from '../../../examples/rental-recs/tracking.js';

describe('champion rule', () => {
  it('the first version is champion', () => {
    expect(chooseAlias({ ndcg: 0.1, protocol: 'p' }, undefined)).toEqual({ alias: 'champion', reason: 'no champion yet' });
  });
  it('a higher validation NDCG on the same protocol takes the champion alias; equal or lower is challenger', () => {
    expect(chooseAlias({ ndcg: 0.31, protocol: 'p' }, { version: 3, ndcg: 0.3, protocol: 'p' }).alias).toBe('champion');
    expect(chooseAlias({ ndcg: 0.3, protocol: 'p' }, { version: 3, ndcg: 0.3, protocol: 'p' }).alias).toBe('challenger');
    expect(chooseAlias({ ndcg: 0.2, protocol: 'p' }, { version: 3, ndcg: 0.3, protocol: 'p' }).reason).toMatch(/0\.2000 ≤ champion v3's 0\.3000/);
  });
  it('a version validated on another protocol (other data, split or K) is never compared: challenger', () => {
    const d = chooseAlias({ ndcg: 0.9, protocol: 'q' }, { version: 3, ndcg: 0.3, protocol: 'p' });
    expect(d.alias).toBe('challenger');
    expect(d.reason).toMatch(/another protocol \(p ≠ q\)/);
    expect(chooseAlias({ ndcg: 0.9, protocol: 'p' }, { version: 3, ndcg: undefined, protocol: 'p' }).alias).toBe('challenger');
  });
});
