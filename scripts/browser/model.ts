// The model trained by the browser test page, in one module so it can be
// swapped: the page only uses `MODEL_NAME`, `initParams` and `forward`.
// Today: a plain tfjs MLP whose hidden layer has a learnable cubic polynomial
// activation written with tf ops. `layer()` has the call shape of
// `polyDense(x, {kernel, bias, coeffs}, config) → {y, trace}` from
// @chainz/poly-layer, so the swap is:
//   import { polyDense } from '@chainz/poly-layer';   // and call it in forward()
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@chainz/core';

/** Shown in the test report. */
export const MODEL_NAME = 'MLP 8→16→3, learnable cubic activation (tf ops)';

/** Input features, hidden units, classes. */
export const SHAPE = { inputs: 8, hidden: 16, classes: 3 } as const;

/** Parameters of one dense layer with a polynomial activation. */
export interface LayerParams {
  /** [in, out] */
  kernel: tf.Variable;
  /** [out] */
  bias: tf.Variable;
  /** [4]: a0..a3 of p(z) = a0 + a1 z + a2 z² + a3 z³ */
  coeffs: tf.Variable;
}

/** All trainable parameters. */
export interface Params {
  hidden: LayerParams;
  /** Output layer, linear: kernel [hidden, classes], bias [classes]. */
  out: { kernel: tf.Variable; bias: tf.Variable };
}

/**
 * Creates the parameters from a seeded RNG (same values on every backend).
 * Glorot-like normal init; the cubic starts near identity (a1 = 1, a3 = 0.05).
 */
export function initParams(seed: number): Params {
  const rng = new Rng(seed);
  const normal = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  const { inputs, hidden, classes } = SHAPE;
  return tf.tidy(() => ({
    hidden: {
      kernel: tf.variable(tf.tensor2d(normal(inputs * hidden, Math.sqrt(2 / (inputs + hidden))), [inputs, hidden])),
      bias: tf.variable(tf.zeros([hidden])),
      coeffs: tf.variable(tf.tensor1d([0, 1, 0, 0.05])),
    },
    out: {
      kernel: tf.variable(tf.tensor2d(normal(hidden * classes, Math.sqrt(2 / (hidden + classes))), [hidden, classes])),
      bias: tf.variable(tf.zeros([classes])),
    },
  }));
}

/** Dense layer + cubic activation: y = p(x W + b), x [batch, in] → y [batch, out]. */
function layer(x: tf.Tensor2D, p: LayerParams): { y: tf.Tensor2D; trace: Record<string, never> } {
  const z = tf.add(tf.matMul(x, p.kernel), p.bias);
  const [a0, a1, a2, a3] = tf.split(p.coeffs, 4);
  const y = tf.add(a0, tf.mul(z, tf.add(a1, tf.mul(z, tf.add(a2, tf.mul(z, a3)))))) as tf.Tensor2D;
  return { y, trace: {} };
}

/** Logits [batch, classes] for inputs x [batch, inputs]. */
export function forward(params: Params, x: tf.Tensor2D): tf.Tensor2D {
  const { y } = layer(x, params.hidden);
  return tf.add(tf.matMul(y, params.out.kernel), params.out.bias) as tf.Tensor2D;
}

/** Every variable, for the optimiser and for disposal. */
export function variables(params: Params): tf.Variable[] {
  return [params.hidden.kernel, params.hidden.bias, params.hidden.coeffs, params.out.kernel, params.out.bias];
}
