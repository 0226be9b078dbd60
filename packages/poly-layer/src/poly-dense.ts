import * as tf from '@tensorflow/tfjs-core';
import { dense } from '@chainz/core';
import type { PolyConfig } from './config';
import { checkNoneGuard, polyActivation, polyActivationDense, type DenseActivationResult } from './activation';
import { resolvePolyConfig } from './config';
import { getPolyImplementation } from './kernels/ops';
import { polyDenseKernelUsable, runPolyDense } from './kernels/poly-dense-kernel';
import type { KernelGuard } from './kernels/names';
import { defineLazyDerivative, type DenseLayerTrace } from './trace';
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
 * Where the fused cpu/wasm kernel runs, `trace.dy` (σ') is computed on first
 * access (one more kernel): a training step whose loss does not use it (no
 * DREG, or DREG `frobenius` with `jacobianNorm`) then runs one activation
 * kernel per layer with no output it leaves unused. Read `trace.dy` inside the
 * same `tf.tidy` / `minimize` scope as the forward pass (or keep it), before
 * `trace.z` is disposed.
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
  const fused = fusedLayer(x, params, config, opts, name);
  if (fused) return fused;
  const z = dense(x, params.kernel, params.bias);
  let act: DenseActivationResult;
  const actOpts = { secondDerivative: opts.secondDerivative, name, check: opts.check, implementation: opts.implementation, derivative: false };
  try {
    act = polyActivationDense(z, params.coeffs, opts.jacobianNorm === true && config.guard !== 'layernorm' ? params.kernel : null, config, actOpts);
  } catch (e) {
    z.dispose();
    throw e;
  }
  const trace = {
    kind: 'dense',
    name,
    kernel: params.kernel,
    z,
    guard: config.guard,
  } as DenseLayerTrace;
  if (act.dy) trace.dy = act.dy;
  else defineLazyDerivative(trace, () => polyActivation(z, params.coeffs, config, { name, check: false, implementation: opts.implementation }));
  if (act.d2y) trace.d2y = act.d2y as tf.Tensor2D;
  if (act.jacobianFrobenius) trace.jacobianFrobenius = act.jacobianFrobenius;
  if (act.layernorm) trace.layernorm = { u: act.layernorm.u as tf.Tensor2D, invStd: act.layernorm.invStd as tf.Tensor2D };
  return { y: act.y as tf.Tensor2D, trace };
}

/** Nesting depth of gradient recording. */
function gradientDepth(): number {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth;
}

/**
 * The whole layer as one op (kernels/poly-dense-kernel.ts) where it applies —
 * wasm with SIMD, first-order gradients, a cubic (or lower) monomial, an
 * elementwise guard, no σ'', float32, consistent shapes — else null (the
 * dense op and the activation kernel, which also report bad shapes).
 */
function fusedLayer(x: tf.Tensor2D, params: PolyDenseParams, config: PolyConfig, opts: PolyDenseOptions, name: string): { y: tf.Tensor2D; trace: DenseLayerTrace } | null {
  const mode = opts.implementation ?? getPolyImplementation();
  if (mode === 'composite' || opts.secondDerivative === true || !polyDenseKernelUsable() || gradientDepth() > 1) return null;
  const cfg = resolvePolyConfig(config);
  if (cfg.basis !== 'monomial' || cfg.degree > 3 || cfg.guard === 'layernorm') return null;
  const { kernel, bias, coeffs } = params;
  const n = kernel.shape[1];
  const shapesOk =
    x.rank === 2 &&
    kernel.rank === 2 &&
    x.shape[1] === kernel.shape[0] &&
    (bias === undefined || (bias.rank === 1 && bias.shape[0] === n)) &&
    coeffs.rank === 2 &&
    coeffs.shape[0] === (cfg.sharing === 'channel' ? n : 1) &&
    coeffs.shape[1] === cfg.degree + 1 &&
    x.size > 0 &&
    kernel.size > 0;
  if (!shapesOk || [x, kernel, coeffs, ...(bias ? [bias] : [])].some((t) => t.dtype !== 'float32')) return null;
  const jac = opts.jacobianNorm === true;
  const o = runPolyDense(x, kernel, bias, coeffs, { basis: cfg.basis, guard: cfg.guard as KernelGuard, scale: cfg.scale }, jac);
  if (cfg.guard === 'none') {
    try {
      checkNoneGuard({ y: o.y, ...(o.r ? { jacobianFrobenius: o.r } : {}) }, o.z, name, opts.check);
    } catch (e) {
      o.z.dispose(); // (y and r are disposed by the check)
      throw e;
    }
  }
  const trace = { kind: 'dense', name, kernel, z: o.z as tf.Tensor2D, guard: cfg.guard } as DenseLayerTrace;
  defineLazyDerivative(trace, () => polyActivation(o.z, coeffs, cfg, { name, check: false, implementation: opts.implementation }));
  if (o.r) trace.jacobianFrobenius = o.r as tf.Tensor1D;
  return { y: o.y as tf.Tensor2D, trace };
}
