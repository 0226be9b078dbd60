import { ConfigError } from '@chainz/core';
import ttest from '@stdlib/stats-ttest';
import wilcoxon from '@stdlib/stats-wilcoxon';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import padjust from '@stdlib/stats-padjust';
import { deviation, mean, variance } from 'd3-array';

/** Result of every two-sample comparison test (two-sided). */
export interface TestResult {
  /** Test statistic (t for the t-tests; min(T⁺, T⁻) for Wilcoxon). */
  statistic: number;
  /** Two-sided p-value in [0, 1]. */
  p: number;
  /** Degrees of freedom (t-tests only). */
  df?: number;
  /** Set when the result needs a word of explanation (degenerate input, method used). */
  note?: string;
}

/** Note attached when every paired difference is exactly zero. */
export const ALL_ZERO_NOTE = 'all paired differences are zero: no evidence of a difference (p = 1 by convention)';

function toPairs(a: ArrayLike<number>, b: ArrayLike<number>, minPairs = 2): { x: number[]; y: number[]; diffs: number[] } {
  if (a.length !== b.length) {
    throw new ConfigError(`paired samples must have the same length, got ${a.length} and ${b.length}`, { option: 'b' });
  }
  if (a.length < minPairs) {
    throw new ConfigError(`need at least ${minPairs} paired values, got ${a.length}`, { option: 'a' });
  }
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new ConfigError(`pair ${i} is (${x[i]}, ${y[i]}); every value must be finite`, { option: Number.isFinite(x[i]) ? 'b' : 'a' });
    }
  }
  return { x, y, diffs: x.map((v, i) => v - y[i]) };
}

/**
 * Mean and sample standard deviation (ddof = 1, i.e. divided by n − 1, like
 * numpy's `std(ddof=1)` and R's `sd`), via d3-array. Used for "mean ± std
 * over folds × seeds" (docs/metrics.md).
 *
 * @param xs values, length n ≥ 1, all finite.
 * @returns `{ mean, std, n }`; `std` is `NaN` when n = 1 (undefined).
 * @throws ConfigError for an empty array or a non-finite value.
 */
export function meanStd(xs: ArrayLike<number>): { mean: number; std: number; n: number } {
  const v = Array.from(xs);
  if (v.length === 0) throw new ConfigError('meanStd needs at least one value', { option: 'xs' });
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new ConfigError(`value ${bad} is ${v[bad]}; every value must be finite`, { option: 'xs' });
  return { mean: mean(v) as number, std: deviation(v) ?? Number.NaN, n: v.length };
}

/**
 * Paired Student's t-test of H0: mean(a − b) = 0, two-sided, via
 * `@stdlib/stats-ttest` (matches `scipy.stats.ttest_rel`).
 *
 * Treats the pairs as independent — for cross-validation folds, whose
 * training sets overlap, this is anti-conservative; prefer
 * {@link correctedResampledTTest}.
 *
 * @param a first sample (e.g. accuracy of model A per fold), length n ≥ 2.
 * @param b paired second sample, same length.
 * @returns `{ statistic: t, p, df: n − 1 }`. If every difference is zero the
 *   t statistic is 0/0: returns `{ statistic: 0, p: 1, note }`. If the
 *   differences are constant but non-zero, t = ±Infinity and p = 0 (with a note).
 * @throws ConfigError for unequal lengths, n < 2 or non-finite values.
 */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const { x, y, diffs } = toPairs(a, b);
  const df = x.length - 1;
  if (diffs.every((d) => d === 0)) return { statistic: 0, p: 1, df, note: ALL_ZERO_NOTE };
  const r = ttest(x, y);
  const result: TestResult = { statistic: r.statistic, p: r.pValue, df: r.df };
  if (!Number.isFinite(r.statistic)) result.note = 'the paired differences have zero variance (all equal, non-zero)';
  return result;
}

/**
 * Wilcoxon signed-rank test of H0: the paired differences a − b are
 * symmetric about 0, two-sided, via `@stdlib/stats-wilcoxon` (zero
 * differences dropped, scipy's default `zero_method='wilcox'`).
 *
 * p-value: exact signed-rank distribution when there are at most 50 non-zero
 * differences, no zero differences and no tied |differences| (matches
 * `scipy.stats.wilcoxon`); otherwise the normal approximation with tie
 * correction and continuity correction (matches scipy's
 * `method='approx', correction=True`; R's default). `note` says which.
 *
 * @param a first sample, length n ≥ 2; @param b paired second sample.
 * @returns `{ statistic, p, note }` where statistic = min(T⁺, T⁻), the
 *   smaller of the rank sums of positive and negative differences (scipy's
 *   convention; stdlib itself reports T⁺). If every difference is zero:
 *   `{ statistic: 0, p: 1, note }` (stdlib throws there).
 * @throws ConfigError for unequal lengths, n < 2 or non-finite values.
 */
export function wilcoxonSignedRank(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const { x, y, diffs } = toPairs(a, b);
  const nonZero = diffs.filter((d) => d !== 0);
  if (nonZero.length === 0) return { statistic: 0, p: 1, note: ALL_ZERO_NOTE };
  const r = wilcoxon(x, y);
  const m = nonZero.length;
  const tPlus = r.statistic;
  const tMinus = (m * (m + 1)) / 2 - tPlus;
  const abs = nonZero.map(Math.abs);
  const ties = new Set(abs).size !== abs.length;
  const exact = m <= 50 && m === diffs.length && !ties;
  return {
    statistic: Math.min(tPlus, tMinus),
    p: Math.min(1, r.pValue),
    note: exact
      ? 'exact signed-rank distribution'
      : `normal approximation with continuity correction (${[m > 50 ? 'n > 50' : '', m < diffs.length ? `${diffs.length - m} zero differences dropped` : '', ties ? 'tied |differences|' : ''].filter(Boolean).join(', ')})`,
  };
}

/** Sizes for {@link correctedResampledTTest}. */
export interface ResampledSizes {
  /** Training-set size n_train of one resample (fold), > 0. */
  nTrain: number;
  /** Test-set size n_test of one resample, > 0. */
  nTest: number;
}

/**
 * Nadeau–Bengio corrected resampled t-test (Nadeau & Bengio 2003; Bouckaert
 * & Frank 2004 for repeated k-fold), two-sided — the test shown in tables
 * (docs/metrics.md). With d_j = a_j − b_j over the k paired resamples (all folds
 * of all repeats), d̄ their mean and σ̂² their sample variance (ddof 1):
 *
 *   t = d̄ / sqrt((1/k + n_test/n_train) · σ̂²),   df = k − 1,
 *   p = 2 · F_t(−|t|; df)
 *
 * The n_test/n_train term inflates the variance for the overlap between the
 * training sets of different folds (the naive paired t-test has only 1/k).
 * Mean/variance from d3-array, the t CDF from `@stdlib/stats-base-dists-t-cdf`;
 * this formula is the one hand-written statistic of the project.
 *
 * @param a per-resample score of model A (e.g. accuracy per fold × repeat), length k ≥ 2.
 * @param b paired scores of model B, same length and order.
 * @param sizes `{ nTrain, nTest }` of one resample (e.g. 691 and 77 for 10-fold Pima).
 * @returns `{ statistic: t, p, df: k − 1 }`; all-zero differences give
 *   `{ statistic: 0, p: 1, note }`; constant non-zero differences give t = ±Infinity, p = 0 (with a note).
 * @throws ConfigError for unequal lengths, k < 2, non-finite values or non-positive sizes.
 */
export function correctedResampledTTest(a: ArrayLike<number>, b: ArrayLike<number>, sizes: ResampledSizes): TestResult {
  const { nTrain, nTest } = sizes ?? ({} as ResampledSizes);
  if (!(Number.isFinite(nTrain) && nTrain > 0)) throw new ConfigError(`nTrain must be a positive number, got ${nTrain}`, { option: 'nTrain' });
  if (!(Number.isFinite(nTest) && nTest > 0)) throw new ConfigError(`nTest must be a positive number, got ${nTest}`, { option: 'nTest' });
  const { diffs } = toPairs(a, b);
  const k = diffs.length;
  const df = k - 1;
  if (diffs.every((d) => d === 0)) return { statistic: 0, p: 1, df, note: ALL_ZERO_NOTE };
  const dBar = mean(diffs) as number;
  const s2 = variance(diffs) as number;
  const t = dBar / Math.sqrt((1 / k + nTest / nTrain) * s2);
  if (!Number.isFinite(t)) {
    return { statistic: Math.sign(dBar) * Infinity, p: 0, df, note: 'the paired differences have zero variance (all equal, non-zero)' };
  }
  return { statistic: t, p: Math.min(1, 2 * tCdf(-Math.abs(t), df)), df };
}

/** Multiple-comparison corrections supported by {@link adjustPValues}. */
export type PAdjustMethod = 'holm' | 'bonferroni';

/**
 * Family-wise error correction of p-values over the comparisons made, via
 * `@stdlib/stats-padjust`: Bonferroni (p·m, capped at 1) or Holm's step-down
 * method (uniformly more powerful, same guarantee). Matches R's `p.adjust`.
 *
 * @param p raw p-values, each in [0, 1] (length m; empty gives []).
 * @param method `'holm'` or `'bonferroni'`.
 * @returns adjusted p-values, same order as `p`.
 * @throws ConfigError for an unknown method or a p-value outside [0, 1].
 */
export function adjustPValues(p: ArrayLike<number>, method: PAdjustMethod): number[] {
  if (method !== 'holm' && method !== 'bonferroni') {
    throw new ConfigError(`unknown p-value correction '${String(method)}'; valid: holm, bonferroni`, { option: 'method' });
  }
  const ps = Array.from(p);
  const bad = ps.findIndex((v) => !(v >= 0 && v <= 1));
  if (bad >= 0) throw new ConfigError(`p-value ${bad} is ${ps[bad]}; p-values must be in [0, 1]`, { option: 'p' });
  if (ps.length === 0) return [];
  return padjust(ps, method);
}
