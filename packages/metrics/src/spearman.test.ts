import { describe, expect, it } from 'vitest';
import { ConfigError, NumericError, Rng } from '@chainz/core';
import { spearmanCorrelation } from './spearman';

describe('spearmanCorrelation', () => {
  it('matches the hand formula 1 − 6Σd²/(n(n²−1)) without ties, and scipy.stats.spearmanr', () => {
    // d = rank differences ±1 at every position: Σd² = 6, ρ = 1 − 36/210 = 29/35.
    const r = spearmanCorrelation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5], { resamples: 200 });
    expect(r.rho).toBeCloseTo(29 / 35, 14);
    expect(r.n).toBe(6);
    // scipy.stats.spearmanr([1,2,3,4,5,6], [2,1,4,3,6,5]).pvalue (scipy 1.17)
    expect(r.pValue).toBeCloseTo(0.04156268221574335, 12);
  });

  it('uses average ranks for ties (scipy.stats.spearmanr values)', () => {
    const r = spearmanCorrelation([3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8], { resamples: 200 });
    // By hand: ranks x = [4, 1.5, 5, 1.5, 6, 8, 3, 7], y = [3.5, 5, 1.5, 7, 3.5, 7, 1.5, 7]; Pearson of the ranks.
    expect(r.rho).toBeCloseTo(0.19885368120992467, 12);
    expect(r.pValue).toBeCloseTo(0.6368617833253286, 10);
    expect(spearmanCorrelation([1, 2, 3, 4], [40, 30, 20, 10]).rho).toBe(-1);
  });

  it('gives a seeded percentile bootstrap interval around ρ that narrows with n', () => {
    const rng = new Rng(8);
    const sample = (n: number) => {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = rng.normal();
        x.push(a);
        y.push(0.6 * a + 0.8 * rng.normal());
      }
      return [x, y] as const;
    };
    const [x, y] = sample(40);
    const r = spearmanCorrelation(x, y, { seed: 1 });
    expect(r.confidence).toBe(0.95);
    expect(r.resamples + r.degenerate).toBe(2000);
    expect(r.ci[0]).toBeLessThan(r.rho);
    expect(r.ci[1]).toBeGreaterThan(r.rho);
    expect(spearmanCorrelation(x, y, { seed: 1 })).toEqual(r);
    expect(spearmanCorrelation(x, y, { seed: 2 }).ci).not.toEqual(r.ci);
    const narrow = spearmanCorrelation(x, y, { seed: 1, confidence: 0.5 });
    expect(narrow.ci[1] - narrow.ci[0]).toBeLessThan(r.ci[1] - r.ci[0]);
    const [bx, by] = sample(400);
    const big = spearmanCorrelation(bx, by, { seed: 1, resamples: 500 });
    expect(big.ci[1] - big.ci[0]).toBeLessThan((r.ci[1] - r.ci[0]) / 2);
  });

  it('a perfectly monotone relation has the interval [1, 1]; resamples with a constant variable are counted', () => {
    const r = spearmanCorrelation([1, 2, 3, 4], [1, 4, 9, 16], { resamples: 500 });
    expect(r.rho).toBeCloseTo(1, 14);
    expect(r.ci[0]).toBeCloseTo(1, 12);
    expect(r.ci[1]).toBeCloseTo(1, 12);
    expect(r.degenerate).toBeGreaterThan(0); // all four draws the same pair: probability 4·(1/4)^4 = 1/64 per resample, ~8 in 500
    expect(r.resamples + r.degenerate).toBe(500);
  });

  it('returns NaN for a constant variable and rejects bad input', () => {
    const c = spearmanCorrelation([1, 1, 1, 1], [1, 2, 3, 4]);
    expect(c.rho).toBeNaN();
    expect(c.ci).toEqual([Number.NaN, Number.NaN]);
    expect(() => spearmanCorrelation([1, 2, 3], [1, 2, 3])).toThrow(/option x: Spearman's correlation needs at least 4 pairs, got 3/);
    expect(() => spearmanCorrelation([1, 2, 3, 4], [1, 2, 3])).toThrow(/option y: x has 4 values but y has 3/);
    expect(() => spearmanCorrelation([1, 2, 3, Number.NaN], [1, 2, 3, 4])).toThrow(NumericError);
    expect(() => spearmanCorrelation([1, 2, 3, 4], [1, 2, 3, 4], { confidence: 1 })).toThrow(ConfigError);
    expect(() => spearmanCorrelation([1, 2, 3, 4], [1, 2, 3, 4], { resamples: 0 })).toThrow(/option resamples/);
  });
});
