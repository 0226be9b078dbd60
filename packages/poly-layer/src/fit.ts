import * as tf from '@tensorflow/tfjs-core';
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import { ConfigError } from '@chainz/core';
import { resolvePolyConfig, type PolyConfig } from './config';
import { basisValues, guardValue } from './basis';
import { targetFunction, TARGET_ACTIVATIONS, DEFAULT_LEAKY_RELU_ALPHA, type TargetActivation } from './targets';

/** Default interval of z on which the initial coefficients are fitted: ±3 standard deviations of a unit-variance pre-activation. */
export const DEFAULT_FIT_DOMAIN: readonly [number, number] = Object.freeze([-3, 3] as [number, number]);

/** Options of {@link fitPolynomial}. */
export interface PolyFitOptions {
  /** Interval [lo, hi] of z (for `layernorm`: of the normalised u) sampled by the fit. Default [−3, 3]. */
  domain?: [number, number];
  /** Number of equally spaced sample points, endpoints included. Default 2001. */
  points?: number;
  /** Ridge penalty ρ in min_a (1/n)·‖X·a − t‖² + ρ·‖a‖². Default 1e-8. */
  ridge?: number;
  /** Negative slope of the `leakyRelu` target. Default 0.2. */
  alpha?: number;
}

/** Result of a least-squares fit of one coefficient set to a target activation. */
export interface PolyFit {
  /** Coefficients a_0 … a_K in the configured basis. */
  coeffs: number[];
  /** Root-mean-square error of σ against the target on the sample grid. */
  rmse: number;
  /** Largest absolute error of σ against the target on the sample grid. */
  maxAbsError: number;
  /** The interval of z that was fitted. */
  domain: [number, number];
  /** The target activation. */
  target: TargetActivation;
  /** Number of sample points. */
  points: number;
  /** Ridge penalty used. */
  ridge: number;
}

const fitCache = new Map<string, PolyFit>();

/**
 * Least-squares fit (ridge, via SVD: a = V·diag(s/(s²+ρ))·Uᵀ·t, so a rank-deficient
 * design matrix is harmless) of the polynomial coefficients to a target activation,
 * computed in float64 plain JS (DESIGN §2, "Init").
 *
 * The design matrix is X[i,k] = P_k(g(z_i)) on `points` equally spaced z_i in
 * `domain` — the guard g is applied, so the fitted σ imitates the target as a
 * function of z, including the guard's saturation (`tanh`) or flat tails (`clip`).
 * For `layernorm` the fit is on the normalised value u directly (the guard's own
 * normalisation cannot be known per unit before training).
 *
 * Results are cached per (target, config, options).
 *
 * @param target activation to imitate.
 * @param config polynomial configuration (degree, basis, guard, scale; sharing is irrelevant).
 * @param opts domain (default [−3, 3]), points (2001), ridge (1e-8), alpha (0.2).
 * @returns the coefficients and the fit error (RMSE and max abs error on the grid).
 * @throws ConfigError naming `target`, `domain`, `points`, `ridge` or `alpha` for invalid values.
 */
export function fitPolynomial(target: TargetActivation, config: PolyConfig, opts: PolyFitOptions = {}): PolyFit {
  const cfg = resolvePolyConfig(config);
  if (!(TARGET_ACTIVATIONS as readonly string[]).includes(target)) {
    throw new ConfigError(`unknown target activation ${JSON.stringify(target)} (valid: ${TARGET_ACTIVATIONS.join(', ')})`, { option: 'target' });
  }
  const domain: [number, number] = opts.domain ? [opts.domain[0], opts.domain[1]] : [DEFAULT_FIT_DOMAIN[0], DEFAULT_FIT_DOMAIN[1]];
  if (!Number.isFinite(domain[0]) || !Number.isFinite(domain[1]) || !(domain[0] < domain[1])) {
    throw new ConfigError(`must be a finite interval [lo, hi] with lo < hi, got ${JSON.stringify(opts.domain)}`, { option: 'domain' });
  }
  const points = opts.points ?? 2001;
  if (!Number.isInteger(points) || points < cfg.degree + 2 || points > 1_000_000) {
    throw new ConfigError(`must be an integer in [degree+2, 1e6], got ${JSON.stringify(opts.points)}`, { option: 'points' });
  }
  const ridge = opts.ridge ?? 1e-8;
  if (!Number.isFinite(ridge) || ridge < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(opts.ridge)}`, { option: 'ridge' });
  const alpha = opts.alpha ?? DEFAULT_LEAKY_RELU_ALPHA;
  if (!Number.isFinite(alpha)) throw new ConfigError(`must be finite, got ${JSON.stringify(opts.alpha)}`, { option: 'alpha' });

  const key = JSON.stringify([target, cfg.degree, cfg.basis, cfg.guard, cfg.scale, domain, points, ridge, alpha]);
  const cached = fitCache.get(key);
  if (cached) return { ...cached, coeffs: cached.coeffs.slice(), domain: [domain[0], domain[1]] };

  const f = targetFunction(target, alpha);
  const K = cfg.degree;
  const rows: number[][] = [];
  const t: number[] = [];
  const w = 1 / Math.sqrt(points);
  for (let i = 0; i < points; i++) {
    const z = domain[0] + ((domain[1] - domain[0]) * i) / (points - 1);
    rows.push(basisValues(cfg.basis, K, guardValue(cfg, z)).map((v) => v * w));
    t.push(f(z) * w);
  }
  const X = new Matrix(rows);
  const svd = new SingularValueDecomposition(X, { computeLeftSingularVectors: true, computeRightSingularVectors: true, autoTranspose: false });
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const s = svd.diagonal;
  const coeffs = new Array<number>(K + 1).fill(0);
  for (let j = 0; j < s.length; j++) {
    const sj = s[j];
    if (!(sj > 0)) continue;
    let ut = 0;
    for (let i = 0; i < points; i++) ut += U.get(i, j) * t[i];
    const factor = (sj / (sj * sj + ridge)) * ut;
    for (let k = 0; k <= K; k++) coeffs[k] += V.get(k, j) * factor;
  }
  let se = 0;
  let maxAbs = 0;
  for (let i = 0; i < points; i++) {
    let y = 0;
    for (let k = 0; k <= K; k++) y += rows[i][k] * coeffs[k];
    const e = (y - t[i]) / w;
    se += e * e;
    maxAbs = Math.max(maxAbs, Math.abs(e));
  }
  const fit: PolyFit = { coeffs, rmse: Math.sqrt(se / points), maxAbsError: maxAbs, domain, target, points, ridge };
  fitCache.set(key, { ...fit, coeffs: coeffs.slice() });
  return fit;
}

/**
 * Initial coefficient tensor of a polynomial layer, fitted to a target activation
 * (every channel starts from the same fitted set).
 *
 * @param channels number of channels C (features of a dense layer, output channels of a conv).
 * @param target activation the layer replaces.
 * @param config polynomial configuration; `sharing: 'layer'` gives one row.
 * @param opts fit options (see {@link fitPolynomial}).
 * @returns `coeffs` with shape `[C, K+1]` (`[1, K+1]` for layer sharing) and the fit report.
 * @throws ConfigError (option `channels`) if `channels` is not a positive integer.
 */
export function initPolyCoefficients(
  channels: number,
  target: TargetActivation,
  config: PolyConfig,
  opts: PolyFitOptions = {},
): { coeffs: tf.Tensor2D; fit: PolyFit } {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new ConfigError(`must be a positive integer, got ${JSON.stringify(channels)}`, { option: 'channels' });
  }
  const cfg = resolvePolyConfig(config);
  const fit = fitPolynomial(target, cfg, opts);
  const rowsCount = cfg.sharing === 'channel' ? channels : 1;
  const values = new Float32Array(rowsCount * (cfg.degree + 1));
  for (let r = 0; r < rowsCount; r++) values.set(fit.coeffs, r * (cfg.degree + 1));
  return { coeffs: tf.tensor2d(values, [rowsCount, cfg.degree + 1]), fit };
}
