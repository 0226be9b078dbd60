import { ConfigError, NumericError } from '@chainz/core';
import { mean, quantile } from 'd3-array';

/** Options of {@link gradientTailRatio}. */
export interface TailRatioOptions {
  /** Quantile level q ∈ (0, 1]; default 0.99 (the "p99" of τ). */
  q?: number;
}

/**
 * Gradient tail ratio τ = quantile_q(g) / mean(g) (docs/metrics.md).
 *
 * τ = 1 for constant magnitudes and τ is invariant to scaling g by any
 * c > 0. A heavy upper tail (a few samples with much larger gradients than
 * the rest) gives τ ≫ 1; for q = 0.99, τ is how many times the mean the
 * 99th-percentile magnitude is.
 *
 * The quantile is the sample quantile with linear interpolation between order
 * statistics — Hyndman & Fan type 7, numpy's default `np.quantile(g, q)` —
 * computed by d3-array's `quantile` in float64 (float32 inputs are widened).
 *
 * @param magnitudes non-negative gradient magnitudes g, length N ≥ 1 (e.g.
 *   from {@link inputGradientNorms} or {@link parameterGradientNorms}, or one
 *   global gradient norm per training step). Any unit: τ is dimensionless.
 * @param opts.q quantile level in (0, 1]; default 0.99. q = 1 gives max/mean.
 * @returns τ as a float64 number. When every magnitude is 0 the mean is 0 and
 *   τ = 0/0 is undefined: the function returns `NaN` (a table shows it as
 *   missing) rather than throwing, so one dead model does not abort a sweep.
 * @throws ConfigError if `magnitudes` is empty, holds a negative value, or q
 *   is outside (0, 1].
 * @throws NumericError if a magnitude is NaN or ±Infinity (diverged model).
 */
export function gradientTailRatio(magnitudes: ArrayLike<number>, opts: TailRatioOptions = {}): number {
  const q = opts.q ?? 0.99;
  if (!(q > 0 && q <= 1)) {
    throw new ConfigError(`q must be in (0, 1], got ${q}`, { option: 'q' });
  }
  const g64 = Float64Array.from(magnitudes);
  const n = g64.length;
  if (n === 0) throw new ConfigError('gradientTailRatio needs at least one magnitude, got an empty array', { tensor: 'magnitudes' });
  for (let i = 0; i < n; i++) {
    const g = g64[i];
    if (!Number.isFinite(g)) {
      throw new NumericError(`magnitude ${i} is ${g}; gradient magnitudes must be finite`, { tensor: 'magnitudes' });
    }
    if (g < 0) {
      throw new ConfigError(`magnitude ${i} is ${g}; gradient magnitudes must be non-negative (pass norms or absolute values)`, { tensor: 'magnitudes' });
    }
  }
  const m = mean(g64) as number;
  if (m === 0) return Number.NaN;
  return (quantile(g64, q) as number) / m;
}
