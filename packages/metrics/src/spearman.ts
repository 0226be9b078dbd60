import { ConfigError, NumericError, Rng } from '@chainz/core';
import pcorrtest from '@stdlib/stats-pcorrtest';
import ranks from '@stdlib/stats-ranks';
import { quantile } from 'd3-array';

/** Options of {@link spearmanCorrelation}. */
export interface SpearmanOptions {
  /** Bootstrap resamples for the confidence interval; default 2000. */
  resamples?: number;
  /** Coverage of the interval, in (0, 1); default 0.95. */
  confidence?: number;
  /** Seed of the bootstrap (any integer); default 0. */
  seed?: number;
}

/** Result of {@link spearmanCorrelation}. */
export interface SpearmanResult {
  /** Spearman's ρ: Pearson's correlation of the ranks (ties get their average rank). NaN if x or y is constant. */
  rho: number;
  /**
   * Two-sided p-value of ρ = 0 from t = ρ √((n−2)/(1−ρ²)) with n − 2 degrees
   * of freedom (the asymptotic test of `scipy.stats.spearmanr`).
   */
  pValue: number;
  /** Number of pairs. */
  n: number;
  /** Percentile bootstrap interval [lo, hi] for ρ (pairs resampled with replacement). */
  ci: [number, number];
  /** The interval's nominal coverage. */
  confidence: number;
  /** Resamples that gave a defined ρ (the interval is computed from these). */
  resamples: number;
  /** Resamples in which x or y was constant (ρ undefined), left out. */
  degenerate: number;
}

/**
 * Spearman's rank correlation with a seeded percentile-bootstrap confidence
 * interval.
 *
 * ρ = Pearson correlation of rank(x) and rank(y), average ranks for ties
 * (`@stdlib/stats-ranks`, `@stdlib/stats-pcorrtest`); its p-value is the
 * t-approximation with n − 2 degrees of freedom. The interval: draw n pairs
 * with replacement `resamples` times (@chainz/core `Rng`, seeded), compute ρ*
 * of each (re-ranking the resample), and take the (1−c)/2 and (1+c)/2
 * quantiles of the ρ* (linear interpolation, type 7). Resamples where x or y
 * is constant have no ρ* and are counted in `degenerate`. With few distinct
 * points the percentile interval is coarse; report n beside it.
 *
 * @param x first variable, length n ≥ 4.
 * @param y second variable, same length.
 * @returns ρ, p-value, the interval and bootstrap counts. When x or y is
 *   constant, ρ, pValue and the interval are NaN (not an error).
 * @throws ConfigError (option `x`/`y`, `resamples`, `confidence`, `seed`) for
 *   mismatched lengths, n < 4 or bad options.
 * @throws NumericError (tensor `x` or `y`) for NaN or ±Infinity.
 */
export function spearmanCorrelation(x: ArrayLike<number>, y: ArrayLike<number>, opts: SpearmanOptions = {}): SpearmanResult {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const seed = opts.seed ?? 0;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new ConfigError(`resamples must be a positive integer, got ${resamples}`, { option: 'resamples' });
  if (!(confidence > 0 && confidence < 1)) throw new ConfigError(`confidence must be in (0, 1), got ${confidence}`, { option: 'confidence' });
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}`, { option: 'seed' });
  const n = x.length;
  if (y.length !== n) throw new ConfigError(`x has ${n} values but y has ${y.length}`, { option: 'y' });
  if (n < 4) throw new ConfigError(`Spearman's correlation needs at least 4 pairs, got ${n}`, { option: 'x' });
  for (const [name, v] of [
    ['x', x],
    ['y', y],
  ] as const) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(v[i])) throw new NumericError(`${name}[${i}] is ${v[i]}`, { tensor: name });
    }
  }
  const xs = Array.from(x);
  const ys = Array.from(y);
  const point = rankCorrelation(xs, ys);
  const rng = new Rng(seed);
  const rx = new Array<number>(n);
  const ry = new Array<number>(n);
  const rhos: number[] = [];
  let degenerate = 0;
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      rx[i] = xs[j];
      ry[i] = ys[j];
    }
    const r = rankCorrelation(rx, ry).rho;
    if (Number.isNaN(r)) degenerate++;
    else rhos.push(r);
  }
  const alpha = 1 - confidence;
  const ci: [number, number] =
    rhos.length > 0 && !Number.isNaN(point.rho) ? [quantile(rhos, alpha / 2) as number, quantile(rhos, 1 - alpha / 2) as number] : [Number.NaN, Number.NaN];
  return { rho: point.rho, pValue: point.pValue, n, ci, confidence, resamples: rhos.length, degenerate };
}

/** ρ and its t-test p-value; NaN for a constant variable. */
function rankCorrelation(x: number[], y: number[]): { rho: number; pValue: number } {
  if (isConstant(x) || isConstant(y)) return { rho: Number.NaN, pValue: Number.NaN };
  const r = pcorrtest(ranks(x), ranks(y));
  // Rounding can put a perfect correlation a hair outside [-1, 1].
  return { rho: Math.max(-1, Math.min(1, r.pcorr)), pValue: r.pValue };
}

function isConstant(v: number[]): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}
