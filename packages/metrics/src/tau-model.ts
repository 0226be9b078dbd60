import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, ShapeError } from '@chainz/core';
import { inputGradientNorms, type GradientNormOptions } from './gradient-norms';
import { gradientTailRatio, type TailRatioOptions } from './tail-ratio';

/** What a classifier's output is: class probabilities, or logits (pre-softmax / pre-sigmoid scores). */
export type ModelOutputs = 'probabilities' | 'logits';

/** Options of {@link perSampleCrossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * What the model outputs. `'auto'` (default): `probabilities` if the model's
   * last layer has a `softmax` (or, for one output, `sigmoid`) activation,
   * else `logits`.
   */
  outputs?: 'auto' | ModelOutputs;
}

/** Options of {@link tauForModel}: the output kind, the batch size of the gradient passes and the quantile. */
export interface TauForModelOptions extends CrossEntropyOptions, GradientNormOptions, TailRatioOptions {}

/** Result of {@link tauForModel}. */
export interface TauForModelResult {
  /** τ = quantile_q(g) / mean(g) of the per-sample input-gradient norms g. */
  tau: number;
  /** g_i = ‖∂ℓ_i/∂x_i‖₂, `[N]` float32. */
  norms: Float32Array;
  /** How the model's outputs were read. */
  outputs: ModelOutputs;
}

/** `auto` → what the last layer's activation says. */
function outputKind(model: tfl.LayersModel, classes: number, requested: CrossEntropyOptions['outputs']): ModelOutputs {
  const o = requested ?? 'auto';
  if (o === 'probabilities' || o === 'logits') return o;
  if (o !== 'auto') throw new ConfigError(`outputs must be 'auto', 'probabilities' or 'logits', got ${JSON.stringify(o)}`, { option: 'outputs' });
  const last = model.layers[model.layers.length - 1];
  const activation = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
  return activation === 'softmax' || (classes === 1 && activation === 'sigmoid') ? 'probabilities' : 'logits';
}

/** Class labels `[N]` (int32) from indices or a one-hot / probability tensor `[N, C]`. */
function labelsOf(y: ArrayLike<number> | tf.Tensor, n: number, classes: number): Int32Array {
  let labels: Int32Array;
  if (y instanceof tf.Tensor) {
    if (y.rank === 2) {
      if (y.shape[1] !== Math.max(classes, 2) && !(classes === 1 && y.shape[1] === 1)) {
        throw new ShapeError(`y has ${y.shape[1]} columns but the model has ${classes} outputs`, { tensor: 'y' });
      }
      if (y.shape[1] === 1) labels = Int32Array.from(y.dataSync(), (v) => Math.round(v));
      else {
        const idx = tf.argMax(y, 1);
        labels = Int32Array.from(idx.dataSync());
        idx.dispose();
      }
    } else if (y.rank === 1) {
      labels = Int32Array.from(y.dataSync());
    } else {
      throw new ShapeError(`y must be labels [N] or one-hot [N, C], got shape [${y.shape}]`, { tensor: 'y' });
    }
  } else {
    labels = Int32Array.from(y);
  }
  if (labels.length !== n) throw new ShapeError(`y has ${labels.length} labels for ${n} rows of x`, { tensor: 'y' });
  const k = Math.max(classes, 2);
  for (let i = 0; i < n; i++) {
    if (!(Number.isInteger(labels[i]) && labels[i] >= 0 && labels[i] < k)) {
      throw new ConfigError(`label ${i} is ${labels[i]}; labels must be class indices 0..${k - 1}`, { option: 'y' });
    }
  }
  return labels;
}

function outputClasses(model: tfl.LayersModel): number {
  const shape = model.outputs[0]?.shape;
  const c = shape?.[shape.length - 1];
  if (model.outputs.length !== 1 || shape === undefined || shape.length !== 2 || c == null || c < 1) {
    throw new ShapeError(`the model must have one output of shape [B, C], got ${model.outputs.map((o) => `[${o.shape}]`).join(', ')}`, { tensor: 'model' });
  }
  return c;
}

/** ℓ_i for a batch of outputs `[B, C]` against labels `[B]`. */
function crossEntropy(out: tf.Tensor2D, labels: Int32Array, kind: ModelOutputs): tf.Tensor1D {
  return tf.tidy(() => {
    const C = out.shape[1];
    if (C === 1) {
      const t = tf.tensor2d(Float32Array.from(labels), [labels.length, 1]);
      const loss =
        kind === 'logits'
          ? tf.losses.sigmoidCrossEntropy(t, out, undefined, 0, tf.Reduction.NONE)
          : tf.neg(tf.add(tf.mul(t, tf.log(tf.maximum(out, EPS))), tf.mul(tf.sub(1, t), tf.log(tf.maximum(tf.sub(1, out), EPS)))));
      return tf.reshape(loss, [labels.length]) as tf.Tensor1D;
    }
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), C);
    if (kind === 'logits') return tf.losses.softmaxCrossEntropy(oneHot, out, undefined, 0, tf.Reduction.NONE) as tf.Tensor1D;
    return tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.maximum(out, EPS))), 1)) as tf.Tensor1D;
  });
}

/** Probabilities are floored at this value before the log (as Keras's epsilon). */
const EPS = 1e-7;

/**
 * Per-sample cross-entropy ℓ_i = −log p(y_i | x_i) of a tfjs-layers
 * classifier, differentiable with respect to `x` (the model runs in inference
 * mode, `training: false`). Softmax outputs `[B, C]` (C ≥ 2): categorical
 * cross-entropy; one output `[B, 1]`: binary cross-entropy with p = P(y = 1).
 * Probabilities are floored at 1e-7 before the log; logits go through tfjs's
 * stable softmax / sigmoid cross-entropy.
 *
 * @param model a LayersModel with one output `[B, C]`.
 * @param x inputs `[B, …]` matching the model's input.
 * @param y labels `[B]` (class indices), or one-hot `[B, C]`.
 * @param opts `outputs`: `'auto'` (default; see {@link CrossEntropyOptions}), `'probabilities'` or `'logits'`.
 * @returns `[B]` losses in nats.
 * @throws ShapeError if the model has not one `[B, C]` output or `y` does not fit; ConfigError for a label outside 0..C−1.
 */
export function perSampleCrossEntropy(model: tfl.LayersModel, x: tf.Tensor, y: ArrayLike<number> | tf.Tensor, opts: CrossEntropyOptions = {}): tf.Tensor1D {
  const classes = outputClasses(model);
  const kind = outputKind(model, classes, opts.outputs);
  const labels = labelsOf(y, x.shape[0], classes);
  return tf.tidy(() => crossEntropy(model.apply(x, { training: false }) as tf.Tensor2D, labels, kind));
}

/**
 * The gradient tail ratio τ of a tfjs-layers classifier in one call: the
 * per-sample input-gradient norms g_i = ‖∂ℓ_i/∂x_i‖₂ of its cross-entropy
 * ({@link perSampleCrossEntropy}, computed by {@link inputGradientNorms} in
 * batches) and τ = quantile_q(g) / mean(g) ({@link gradientTailRatio}).
 *
 * @example
 * const { tau, norms } = tauForModel(model, xTest, yTest); // yTest: Int32Array of class indices
 *
 * @param model a LayersModel with one output `[B, C]` (softmax probabilities or logits; one
 *   sigmoid/logit output for binary tasks).
 * @param x inputs `[N, …]` float32 (not disposed).
 * @param y labels `[N]` (class indices) or one-hot `[N, C]`.
 * @param opts `outputs` (default `'auto'`), `batchSize` (rows per backward pass, default 256), `q` (default 0.99).
 * @returns τ, the norms `[N]` and how the outputs were read.
 * @throws as {@link perSampleCrossEntropy}, {@link inputGradientNorms} and {@link gradientTailRatio}
 *   (e.g. NumericError for a non-finite norm: a diverged model).
 */
export function tauForModel(model: tfl.LayersModel, x: tf.Tensor, y: ArrayLike<number> | tf.Tensor, opts: TauForModelOptions = {}): TauForModelResult {
  const classes = outputClasses(model);
  const kind = outputKind(model, classes, opts.outputs);
  if (x.rank < 2) throw new ShapeError(`x must have shape [N, ...] with rank >= 2, got [${x.shape.join(', ')}]`, { tensor: 'x' });
  const labels = labelsOf(y, x.shape[0], classes);
  const norms = inputGradientNorms(
    (xb: tf.Tensor, start: number) => crossEntropy(model.apply(xb, { training: false }) as tf.Tensor2D, labels.subarray(start, start + xb.shape[0]), kind),
    x as tf.Tensor2D,
    { batchSize: opts.batchSize },
  );
  return { tau: gradientTailRatio(norms, { q: opts.q }), norms, outputs: kind };
}
