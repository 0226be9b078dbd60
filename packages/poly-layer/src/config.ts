import { ConfigError } from '@chainz/core';

/** Polynomial basis P_k (docs/poly-layer.md). */
export type PolyBasis = 'monomial' | 'chebyshev' | 'legendre';

/**
 * Guard g that maps the pre-activation z to the polynomial's argument u.
 * - `tanh`: u = tanh(z/s) (elementwise, default).
 * - `clip`: u = clamp(z/s, −1, 1) (elementwise).
 * - `none`: u = z (elementwise; unbounded — a non-finite output is an error).
 * - `layernorm`: u = (z − mean(z)) / sqrt(var(z) + ε) over the last (feature/channel)
 *   axis of each sample; not elementwise.
 */
export type PolyGuard = 'tanh' | 'clip' | 'none' | 'layernorm';

/** Coefficient sharing: one set per channel (`[C, K+1]`) or one set per layer (`[1, K+1]`). */
export type PolySharing = 'channel' | 'layer';

/** Configuration of a polynomial activation σ(z) = Σ_k a[c,k]·P_k(g(z)). */
export interface PolyConfig {
  /** Polynomial degree K (number of coefficients per set is K+1). Integer in [1, MAX_POLY_DEGREE]. */
  degree: number;
  /** Basis of the polynomial. */
  basis: PolyBasis;
  /** Guard (domain map) applied to z before the polynomial. */
  guard: PolyGuard;
  /** Scale s of the `tanh` and `clip` guards, in units of z (> 0). Ignored by `none` and `layernorm`. */
  scale: number;
  /** Coefficient sharing. */
  sharing: PolySharing;
}

/** Largest supported degree (float32 evaluation and the float64 fit stay well conditioned up to here). */
export const MAX_POLY_DEGREE = 12;

/** ε of the `layernorm` guard (added to the variance, in units of z²; same default as PyTorch's LayerNorm). */
export const LAYERNORM_EPSILON = 1e-5;

/**
 * The default configuration.
 *
 * - `degree: 3` — cubic, as in the paper series.
 * - `basis: 'monomial'` — Horner evaluation; for K ≤ 3 as well conditioned as the
 *   orthogonal bases on u ∈ [−1, 1] and the cheapest (`resolvePolyConfig` picks
 *   `chebyshev` when only a degree > 3 is given).
 * - `guard: 'tanh'` — bounds u to (−1, 1), so σ and σ' stay finite for any finite z.
 * - `scale: 3` — u = tanh(z/3) maps the ±3σ range of unit-variance pre-activations
 *   (what Glorot/He initialisation aims for) onto |u| ≤ tanh(1) ≈ 0.76, where tanh
 *   is still close to linear, so the guard barely distorts the typical range while
 *   it bounds the tails. Among s ∈ {1, 2, 3, 4, 6}, s = 3 gives the smallest worst-case
 *   cubic fit RMSE over the six target activations on z ∈ [−3, 3] (0.059, relu; see
 *   docs/poly-layer.md); s = 1 cannot represent the identity (RMSE 0.25), s ≥ 4 fits
 *   relu/gelu/tanh worse.
 *   The Lipschitz constant of σ is at most max_{|u|≤1}|P'(u)| / s.
 * - `sharing: 'channel'` — one coefficient set per feature/channel.
 */
export const DEFAULT_POLY_CONFIG: Readonly<PolyConfig> = Object.freeze({
  degree: 3,
  basis: 'monomial',
  guard: 'tanh',
  scale: 3,
  sharing: 'channel',
} as const);

const BASES: readonly PolyBasis[] = ['monomial', 'chebyshev', 'legendre'];
const GUARDS: readonly PolyGuard[] = ['tanh', 'clip', 'none', 'layernorm'];
const SHARINGS: readonly PolySharing[] = ['channel', 'layer'];
const KEYS: readonly (keyof PolyConfig)[] = ['degree', 'basis', 'guard', 'scale', 'sharing'];

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`, { option });
  }
  return value as T;
}

/**
 * Fills in defaults and validates a (partial) polynomial configuration
 * σ(z) = Σ_k a[c,k]·P_k(g(z)).
 *
 * Two defaults change the function a configuration computes, so spell them
 * out when you map a reference implementation to this API:
 * - **`scale` s = 3**: the `tanh` guard is u = tanh(z/3) and the `clip` guard
 *   u = clamp(z/3, −1, 1), *not* tanh(z) / clamp(z, −1, 1). A reference that
 *   uses tanh(z) needs `scale: 1`. (`none` and `layernorm` ignore it.)
 * - **`basis` depends on `degree`** when not given: `monomial` for degree ≤ 3,
 *   `chebyshev` for degree > 3. Coefficients are only comparable in the same basis.
 * Other defaults ({@link DEFAULT_POLY_CONFIG}): degree 3, guard `tanh`,
 * sharing `channel`.
 *
 * The result is what the layers store (`PolyDense.polyConfig`, `getConfig()`)
 * and what the bench records in results.json, so a saved model or a results
 * file always states the scale and the basis actually used.
 *
 * @example
 * resolvePolyConfig({ degree: 5 })
 * // → { degree: 5, basis: 'chebyshev', guard: 'tanh', scale: 3, sharing: 'channel' }
 *
 * @param partial any subset of {@link PolyConfig}; `undefined` fields take defaults.
 * @returns a complete, frozen configuration.
 * @throws ConfigError naming the option (`degree`, `basis`, `guard`, `scale`,
 *   `sharing`, or an unknown key) when a value is invalid.
 */
export function resolvePolyConfig(partial: Partial<PolyConfig> = {}): PolyConfig {
  if (partial === null || typeof partial !== 'object') {
    throw new ConfigError(`polynomial config must be an object, got ${JSON.stringify(partial)}`, { option: 'poly' });
  }
  for (const key of Object.keys(partial)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`unknown polynomial option (valid: ${KEYS.join(', ')})`, { option: key });
    }
  }
  const degree = partial.degree ?? DEFAULT_POLY_CONFIG.degree;
  if (!Number.isInteger(degree) || degree < 1 || degree > MAX_POLY_DEGREE) {
    throw new ConfigError(`must be an integer in [1, ${MAX_POLY_DEGREE}], got ${JSON.stringify(partial.degree)}`, { option: 'degree' });
  }
  const basis = oneOf('basis', partial.basis ?? (degree > 3 ? 'chebyshev' : DEFAULT_POLY_CONFIG.basis), BASES);
  const guard = oneOf('guard', partial.guard ?? DEFAULT_POLY_CONFIG.guard, GUARDS);
  const sharing = oneOf('sharing', partial.sharing ?? DEFAULT_POLY_CONFIG.sharing, SHARINGS);
  const scale = partial.scale ?? DEFAULT_POLY_CONFIG.scale;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) {
    throw new ConfigError(`must be a finite number > 0, got ${JSON.stringify(partial.scale)}`, { option: 'scale' });
  }
  return Object.freeze({ degree, basis, guard, scale, sharing });
}
