/** A bench metric that subtracts a base must never report an impossible (negative) duration. */
import { describe, expect, it } from 'vitest';
import { excess } from '../../../bench/lib/stats.js';

describe('excess', () => {
  it('is the difference when the total exceeds the base', () => {
    expect(excess(3.5, 1.25)).toBe(2.25);
  });
  it('is 0, not negative, when noise puts the total below the base (the -0.013 ms row of the core bench)', () => {
    expect(excess(2.843, 2.856)).toBe(0);
  });
});
