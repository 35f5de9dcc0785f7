/**
 * The two-proportion z-test (pooled), the statistical rule behind a canary's promotion or rollback:
 * is the canary's hit rate lower than the champion's by more than chance? The normal tail uses a
 * Chebyshev fit of erfc good to ~1e-7, far below any α a rule would use.
 */

/** The upper tail of the standard normal, P(Z > z). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

export interface ProportionTest {
  /** (pA − pB) / pooled standard error; 0 when the pooled rate is 0 or 1. */
  z: number;
  /** One-sided p-value of "A is lower than B" (P(Z ≤ z)). */
  pLower: number;
  /** Two-sided p-value. */
  pTwoSided: number;
  rateA: number;
  rateB: number;
}

/** Compares successes `a` of `nA` with `b` of `nB` (both n > 0). */
export function twoProportionTest(a: number, nA: number, b: number, nB: number): ProportionTest {
  const rateA = a / nA;
  const rateB = b / nB;
  const pooled = (a + b) / (nA + nB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  const z = se > 0 ? (rateA - rateB) / se : 0;
  return { z, pLower: 1 - normalSf(z), pTwoSided: Math.min(1, 2 * normalSf(Math.abs(z))), rateA, rateB };
}
