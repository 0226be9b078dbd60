// The model trained by the browser test page, in one module so it can be
// swapped: the page uses `MODEL_NAME`, `SHAPE`, `initParams`, `forward`,
// `loss` and `variables`.
// A real ChainzRule model: two `polyDense` layers from @chainz/poly-layer
// (dense + learnable cubic activation, tanh guard, initialised as GELU) and a
// linear output, trained with the DREG penalty from @chainz/dreg. On webgpu and
// cpu the fused kernels run (activation, σ' and the layer Jacobian norm in one
// pass: `jacobianNorm`), so the page exercises the WGSL shaders in a browser.
import * as tf from '@tensorflow/tfjs-core';
import { Rng, dense } from '@chainz/core';
import { initPolyCoefficients, polyDense, resolvePolyConfig, type DenseLayerTrace } from '@chainz/poly-layer';
import { dregPenalty } from '@chainz/dreg';

/** Shown in the test report. */
export const MODEL_NAME = 'ChainzRule MLP 8→16→16→3 (polyDense ×2, cubic/tanh guard, GELU init) + DREG frobenius λ=1e-2';

/** Input features, hidden units, classes. */
export const SHAPE = { inputs: 8, hidden: 16, classes: 3 } as const;

/** Polynomial configuration of both hidden layers (the package defaults: cubic, monomial, tanh guard, s = 3). */
const POLY = resolvePolyConfig({});

/** DREG options (λ larger than the paper's 10^-2.5 so that the penalty visibly matters in 15 steps). */
const DREG = { variant: 'frobenius', lambda: 1e-2 } as const;

/** Parameters of one dense polynomial layer. */
export interface LayerParams {
  /** [in, out] */
  kernel: tf.Variable;
  /** [out] */
  bias: tf.Variable;
  /** [out, 4]: cubic coefficients per unit */
  coeffs: tf.Variable;
}

/** All trainable parameters. */
export interface Params {
  hidden: [LayerParams, LayerParams];
  /** Output layer, linear: kernel [hidden, classes], bias [classes]. */
  out: { kernel: tf.Variable; bias: tf.Variable };
}

/**
 * Creates the parameters from a seeded RNG (same values on every backend):
 * Glorot-like normal kernels, zero biases, coefficients fitted to GELU.
 */
export function initParams(seed: number): Params {
  const rng = new Rng(seed);
  const normal = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  const { inputs, hidden, classes } = SHAPE;
  const layer = (dIn: number, dOut: number): LayerParams => ({
    kernel: tf.variable(tf.tensor2d(normal(dIn * dOut, Math.sqrt(2 / (dIn + dOut))), [dIn, dOut])),
    bias: tf.variable(tf.zeros([dOut])),
    coeffs: tf.variable(initPolyCoefficients(dOut, 'gelu', POLY).coeffs),
  });
  // variables survive tidy; only the temporaries of their initial values are freed
  let params: Params | undefined;
  tf.tidy(() => {
    params = {
      hidden: [layer(inputs, hidden), layer(hidden, hidden)],
      out: {
        kernel: tf.variable(tf.tensor2d(normal(hidden * classes, Math.sqrt(2 / (hidden + classes))), [hidden, classes])),
        bias: tf.variable(tf.zeros([classes])),
      },
    };
  });
  return params!;
}

function layerParams(p: LayerParams) {
  return { kernel: p.kernel as tf.Tensor2D, bias: p.bias as tf.Tensor1D, coeffs: p.coeffs as tf.Tensor2D };
}

/** Logits [batch, classes] and the hidden layers' traces (for DREG) for inputs x [batch, inputs]. */
export function forwardWithTraces(params: Params, x: tf.Tensor2D): { logits: tf.Tensor2D; traces: DenseLayerTrace[] } {
  const a = polyDense(x, layerParams(params.hidden[0]), POLY, { name: 'hidden1', jacobianNorm: true });
  const b = polyDense(a.y, layerParams(params.hidden[1]), POLY, { name: 'hidden2', jacobianNorm: true });
  return { logits: dense(b.y, params.out.kernel as tf.Tensor2D, params.out.bias as tf.Tensor1D), traces: [a.trace, b.trace] };
}

/** Logits [batch, classes] for inputs x [batch, inputs]. */
export function forward(params: Params, x: tf.Tensor2D): tf.Tensor2D {
  return forwardWithTraces(params, x).logits;
}

/** Training loss: mean softmax cross-entropy + DREG (frobenius) on both hidden layers. */
export function loss(params: Params, x: tf.Tensor2D, yOneHot: tf.Tensor, step: number): tf.Scalar {
  const { logits, traces } = forwardWithTraces(params, x);
  return tf.add(tf.losses.softmaxCrossEntropy(yOneHot, logits), dregPenalty(traces, DREG, step)) as tf.Scalar;
}

/** Every variable, for the optimiser and for disposal. */
export function variables(params: Params): tf.Variable[] {
  return [...params.hidden.flatMap((p) => [p.kernel, p.bias, p.coeffs]), params.out.kernel, params.out.bias];
}
