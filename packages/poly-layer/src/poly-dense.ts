import * as tf from '@tensorflow/tfjs-core';
import { dense } from '@chainz/core';
import type { PolyConfig } from './config';
import { polyActivation, polyActivationWithJacobian } from './activation';
import type { DenseLayerTrace } from './trace';
import type { PolyActivationOptions } from './activation';

/** Parameters of a dense polynomial layer. */
export interface PolyDenseParams {
  /** W, `[d_in, d_out]`. */
  kernel: tf.Tensor2D;
  /** b, `[d_out]` (optional). */
  bias?: tf.Tensor1D;
  /** Polynomial coefficients, `[d_out, K+1]` (sharing `channel`) or `[1, K+1]` (`layer`). */
  coeffs: tf.Tensor2D;
}

/** Options of {@link polyDense}. */
export interface PolyDenseOptions {
  /** Also compute σ'' (needed by the DREG `curvature` option). Default false. */
  secondDerivative?: boolean;
  /** Layer name (errors, numeric-check bookkeeping). Default `'polyDense'`. */
  name?: string;
  /** Override the `none` guard's numeric check for this call (see `setNumericCheck`). */
  check?: boolean;
  /**
   * Also compute the layer's per-sample squared Jacobian norm
   * ‖J_b‖_F² = Σ_j σ'(z_bj)²·‖W[:, j]‖² (DREG `frobenius`) in the same fused kernel
   * pass, as `trace.jacobianFrobenius` (`@chainz/dreg` then uses it instead of a
   * second pass over σ'). Elementwise guards only (ignored for `layernorm`).
   * Default false.
   */
  jacobianNorm?: boolean;
  /** Fused kernel or composite op for this call (see `PolyImplementation`). */
  implementation?: PolyActivationOptions['implementation'];
}

/**
 * Functional dense + polynomial layer for hand-written training loops:
 * z = x·W + b (with `@chainz/core`'s `dense`, explicit-transpose backward), then
 * y = σ(z) by {@link polyActivation}, which also yields σ'(z) for DREG.
 *
 * @param x input, `[B, d_in]`.
 * @param params kernel `[d_in, d_out]`, bias `[d_out]`, coeffs `[d_out | 1, K+1]`.
 * @param config polynomial configuration.
 * @param opts `secondDerivative`, `name`, `check`, `jacobianNorm`, `implementation`.
 * @returns `y` `[B, d_out]` and the layer's {@link DenseLayerTrace} for `dregPenalty`.
 * @throws ShapeError / ConfigError / NumericError as `dense` and `polyActivation`.
 */
export function polyDense(
  x: tf.Tensor2D,
  params: PolyDenseParams,
  config: PolyConfig,
  opts: PolyDenseOptions = {},
): { y: tf.Tensor2D; trace: DenseLayerTrace } {
  const name = opts.name ?? 'polyDense';
  const z = dense(x, params.kernel, params.bias);
  let act: ReturnType<typeof polyActivation> & { jacobianFrobenius?: tf.Tensor1D };
  const actOpts = { secondDerivative: opts.secondDerivative, name, check: opts.check, implementation: opts.implementation };
  try {
    act =
      opts.jacobianNorm === true && config.guard !== 'layernorm'
        ? polyActivationWithJacobian(z, params.coeffs, params.kernel, config, actOpts)
        : polyActivation(z, params.coeffs, config, actOpts);
  } catch (e) {
    z.dispose();
    throw e;
  }
  const trace: DenseLayerTrace = {
    kind: 'dense',
    name,
    kernel: params.kernel,
    z,
    dy: act.dy as tf.Tensor2D,
    guard: config.guard,
  };
  if (act.d2y) trace.d2y = act.d2y as tf.Tensor2D;
  if (act.jacobianFrobenius) trace.jacobianFrobenius = act.jacobianFrobenius;
  if (act.layernorm) trace.layernorm = { u: act.layernorm.u as tf.Tensor2D, invStd: act.layernorm.invStd as tf.Tensor2D };
  return { y: act.y as tf.Tensor2D, trace };
}
