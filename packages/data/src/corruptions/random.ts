import type { Rng } from '@chainz/core';

/**
 * Random draws used by the corruptions, on top of `@chainz/core`'s seeded
 * {@link Rng}. They follow numpy's distributions (not its bit streams, which
 * cannot be reproduced): `uniform(lo, hi)`, `normal(loc, scale)`,
 * `randint(lo, hi)` (hi exclusive) and `poisson(lam)`.
 */

/** Uniform float in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Normal with mean `loc` and standard deviation `scale`. */
export function normal(rng: Rng, loc = 0, scale = 1): number {
  return loc + scale * rng.normal();
}

/** Uniform integer in [lo, hi) (numpy's `randint(lo, hi)`). */
export function randint(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo);
}

/** log(k!) for a non-negative integer k: exact sum below 30, Stirling series above (error < 1e-13). */
export function logFactorial(k: number): number {
  if (k < 30) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  const k2 = k * k;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k) - 1 / (360 * k * k2) + 1 / (1260 * k2 * k2 * k);
}

/**
 * Poisson variate with mean `lam` ≥ 0.
 *
 * lam < 10: multiplication of uniforms (Knuth). lam ≥ 10: the transformed
 * rejection method with squeeze, PTRS (W. Hörmann, "The transformed rejection
 * method for generating Poisson random variables", Insurance: Mathematics and
 * Economics 12, 1993), the method numpy also uses in this range.
 */
export function poisson(rng: Rng, lam: number): number {
  if (!(lam >= 0)) throw new RangeError(`poisson: lam must be >= 0, got ${lam}`);
  if (lam === 0) return 0;
  if (lam < 10) {
    const limit = Math.exp(-lam);
    let k = 0;
    let prod = rng.next();
    while (prod > limit) {
      k++;
      prod *= rng.next();
    }
    return k;
  }
  const slam = Math.sqrt(lam);
  const loglam = Math.log(lam);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lam + k * loglam - logFactorial(k)) return k;
  }
}
