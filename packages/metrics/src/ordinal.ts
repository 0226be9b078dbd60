/**
 * Ordinal-classification metrics: mean absolute error, confusion matrix and
 * quadratic weighted kappa. Classes are integers 0 … K − 1 in their natural
 * order (e.g. stars − 1).
 */
import { ConfigError } from '@chainz/core';

function check(pred: ArrayLike<number>, truth: ArrayLike<number>, nClasses?: number): void {
  if (pred.length !== truth.length) throw new ConfigError(`${pred.length} predictions for ${truth.length} labels`, { option: 'predictions' });
  if (nClasses !== undefined) {
    if (!(Number.isInteger(nClasses) && nClasses >= 2)) throw new ConfigError(`nClasses must be an integer ≥ 2, got ${nClasses}`, { option: 'nClasses' });
    for (let i = 0; i < pred.length; i++) {
      for (const [v, what] of [[pred[i], 'prediction'], [truth[i], 'label']] as const) {
        if (!(Number.isInteger(v) && v >= 0 && v < nClasses)) throw new ConfigError(`${what} ${i} is ${v}; expected 0 … ${nClasses - 1}`, { option: what === 'label' ? 'labels' : 'predictions' });
      }
    }
  }
}

/**
 * Mean absolute error between predicted and true ordinal classes:
 *
 *     MAE = (1/N) Σ_i |ŷ_i − y_i|
 *
 * in units of classes (e.g. stars); 0 is perfect, K − 1 the worst possible.
 *
 * @param pred predicted classes ŷ, length N.
 * @param truth true classes y, length N.
 * @returns the MAE; NaN for N = 0.
 * @throws ConfigError (option `predictions`) when the lengths differ.
 */
export function meanAbsoluteError(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  check(pred, truth);
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i] - truth[i]);
  return pred.length === 0 ? NaN : s / pred.length;
}

/**
 * Confusion matrix of true class i (rows) against predicted class j (columns):
 *
 *     O_ij = #{n : y_n = i and ŷ_n = j},   i, j ∈ 0 … K − 1
 *
 * @param pred predicted classes ŷ, length N.
 * @param truth true classes y, length N.
 * @param nClasses K ≥ 2.
 * @returns K × K counts (row sums: true class counts; column sums: predicted counts).
 * @throws ConfigError for unequal lengths, K < 2 or a class outside 0 … K − 1
 *   (option `labels` or `predictions`, naming the index).
 */
export function confusionMatrix(pred: ArrayLike<number>, truth: ArrayLike<number>, nClasses: number): number[][] {
  check(pred, truth, nClasses);
  const o = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < pred.length; i++) o[truth[i]][pred[i]]++;
  return o;
}

/**
 * Quadratic weighted kappa (Cohen 1968), the agreement of ordinal ratings
 * corrected for chance, with quadratic disagreement weights:
 *
 *     w_ij = (i − j)² / (K − 1)²,   E_ij = (Σ_j' O_ij')(Σ_i' O_i'j) / N
 *     κ = 1 − Σ_ij w_ij O_ij / Σ_ij w_ij E_ij
 *
 * (O: confusion matrix of true class i vs predicted class j; E: its
 * expectation under independent marginals). κ = 1 for perfect agreement,
 * 0 for chance-level agreement, < 0 below chance. Same definition as
 * scikit-learn's `cohen_kappa_score(weights='quadratic')` (the 1/(K−1)²
 * normalisation cancels). Written here because no maintained npm package
 * provides it; tested on hand-computed cases.
 *
 * @param pred predicted classes ŷ, length N, in 0 … K − 1.
 * @param truth true classes y, length N, in 0 … K − 1.
 * @param nClasses K ≥ 2.
 * @returns κ; NaN when Σ w·E = 0 (e.g. every label and prediction in one class).
 * @throws ConfigError for unequal lengths or a class outside 0 … K − 1.
 */
export function quadraticWeightedKappa(pred: ArrayLike<number>, truth: ArrayLike<number>, nClasses: number): number {
  const o = confusionMatrix(pred, truth, nClasses);
  const n = pred.length;
  const rows = o.map((r) => r.reduce((a, b) => a + b, 0));
  const cols = o[0].map((_, j) => o.reduce((a, r) => a + r[j], 0));
  let num = 0, den = 0;
  for (let i = 0; i < nClasses; i++) {
    for (let j = 0; j < nClasses; j++) {
      const w = ((i - j) * (i - j)) / ((nClasses - 1) * (nClasses - 1));
      num += w * o[i][j];
      den += n === 0 ? 0 : (w * rows[i] * cols[j]) / n;
    }
  }
  return den === 0 ? NaN : 1 - num / den;
}
