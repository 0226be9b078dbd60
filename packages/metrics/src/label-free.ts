import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NumericError, ShapeError } from '@chainz/core';
import { inputGradientNorms, type GradientNormOptions } from './gradient-norms';

/**
 * The per-sample scalar whose input gradient is measured when no labels are
 * available (see `docs/metrics.md`, "τ without labels"). With logits
 * z = f(x) ∈ ℝ^K and the predicted class ŷ = argmax_k z_k (held fixed):
 * - `predicted-ce`: the cross-entropy at the predicted class,
 *   ℓ(x, ŷ) = −log softmax(z)_ŷ = logsumexp(z) − z_ŷ. Its gradient is
 *   J_f(x)ᵀ (softmax(z) − e_ŷ): small where the model is confident, large
 *   where it hesitates — the labelled loss gradient with the label replaced
 *   by the model's own guess.
 * - `logit-margin`: the margin m(x) = z_ŷ − max_{k≠ŷ} z_k between the top
 *   two logits. Its gradient J_f(x)ᵀ (e_ŷ − e_ŷ₂) does not saturate with
 *   confidence: it measures how fast the decision changes with the input.
 */
export type LabelFreeTarget = 'predicted-ce' | 'logit-margin';

/** The valid {@link LabelFreeTarget} values. */
export const LABEL_FREE_TARGETS: readonly LabelFreeTarget[] = Object.freeze(['predicted-ce', 'logit-margin']);

/** Options of {@link labelFreeSignals}. */
export interface LabelFreeOptions extends GradientNormOptions {
  /** Which per-sample scalar is differentiated; default `'predicted-ce'`. */
  target?: LabelFreeTarget;
}

/** Per-sample signals of a model on unlabelled inputs (see {@link labelFreeSignals}). */
export interface LabelFreeSignals {
  /** ‖∂s_i/∂x_i‖₂ with s the chosen {@link LabelFreeTarget}, `[N]` float32 (units of s per input unit). */
  gradNorms: Float32Array;
  /** Max-softmax confidence max_k softmax(z_i)_k ∈ [1/K, 1], `[N]` float32: the usual label-free baseline. */
  confidence: Float32Array;
  /** Predicted class ŷ_i = argmax_k z_ik, `[N]` int32 (the first maximum on ties). */
  predicted: Int32Array;
}

/**
 * Label-free per-sample signals of a classifier: input-gradient norms of a
 * scalar that needs no label ({@link LabelFreeTarget}), the max-softmax
 * confidence and the predicted class. τ without labels is then
 * `gradientTailRatio(gradNorms)`.
 *
 * Two passes per batch: a forward pass for ŷ and the confidences, then one
 * backward pass for the gradient norms ({@link inputGradientNorms}; ŷ is a
 * constant there, so no gradient flows through the argmax). Samples must be
 * independent in the forward pass (no batch-coupled layers; see
 * {@link inputGradientNorms}).
 *
 * @param logits maps a batch `[B, …]` to its logits `[B, K]`, K ≥ 2 (a
 *   single-logit binary model z can pass `[0, z]`: same softmax). Called inside `tf.grad`.
 * @param x inputs `[N, …]` float32, rank ≥ 2. Not disposed.
 * @param opts.target default `'predicted-ce'`; `opts.batchSize` rows per pass (default 256).
 * @returns per-sample gradient norms, confidences and predictions, each length N. No tensors are left behind.
 * @throws ConfigError (option `target`) for an unknown target, or a bad `batchSize`.
 * @throws ShapeError if `x` is not float32 with rank ≥ 2 or the logits are not `[B, K]` with K ≥ 2.
 * @throws NumericError if a logit or a gradient norm is NaN or ±Infinity.
 */
export function labelFreeSignals<T extends tf.Tensor2D | tf.Tensor3D | tf.Tensor4D>(
  logits: (x: T) => tf.Tensor2D,
  x: T,
  opts: LabelFreeOptions = {},
): LabelFreeSignals {
  const target = opts.target ?? 'predicted-ce';
  if (!LABEL_FREE_TARGETS.includes(target)) {
    throw new ConfigError(`target must be one of ${LABEL_FREE_TARGETS.join(', ')}, got '${String(target)}'`, { option: 'target' });
  }
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`, { option: 'batchSize' });
  if (x.rank < 2) throw new ShapeError(`x must have shape [N, ...] with rank >= 2, got [${x.shape.join(', ')}]`, { tensor: 'x' });
  if (x.dtype !== 'float32') throw new ShapeError(`x must be float32, got ${x.dtype}`, { tensor: 'x' });
  const n = x.shape[0];
  const predicted = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const [pred, conf] = tf.tidy(() => {
      const xb = tf.slice(x, x.shape.map((_, i) => (i === 0 ? start : 0)), x.shape.map((s, i) => (i === 0 ? rows : s))) as T;
      const z = logits(xb);
      checkLogits(z.shape, rows);
      return [tf.argMax(z, 1), tf.max(tf.softmax(z), 1)];
    });
    try {
      predicted.set(pred.dataSync() as Int32Array, start);
      confidence.set(conf.dataSync() as Float32Array, start);
    } finally {
      tf.dispose([pred, conf]);
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(confidence[i])) throw new NumericError(`the logits of row ${i} are not finite (max-softmax ${confidence[i]})`, { tensor: 'logits' });
  }
  const perSample = (xb: T, start: number): tf.Tensor1D => {
    const z = logits(xb);
    const [rows, kk] = z.shape;
    const mask = tf.oneHot(tf.tensor1d(predicted.subarray(start, start + rows), 'int32'), kk);
    const zy = tf.sum(tf.mul(z, mask), 1);
    if (target === 'predicted-ce') return tf.sub(tf.logSumExp(z, 1), zy) as tf.Tensor1D;
    const others = tf.where(tf.cast(mask, 'bool'), tf.fill([rows, kk], -Infinity), z);
    return tf.sub(zy, tf.max(others, 1)) as tf.Tensor1D;
  };
  const gradNorms = inputGradientNorms(perSample, x, { batchSize });
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(gradNorms[i])) throw new NumericError(`the gradient norm of row ${i} is ${gradNorms[i]}`, { tensor: 'gradNorms' });
  }
  return { gradNorms, confidence, predicted };
}

/**
 * Label-free per-sample input-gradient norms ‖∂s_i/∂x_i‖₂ ({@link labelFreeSignals}'s `gradNorms`).
 * Same arguments and errors as {@link labelFreeSignals}.
 * @returns `[N]` float32.
 */
export function labelFreeGradientNorms<T extends tf.Tensor2D | tf.Tensor3D | tf.Tensor4D>(
  logits: (x: T) => tf.Tensor2D,
  x: T,
  opts: LabelFreeOptions = {},
): Float32Array {
  return labelFreeSignals(logits, x, opts).gradNorms;
}

/**
 * Max-softmax confidence max_k softmax(f(x_i))_k per sample (Hendrycks &
 * Gimpel 2017's baseline for detecting misclassified and out-of-distribution
 * inputs), forward passes only.
 * @param logits maps a batch `[B, …]` to logits `[B, K]`, K ≥ 2.
 * @param x inputs `[N, …]` float32. Not disposed.
 * @returns `[N]` float32 in [1/K, 1].
 * @throws ShapeError / ConfigError / NumericError as {@link labelFreeSignals}.
 */
export function maxSoftmaxConfidence<T extends tf.Tensor2D | tf.Tensor3D | tf.Tensor4D>(
  logits: (x: T) => tf.Tensor2D,
  x: T,
  opts: GradientNormOptions = {},
): Float32Array {
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`, { option: 'batchSize' });
  if (x.rank < 2) throw new ShapeError(`x must have shape [N, ...] with rank >= 2, got [${x.shape.join(', ')}]`, { tensor: 'x' });
  const n = x.shape[0];
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const conf = tf.tidy(() => {
      const xb = tf.slice(x, x.shape.map((_, i) => (i === 0 ? start : 0)), x.shape.map((s, i) => (i === 0 ? rows : s))) as T;
      const z = logits(xb);
      checkLogits(z.shape, rows);
      return tf.max(tf.softmax(z), 1);
    });
    try {
      out.set(conf.dataSync() as Float32Array, start);
    } finally {
      conf.dispose();
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) throw new NumericError(`the logits of row ${i} are not finite (max-softmax ${out[i]})`, { tensor: 'logits' });
  }
  return out;
}

function checkLogits(shape: number[], rows: number): void {
  if (shape.length !== 2 || shape[0] !== rows || shape[1] < 2) {
    throw new ShapeError(`logits must have shape [${rows}, K] with K >= 2, got [${shape.join(', ')}]`, {
      tensor: 'logits',
    }, 'for a single-logit binary model z, return the logits [0, z] (the same softmax)');
  }
}
