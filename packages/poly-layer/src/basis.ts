import type { PolyBasis, PolyConfig } from './config';

/**
 * Plain-JS float64 evaluation of the basis polynomials and the guard, used by the
 * least-squares fit (and as a reference in tests). The tfjs evaluation lives in
 * `activation.ts`; both follow the same recurrences (docs/poly-layer.md):
 *
 * - monomial: P_k(u) = u^k (by products).
 * - chebyshev: T_0 = 1, T_1 = u, T_{k+1} = 2u·T_k − T_{k−1}.
 * - legendre: P_0 = 1, P_1 = u, (k+1)·P_{k+1} = (2k+1)·u·P_k − k·P_{k−1}.
 */

/**
 * Values P_0(u) … P_K(u) of the basis at one point.
 * @param basis the basis.
 * @param degree K ≥ 0.
 * @param u the argument.
 * @returns an array of length K+1.
 */
export function basisValues(basis: PolyBasis, degree: number, u: number): number[] {
  const p = new Array<number>(degree + 1);
  p[0] = 1;
  if (degree === 0) return p;
  p[1] = u;
  for (let k = 1; k < degree; k++) {
    if (basis === 'monomial') p[k + 1] = p[k] * u;
    else if (basis === 'chebyshev') p[k + 1] = 2 * u * p[k] - p[k - 1];
    else p[k + 1] = ((2 * k + 1) * u * p[k] - k * p[k - 1]) / (k + 1);
  }
  return p;
}

/**
 * The guard u = g(z) in float64 (`layernorm` is the identity here: the fit and the
 * reference treat its input as already normalised).
 * @param config guard and scale.
 * @param z pre-activation.
 */
export function guardValue(config: Pick<PolyConfig, 'guard' | 'scale'>, z: number): number {
  switch (config.guard) {
    case 'tanh':
      return Math.tanh(z / config.scale);
    case 'clip':
      return Math.min(1, Math.max(-1, z / config.scale));
    case 'none':
    case 'layernorm':
      return z;
  }
}

/**
 * σ(z) = Σ_k a_k·P_k(g(z)) in float64 for one coefficient set.
 * @param coeffs a_0 … a_K.
 * @param config basis, guard, scale (degree is `coeffs.length − 1`).
 * @param z pre-activation (for `layernorm`: the normalised value u).
 */
export function polyValue(coeffs: readonly number[], config: Pick<PolyConfig, 'basis' | 'guard' | 'scale'>, z: number): number {
  const p = basisValues(config.basis, coeffs.length - 1, guardValue(config, z));
  let s = 0;
  for (let k = 0; k < p.length; k++) s += coeffs[k] * p[k];
  return s;
}
