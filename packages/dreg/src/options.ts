import { ConfigError } from '@chainz/core';
import { lambdaSchedule, type LambdaSchedule, type LambdaScheduleSpec } from './schedule';

/**
 * Penalty variant (docs/dreg.md). All are exact and need only first-order autodiff.
 * - `frobenius`: per-sample ‖J_l‖_F² of the layer Jacobian (default).
 * - `activation`: Σ_j σ'(z_j)² (slope of the activation only).
 * - `hinge`: Σ_j max(0, |σ'(z_j)| − β)² (bounds the slope at β).
 * - `forward`: forward-mode tangent chain t_l = diag(σ_l')·A_l·t_{l−1}, t_0 ~ N(0, I),
 *   penalising ‖t_l‖² (an unbiased estimate of ‖J_l⋯J_1‖_F²); functional API only.
 */
export type DregVariant = 'frobenius' | 'activation' | 'hinge' | 'forward';

/** Options of the DREG penalty R = λ(t)·Σ_l w_l·mean_batch(R_l)/n_l. */
export interface DregOptions {
  /** Penalty variant. Default `'frobenius'`. */
  variant: DregVariant;
  /** λ: a constant, a schedule function, or a schedule spec. Default 10^−2.5 ≈ 3.16e−3 (the paper's DREG-only value). */
  lambda: number | LambdaSchedule | LambdaScheduleSpec;
  /** Per-layer weights w_l (one per trace / PolyDense layer). Default: all 1. */
  layerWeights?: number[];
  /** Slope bound β of the `hinge` variant. Default 1. */
  beta: number;
  /** μ of the curvature add-on, R_l += μ·Σ_j σ''(z_j)² (needs traces with `d2y`). Default 0 (off). */
  curvature: number;
  /** Seed of the `forward` variant's tangents t_0 (step t uses seed + t). Default 0. */
  seed: number;
}

/** The paper's DREG coefficient λ = 10^−2.5. */
export const DEFAULT_DREG_LAMBDA = 10 ** -2.5;

/** Defaults of {@link DregOptions}. */
export const DEFAULT_DREG_OPTIONS: Readonly<DregOptions> = Object.freeze({
  variant: 'frobenius',
  lambda: DEFAULT_DREG_LAMBDA,
  beta: 1,
  curvature: 0,
  seed: 0,
} as DregOptions);

/** Options after validation: λ is always a schedule function. */
export interface ResolvedDregOptions extends Omit<DregOptions, 'lambda'> {
  lambda: LambdaSchedule;
}

const VARIANTS: readonly DregVariant[] = ['frobenius', 'activation', 'hinge', 'forward'];
const KEYS = ['variant', 'lambda', 'layerWeights', 'beta', 'curvature', 'seed'];

/**
 * Validates DREG options and fills defaults.
 * @throws ConfigError naming the option (`variant`, `lambda…`, `layerWeights`,
 *   `beta`, `curvature`, `seed`, or an unknown key).
 */
export function resolveDregOptions(options: Partial<DregOptions> = {}): ResolvedDregOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError(`DREG options must be an object, got ${JSON.stringify(options)}`, { option: 'dreg' });
  for (const k of Object.keys(options)) if (!KEYS.includes(k)) throw new ConfigError(`unknown DREG option (valid: ${KEYS.join(', ')})`, { option: k });
  const variant = options.variant ?? DEFAULT_DREG_OPTIONS.variant;
  if (!VARIANTS.includes(variant)) throw new ConfigError(`must be one of ${VARIANTS.join(', ')}, got ${JSON.stringify(variant)}`, { option: 'variant' });
  const lam = options.lambda ?? DEFAULT_DREG_LAMBDA;
  const lambda = typeof lam === 'function' ? lam : lambdaSchedule(lam);
  const beta = options.beta ?? DEFAULT_DREG_OPTIONS.beta;
  if (!Number.isFinite(beta) || beta < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(options.beta)}`, { option: 'beta' });
  const curvature = options.curvature ?? DEFAULT_DREG_OPTIONS.curvature;
  if (!Number.isFinite(curvature) || curvature < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(options.curvature)}`, { option: 'curvature' });
  const seed = options.seed ?? DEFAULT_DREG_OPTIONS.seed;
  if (!Number.isInteger(seed)) throw new ConfigError(`must be an integer, got ${JSON.stringify(options.seed)}`, { option: 'seed' });
  const layerWeights = options.layerWeights;
  if (layerWeights !== undefined && (!Array.isArray(layerWeights) || layerWeights.some((w) => !Number.isFinite(w) || w < 0))) {
    throw new ConfigError(`must be an array of finite numbers ≥ 0, got ${JSON.stringify(layerWeights)}`, { option: 'layerWeights' });
  }
  return { variant, lambda, beta, curvature, seed, layerWeights: layerWeights?.slice() };
}
