import { describe, expect, it } from 'vitest';
import { ConfigError, NumericError, Rng } from '@chainz/core';
import { gradientTailRatio } from './tail-ratio';

// 20 magnitudes and reference values from numpy 2.4 (np.quantile default
// method 'linear' = type 7): np.quantile(g, q) and np.quantile(g, q) / g.mean().
const G = [0.93, 0.12, 2.71, 0.05, 1.41, 0.33, 7.8, 0.66, 0.21, 1.05, 0.47, 3.9, 0.08, 0.59, 1.73, 0.29, 0.88, 12.5, 0.15, 0.41];
const NUMPY: [q: number, tau: number][] = [
  [0.99, 6.400330851943754],
  [0.95, 4.430658946787982],
  [0.9, 2.365591397849466],
  [0.75, 0.821615660325338],
  [0.5, 0.34463744141163505],
  [0.1, 0.06396470912599947],
  [1.0, 6.892748828232701],
];

describe('gradientTailRatio', () => {
  it('is 1 for constant magnitudes, for every q', () => {
    for (const q of [0.01, 0.5, 0.99, 1]) {
      expect(gradientTailRatio(new Float32Array(37).fill(0.37), { q })).toBeCloseTo(1, 12);
      expect(gradientTailRatio([5], { q })).toBe(1);
    }
  });

  it('matches a hand-computed case (type 7 interpolation)', () => {
    // sorted g = [0.1, 0.2, 0.3, 0.4, 5.0], mean 1.2.
    // q = 0.99: h = (5-1)·0.99 = 3.96 → 0.4 + 0.96·(5.0-0.4) = 4.816 → τ = 4.816/1.2.
    const g = [5.0, 0.3, 0.1, 0.4, 0.2];
    expect(gradientTailRatio(g)).toBeCloseTo(4.816 / 1.2, 12);
    // q = 0.5: the median 0.3 → τ = 0.25; q = 1: max/mean = 5/1.2.
    expect(gradientTailRatio(g, { q: 0.5 })).toBeCloseTo(0.25, 12);
    expect(gradientTailRatio(g, { q: 1 })).toBeCloseTo(5 / 1.2, 12);
  });

  it('matches numpy quantile / mean', () => {
    for (const [q, tau] of NUMPY) expect(gradientTailRatio(G, { q })).toBeCloseTo(tau, 12);
    // float32 input: same up to float32 rounding of the inputs.
    expect(gradientTailRatio(Float32Array.from(G))).toBeCloseTo(NUMPY[0][1], 6);
  });

  it('is scale invariant and permutation invariant', () => {
    const rng = new Rng(7);
    const g = Array.from({ length: 501 }, () => Math.exp(2 * rng.normal()));
    const tau = gradientTailRatio(g);
    expect(tau).toBeGreaterThan(1);
    for (const c of [1e-6, 0.3, 17, 4e5]) expect(gradientTailRatio(g.map((v) => c * v))).toBeCloseTo(tau, 9);
    expect(gradientTailRatio(rng.shuffle(g.slice()))).toBeCloseTo(tau, 12);
  });

  it('grows with a heavier tail', () => {
    const light = Array.from({ length: 1000 }, (_, i) => 1 + (i % 10) / 100);
    const heavy = light.map((v, i) => (i % 50 === 0 ? 30 * v : v));
    expect(gradientTailRatio(heavy)).toBeGreaterThan(gradientTailRatio(light) + 1);
  });

  it('returns NaN when every magnitude is zero', () => {
    expect(gradientTailRatio(new Float32Array(10))).toBeNaN();
  });

  it('rejects empty input, negative values, non-finite values and bad q', () => {
    expect(() => gradientTailRatio([])).toThrow(ConfigError);
    expect(() => gradientTailRatio([1, -0.5, 2])).toThrow(/magnitude 1 is -0.5; .*non-negative/);
    expect(() => gradientTailRatio([1, -0.5])).toThrow(ConfigError);
    expect(() => gradientTailRatio([1, Number.NaN])).toThrow(NumericError);
    expect(() => gradientTailRatio([1, Infinity])).toThrow(/magnitude 1 is Infinity/);
    for (const q of [0, -0.1, 1.01, Number.NaN]) {
      expect(() => gradientTailRatio([1, 2], { q })).toThrow(/option q: q must be in \(0, 1\]/);
    }
  });
});
