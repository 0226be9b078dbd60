import * as tf from '@tensorflow/tfjs-core';
import { dense } from '@chainz/core';
import type { DenseLayerTrace } from '@chainz/poly-layer';
import { activate, activationDerivative, activationSecondDerivative, checkActivation, type StandardActivation } from './activations';

/** Parameters of a standard dense layer. */
export interface DenseParams {
  /** W, `[d_in, d_out]`. */
  kernel: tf.Tensor2D;
  /** b, `[d_out]` (optional). */
  bias?: tf.Tensor1D;
}

/** Options of {@link activationDense}. */
export interface ActivationDenseOptions {
  /** Also record σ″(z) in the trace (`d2y`, needed by the DREG `curvature` option). Default false. */
  secondDerivative?: boolean;
  /** Layer name (in the trace, for error messages). Default `'activationDense'`. */
  name?: string;
}

/**
 * Functional dense layer with a standard activation, h = σ(z), z = x·W + b,
 * returning the same kind of trace as `polyDense` so that every DREG variant
 * (`dregPenalty`, `perSampleJacobianFrobenius`, `forward`, `curvature`) works on
 * ordinary networks. The trace holds the analytic σ′(z) per unit (`dy`), so the
 * layer Jacobian is J = diag(σ′(z))·Wᵀ and the `frobenius` penalty is
 * ‖J‖_F² = Σ_j σ′(z_j)²·‖W[:, j]‖² per sample, exact. The trace's `guard` is
 * `'none'` (σ is applied to z directly).
 *
 * σ′ is an op whose gradient is the analytic σ″, and σ an op whose gradient is
 * σ′ (see {@link activate}): gradients of the penalty w.r.t. W and b are exact
 * with first-order autodiff, and the layer can be differentiated twice (input-
 * gradient penalty). relu's kink: σ′(0) = 0, as tfjs's Relu gradient.
 *
 * @param x input, `[B, d_in]`.
 * @param params kernel `[d_in, d_out]`, optional bias `[d_out]`.
 * @param activation `relu`, `gelu` (erf form), `tanh`, `sigmoid`, `softplus` or `silu`.
 * @param opts `secondDerivative`, `name`.
 * @returns `y` `[B, d_out]` and the layer's `DenseLayerTrace` (`z`, `dy`, `d2y?`
 *   new tensors owned by the caller; `kernel` is the caller's tensor).
 * @throws ConfigError (option `activation`) for an unknown activation;
 *   ShapeError from `dense` for inconsistent shapes.
 */
export function activationDense(
  x: tf.Tensor2D,
  params: DenseParams,
  activation: StandardActivation,
  opts: ActivationDenseOptions = {},
): { y: tf.Tensor2D; trace: DenseLayerTrace } {
  checkActivation(activation);
  const z = dense(x, params.kernel, params.bias);
  const y = activate(z, activation) as tf.Tensor2D;
  const dy = activationDerivative(z, activation) as tf.Tensor2D;
  const trace: DenseLayerTrace = { kind: 'dense', name: opts.name ?? 'activationDense', kernel: params.kernel, z, dy, guard: 'none' };
  if (opts.secondDerivative === true) trace.d2y = activationSecondDerivative(z, activation) as tf.Tensor2D;
  return { y, trace };
}
