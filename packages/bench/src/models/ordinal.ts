import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@chainz/core';

/**
 * Cumulative-link (CORAL-style) ordinal regression head with K − 1 ordered
 * thresholds, for labels y ∈ {0, …, K − 1}.
 *
 * The network ends in ONE score per sample, s(x) = h(x)·w + b (a dense layer
 * with a single output). With learnable gap parameters u_1 … u_{K−2},
 *
 *     θ_0 = −b,   θ_k = θ_{k−1} + softplus(u_k)    (k = 1 … K − 2)
 *     η_k(x) = s(x) − θ_k  = (h·w + b) − Σ_{j ≤ k} softplus(u_j)
 *     P(y > k | x) = σ(η_k(x)),   k = 0 … K − 2
 *
 * so θ_0 < θ_1 < … < θ_{K−2} for every parameter value, hence
 * P(y > 0) ≥ P(y > 1) ≥ … for every input: the head is **rank-consistent by
 * construction** (CORAL, Cao, Mirjalili & Raschka 2020, shares w across the
 * K − 1 binary tasks but leaves the biases free and proves ordering only at
 * the optimum; here the ordering is a hard constraint, as in the
 * proportional-odds cumulative logit model of McCullagh 1980).
 *
 * Loss (CORAL's K − 1 binary cross-entropies, summed over k, per sample),
 * with z_k = 1{y > k}:
 *
 *     ℓ(x, y) = Σ_k [ z_k·softplus(−η_k) + (1 − z_k)·softplus(η_k) ]
 *             = Σ_k [ softplus(η_k) − z_k·η_k ]
 *     ∂ℓ/∂η_k = σ(η_k) − z_k
 *
 * Prediction: ŷ = #{k : η_k > 0} = #{k : P(y > k) > 1/2}, the median of the
 * predictive distribution P(y = k) = σ(η_{k−1}) − σ(η_k) (σ(η_{−1}) = 1,
 * σ(η_{K−1}) = 0), which minimises the expected absolute error.
 */
export const ORDINAL_HEAD_EQUATION = 'η_k = s(x) − θ_k, θ_0 = −b, θ_k = θ_{k−1} + softplus(u_k); P(y > k) = σ(η_k); ℓ = Σ_k softplus(η_k) − 1{y>k}·η_k; ŷ = #{k : η_k > 0}';

/** log(e − 1): softplus of it is 1, the initial gap between thresholds. */
export const UNIT_GAP = Math.log(Math.E - 1);

/** Check K ≥ 2 (an ordinal head needs at least one threshold). */
function checkClasses(nClasses: number): void {
  if (!(Number.isInteger(nClasses) && nClasses >= 2)) throw new ConfigError(`an ordinal head needs an integer number of classes ≥ 2, got ${nClasses}`, { option: 'nClasses' });
}

/**
 * Cumulative logits η = s − offsets, offsets_k = Σ_{j ≤ k} softplus(u_j)
 * (offsets_0 = 0). The threshold θ_0 is carried by the score's bias.
 *
 * @param score s(x), shape `[B, 1]` (the output of a dense layer with one unit, bias included).
 * @param gaps u, shape `[K − 2]`, or null when K = 2 (one threshold).
 * @returns η, shape `[B, K − 1]`, strictly decreasing along axis 1 (up to float32 rounding).
 * @throws ShapeError (tensor `score`) unless score is `[B, 1]`.
 */
export function cumulativeLogits(score: tf.Tensor2D, gaps: tf.Tensor1D | null): tf.Tensor2D {
  if (score.rank !== 2 || score.shape[1] !== 1) throw new ShapeError(`ordinal score must have shape [B, 1], got [${score.shape}]`, { tensor: 'score' });
  if (gaps === null || gaps.shape[0] === 0) return score;
  return tf.tidy(() => {
    const m = gaps.shape[0] + 1; // K − 1 thresholds
    const steps = tf.concat([tf.zeros([1]), tf.softplus(gaps)]) as tf.Tensor1D; // [K − 1]
    // offsets_k = Σ_{j ≤ k} steps_j, as a product with an upper-triangular matrix of ones.
    const upper = new Float32Array(m * m);
    for (let i = 0; i < m; i++) for (let j = i; j < m; j++) upper[i * m + j] = 1;
    const offsets = tf.matMul(tf.reshape(steps, [1, m]), tf.tensor2d(upper, [m, m])); // [1, K − 1]
    return tf.sub(score, offsets) as tf.Tensor2D;
  });
}

/**
 * Binary level targets z_k = 1{y > k}, k = 0 … K − 2.
 * @param y labels in 0 … K − 1, length n.
 * @returns float32 `[n, K − 1]`.
 * @throws ConfigError (option `labels`) for a label outside 0 … K − 1.
 */
export function ordinalLevels(y: Int32Array, nClasses: number): tf.Tensor2D {
  checkClasses(nClasses);
  const m = nClasses - 1;
  const z = new Float32Array(y.length * m);
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!(c >= 0 && c < nClasses)) throw new ConfigError(`label ${i} is ${c}; expected 0 … ${nClasses - 1}`, { option: 'labels' });
    for (let k = 0; k < c; k++) z[i * m + k] = 1;
  }
  return tf.tensor2d(z, [y.length, m]);
}

/**
 * Per-sample ordinal loss ℓ_i = Σ_k softplus(η_ik) − z_ik·η_ik (the sum of the
 * K − 1 binary cross-entropies; see {@link ORDINAL_HEAD_EQUATION}).
 * @param eta cumulative logits `[B, K − 1]`.
 * @param levels z = 1{y > k}, `[B, K − 1]` ({@link ordinalLevels}).
 * @returns `[B]`.
 * @throws ShapeError (tensor `levels`) when the shapes differ.
 */
export function ordinalLoss(eta: tf.Tensor2D, levels: tf.Tensor2D): tf.Tensor1D {
  if (eta.shape[0] !== levels.shape[0] || eta.shape[1] !== levels.shape[1]) {
    throw new ShapeError(`levels [${levels.shape}] must match the cumulative logits [${eta.shape}]`, { tensor: 'levels' });
  }
  return tf.tidy(() => tf.sum(tf.sub(tf.softplus(eta), tf.mul(levels, eta)), 1) as tf.Tensor1D);
}

/**
 * Predicted class ŷ_i = #{k : η_ik > 0} (the predictive median).
 * @param eta cumulative logits `[B, K − 1]` (a tensor or row-major values with `m = K − 1` columns).
 * @returns `[B]` classes in 0 … K − 1.
 */
export function ordinalPredict(eta: tf.Tensor2D | Float32Array, m?: number): Int32Array {
  const values = eta instanceof Float32Array ? eta : (eta.dataSync() as Float32Array);
  const cols = eta instanceof Float32Array ? m! : eta.shape[1];
  if (!(Number.isInteger(cols) && cols >= 1)) throw new ConfigError(`number of thresholds must be ≥ 1, got ${cols}`, { option: 'm' });
  const n = values.length / cols;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let k = 0; k < cols; k++) if (values[i * cols + k] > 0) c++;
    out[i] = c;
  }
  return out;
}

/**
 * Class probabilities P(y = k | x) = σ(η_{k−1}) − σ(η_k) from cumulative logits
 * (non-negative because η is decreasing; rows sum to 1).
 * @param eta `[B, K − 1]`.
 * @returns `[B, K]`.
 */
export function ordinalClassProbabilities(eta: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const p = tf.sigmoid(eta); // P(y > k)
    const b = eta.shape[0];
    const upper = tf.concat([tf.ones([b, 1]), p], 1); // P(y > k − 1)
    const lower = tf.concat([p, tf.zeros([b, 1])], 1); // P(y > k)
    return tf.sub(upper, lower) as tf.Tensor2D;
  });
}
