import * as tf from '@tensorflow/tfjs-core';
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import { ConfigError, NumericError } from '@chainz/core';
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
  /**
   * Ridge penalty ρ in min_a (1/n)·‖X·a − t‖² + ρ·‖a‖². Default 1e-8. `0` gives
   * the minimum-norm least-squares solution (as `numpy.linalg.lstsq`: singular
   * values below ε·max(points, K+1)·s_max count as zero), never coefficients
   * blown up by rounding noise.
   */
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
  /**
   * Numerical rank of the design matrix: the number of singular values above
   * ε·max(points, K+1)·s_max (the others are treated as zero). Below K+1 when
   * the basis functions are linearly dependent on the fitted values of g(z),
   * e.g. a saturated guard.
   */
  rank: number;
}

const fitCache = new Map<string, PolyFit>();

/** Machine epsilon of float64: singular values below ε·max(n, K+1)·s_max count as zero. */
const RCOND_EPS = Number.EPSILON;
/** Largest finite float32 and float32's machine epsilon (the layers evaluate in float32). */
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT32_EPS = 2 ** -23;

/**
 * Least-squares fit (ridge, via SVD: a = V·diag(s_j/(s_j²+ρ))·Uᵀ·t over the
 * singular values s_j > ε·max(n, K+1)·s_max, so a rank-deficient design matrix
 * is harmless, also with ρ = 0) of the polynomial coefficients to a target
 * activation, computed in float64 plain JS.
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
 * @returns the coefficients, the fit error (RMSE and max abs error on the grid) and the rank used.
 * @throws ConfigError naming `target`, `domain`, `points`, `ridge` or `alpha` for invalid values.
 * @throws NumericError when the result is not usable in the float32 layers: basis values
 *   beyond float32's range on the domain (e.g. guard `none`, degree 12, |z| ≥ 1.6e3),
 *   coefficients not finite in float32, or terms so large that float32 rounding
 *   (2⁻²³ of them) would exceed the target's values (ill-conditioned).
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
  // Singular values below rcond·s_max are numerically zero (numpy's lstsq cutoff):
  // dropping them gives the minimum-norm solution instead of dividing by rounding noise.
  const sMax = Math.max(0, ...s);
  const cutoff = sMax * RCOND_EPS * Math.max(points, K + 1);
  let rank = 0;
  for (let j = 0; j < s.length; j++) {
    const sj = s[j];
    if (!(sj > cutoff)) continue;
    rank++;
    let ut = 0;
    for (let i = 0; i < points; i++) ut += U.get(i, j) * t[i];
    const factor = (sj / (sj * sj + ridge)) * ut;
    for (let k = 0; k <= K; k++) coeffs[k] += V.get(k, j) * factor;
  }
  let se = 0;
  let maxAbs = 0;
  let maxBasis = 0; // max |P_k(g(z_i))| on the grid
  let maxTerms = 0; // max Σ_k |a_k·P_k(g(z_i))|: what float32 rounding is relative to
  let maxTarget = 0;
  for (let i = 0; i < points; i++) {
    let y = 0;
    let terms = 0;
    for (let k = 0; k <= K; k++) {
      y += rows[i][k] * coeffs[k];
      terms += Math.abs((rows[i][k] * coeffs[k]) / w);
      maxBasis = Math.max(maxBasis, Math.abs(rows[i][k] / w));
    }
    const e = (y - t[i]) / w;
    se += e * e;
    maxAbs = Math.max(maxAbs, Math.abs(e));
    maxTerms = Math.max(maxTerms, terms);
    maxTarget = Math.max(maxTarget, Math.abs(t[i] / w));
  }
  const rmse = Math.sqrt(se / points);
  const what = `fitting '${target}' with degree ${K}, basis '${cfg.basis}', guard '${cfg.guard}' on z ∈ [${domain[0]}, ${domain[1]}]`;
  const hint = "use a bounded guard ('tanh' or 'clip'), a lower degree, a narrower domain, or ridge > 0 (default 1e-8)";
  if (!(maxBasis <= FLOAT32_MAX)) {
    throw new NumericError(`${what}: the basis values reach ${maxBasis.toExponential(2)}, beyond float32's range (${FLOAT32_MAX.toExponential(2)}); the layer could not evaluate the polynomial there`, { option: 'domain' }, hint);
  }
  if (!coeffs.every((a) => Math.abs(a) <= FLOAT32_MAX) || !Number.isFinite(rmse)) {
    throw new NumericError(`${what}: the least-squares coefficients are not finite in float32 (${coeffs.map((a) => a.toExponential(2)).join(', ')})`, { option: 'ridge' }, hint);
  }
  if (FLOAT32_EPS * maxTerms > Math.max(maxTarget, Number.MIN_VALUE)) {
    throw new NumericError(
      `${what}: ill-conditioned — the polynomial's terms reach ${maxTerms.toExponential(2)} to produce values of at most ${maxTarget.toExponential(2)}, so float32 rounding alone would exceed the target`,
      { option: 'ridge' },
      hint,
    );
  }
  const fit: PolyFit = { coeffs, rmse, maxAbsError: maxAbs, domain, target, points, ridge, rank };
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
