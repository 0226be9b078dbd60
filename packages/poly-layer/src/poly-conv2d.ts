import * as tf from '@tensorflow/tfjs-core';
import type { PolyConfig } from './config';
import { polyActivation } from './activation';
import { conv2d, normalizePadding, normalizeStrides, type Conv2dPadding } from './conv2d';
import type { Conv2dLayerTrace } from './trace';

/** Parameters of a convolutional polynomial layer. */
export interface PolyConv2dParams {
  /** K, `[kh, kw, C_in, C_out]`. */
  kernel: tf.Tensor4D;
  /** b, `[C_out]` (optional). */
  bias?: tf.Tensor1D;
  /** Polynomial coefficients, `[C_out, K+1]` (sharing `channel`) or `[1, K+1]` (`layer`). */
  coeffs: tf.Tensor2D;
}

/** Geometry options of {@link polyConv2d}. */
export interface PolyConv2dOptions {
  /** Stride, a number or `[s_h, s_w]`. Default 1. */
  strides?: number | [number, number];
  /** `'same'` (default) or `'valid'` (TensorFlow's conventions). */
  padding?: Conv2dPadding;
  /** Also compute σ'' (needed by the DREG `curvature` option). Default false. */
  secondDerivative?: boolean;
  /** Layer name (errors, numeric-check bookkeeping). Default `'polyConv2d'`. */
  name?: string;
  /** Override the `none` guard's numeric check for this call (see `setNumericCheck`). */
  check?: boolean;
}

/**
 * Functional convolution + per-channel polynomial activation for hand-written
 * training loops (docs/poly-layer.md–3): z = conv(x, K) + b (channels last, no dilation,
 * with {@link conv2d}, whose backward pass works on every backend), then
 * y = σ_c(z) per output channel c by `polyActivation`, which also yields σ'(z) for DREG.
 *
 * @param x input, `[B, H, W, C_in]`.
 * @param params kernel `[kh, kw, C_in, C_out]`, bias `[C_out]`, coeffs `[C_out | 1, K+1]`.
 * @param config polynomial configuration (the `layernorm` guard normalises over the
 *   channels at each position).
 * @param opts strides, padding, secondDerivative, name, check.
 * @returns `y` `[B, H', W', C_out]` and the layer's {@link Conv2dLayerTrace} for `dregPenalty`.
 * @throws ShapeError / ConfigError naming the tensor or option (kernel/x/bias/coeffs,
 *   strides, padding); NumericError as `polyActivation`.
 */
export function polyConv2d(
  x: tf.Tensor4D,
  params: PolyConv2dParams,
  config: PolyConfig,
  opts: PolyConv2dOptions = {},
): { y: tf.Tensor4D; trace: Conv2dLayerTrace } {
  const name = opts.name ?? 'polyConv2d';
  const strides = normalizeStrides(opts.strides);
  const padding = normalizePadding(opts.padding);
  const z = conv2d(x, params.kernel, params.bias, { strides, padding });
  let act;
  try {
    act = polyActivation(z, params.coeffs, config, { secondDerivative: opts.secondDerivative, name, check: opts.check });
  } catch (e) {
    z.dispose();
    throw e;
  }
  const trace: Conv2dLayerTrace = {
    kind: 'conv2d',
    name,
    kernel: params.kernel,
    inputSize: [x.shape[1], x.shape[2]],
    strides,
    padding,
    z,
    dy: act.dy as tf.Tensor4D,
    guard: config.guard,
  };
  if (act.d2y) trace.d2y = act.d2y as tf.Tensor4D;
  if (act.layernorm) trace.layernorm = { u: act.layernorm.u as tf.Tensor4D, invStd: act.layernorm.invStd as tf.Tensor4D };
  return { y: act.y as tf.Tensor4D, trace };
}
