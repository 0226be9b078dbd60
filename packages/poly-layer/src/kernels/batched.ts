import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, denseBatched } from '@chainz/core';
import { resolvePolyConfig, type PolyConfig } from '../config';
import { polyDense } from '../poly-dense';
import { POLY_ACTIVATION, POLY_ACTIVATION_JACOBIAN, WEIGHTED_SUM_GROUPED, toAttrMap, type KernelGuard } from './names';
import { getPolyImplementation, hasFusedKernels, type PolyImplementation } from './ops';
import { polyDenseKernelUsable, runPolyDense } from './poly-dense-kernel';

/*
 * G models of one shape side by side (the folds of a cross-validation, seeds of
 * one experiment): stacked parameters with a leading model axis and one kernel
 * call per layer for all G, so that tfjs's per-kernel dispatch is paid once per
 * step instead of G times. On cpu and wasm the fused kernels run each model's
 * slice with exactly the loops of the one-model call, so every model's values
 * and gradients equal those of training it alone, bit for bit.
 */

/** Parameters of G dense polynomial layers stacked along a leading model axis. */
export interface PolyDenseBatchedParams {
  /** W, `[G, d_in, d_out]`. */
  kernel: tf.Tensor3D;
  /** b, `[G, d_out]`. */
  bias: tf.Tensor2D;
  /** Coefficients, `[G, d_out | 1, K+1]`. */
  coeffs: tf.Tensor3D;
}

/** Nesting depth of gradient recording. */
function gradientDepth(): number {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth;
}

/** True when the grouped fused kernels run (cpu/wasm, first-order gradients, mode not composite). */
function groupedKernelsApply(implementation?: PolyImplementation): boolean {
  const mode = implementation ?? getPolyImplementation();
  const backend = tf.getBackend();
  return mode !== 'composite' && (backend === 'cpu' || backend === 'wasm') && hasFusedKernels(backend) && gradientDepth() <= 1;
}

/**
 * G dense polynomial layers in one op (see {@link polyDense} for one):
 * z[g] = x[g]·W[g] + b[g], y[g] = σ_g(z[g]) with model g's coefficients, and
 * with `jacobianNorm` the per-sample r[g, b] = Σ_j σ_g'(z[g, b, j])²·‖W[g][:, j]‖²
 * (DREG `frobenius`). On cpu and wasm: `denseBatched` and the fused activation
 * kernel over all G models (one call each), σ' left out; each model's values
 * and gradients equal those of {@link polyDense} on its slice bit for bit.
 * Elsewhere (or under second-order autodiff, or `implementation: 'composite'`):
 * {@link polyDense} per model, stacked.
 *
 * @param x inputs `[G, B, d_in]`.
 * @param params stacked kernel, bias, coefficients.
 * @param config polynomial configuration (elementwise guards: `tanh`, `clip`, `none`).
 * @param opts `jacobianNorm` (default false), `implementation`.
 * @returns y `[G, B, d_out]`, and r `[G, B]` with `jacobianNorm`.
 * @throws ConfigError for the `layernorm` guard; ShapeError for mismatched shapes.
 */
export function polyDenseBatched(
  x: tf.Tensor3D,
  params: PolyDenseBatchedParams,
  config: PolyConfig,
  opts: { jacobianNorm?: boolean; implementation?: PolyImplementation } = {},
): { y: tf.Tensor3D; jacobianFrobenius?: tf.Tensor2D } {
  const cfg = resolvePolyConfig(config);
  if (cfg.guard === 'layernorm') throw new ConfigError("polyDenseBatched supports the elementwise guards (tanh, clip, none), not 'layernorm'", { option: 'guard' });
  const G = x.shape[0];
  const n = params.kernel.shape[2];
  const rows = cfg.sharing === 'channel' ? n : 1;
  if (params.coeffs.rank !== 3 || params.coeffs.shape[0] !== G || params.coeffs.shape[1] !== rows || params.coeffs.shape[2] !== cfg.degree + 1) {
    throw new ShapeError(`coeffs must have shape [${G}, ${rows}, ${cfg.degree + 1}], got [${params.coeffs.shape}]`, { tensor: 'coeffs' });
  }
  const jac = opts.jacobianNorm === true;
  if (!groupedKernelsApply(opts.implementation)) {
    return tf.tidy(() => {
      const xs = tf.unstack(x) as tf.Tensor2D[];
      const Ws = tf.unstack(params.kernel) as tf.Tensor2D[];
      const bs = tf.unstack(params.bias) as tf.Tensor1D[];
      const as = tf.unstack(params.coeffs) as tf.Tensor2D[];
      const outs = xs.map((xg, g) => polyDense(xg, { kernel: Ws[g], bias: bs[g], coeffs: as[g] }, cfg, { jacobianNorm: jac, implementation: opts.implementation, check: false }));
      const y = tf.stack(outs.map((o) => o.y)) as tf.Tensor3D;
      if (!jac) return { y };
      const r = tf.stack(outs.map((o) => o.trace.jacobianFrobenius ?? tf.sum(tf.mul(tf.square(o.trace.dy), tf.sum(tf.square(o.trace.kernel), 0)), 1))) as tf.Tensor2D;
      return { y, jacobianFrobenius: r };
    });
  }
  if (cfg.basis === 'monomial' && cfg.degree <= 3 && polyDenseKernelUsable()) {
    // the fused layer (one op for matmul, bias, activation and r), each model's slice as polyDense computes it
    const o = runPolyDense(x, params.kernel, params.bias, params.coeffs, { basis: cfg.basis, guard: cfg.guard as KernelGuard, scale: cfg.scale }, jac);
    o.z.dispose();
    return jac ? { y: o.y as tf.Tensor3D, jacobianFrobenius: o.r as tf.Tensor2D } : { y: o.y as tf.Tensor3D };
  }
  const z = denseBatched(x, params.kernel, params.bias);
  const attrs = toAttrMap({ basis: cfg.basis, guard: cfg.guard as KernelGuard, scale: cfg.scale, second: false, save: false, derivative: false });
  const inputs: tf.NamedTensorMap = jac ? { z, coeffs: params.coeffs, kernel: params.kernel } : { z, coeffs: params.coeffs };
  const outs = tf.engine().runKernel(jac ? POLY_ACTIVATION_JACOBIAN : POLY_ACTIVATION, inputs, attrs) as tf.Tensor[];
  z.dispose(); // the kernel's gradient keeps its own copy
  return jac ? { y: outs[0] as tf.Tensor3D, jacobianFrobenius: outs[1] as tf.Tensor2D } : { y: outs[0] as tf.Tensor3D };
}

/**
 * {@link weightedSum} for G models side by side: out[g] = Σ_l w[l][g]·Σ_{b < counts[g]} x_l[g, b]
 * (rows past counts[g] are padding and get no gradient). One kernel on cpu and
 * wasm, whose entries equal {@link weightedSum} on each model's rows alone
 * (float64 sums in the same order); ordinary ops elsewhere.
 *
 * @param xs tensors `[G, B]`.
 * @param weights `[L][G]`, finite.
 * @param counts rows of each model, 0 ≤ counts[g] ≤ B.
 * @returns `[G]`.
 * @throws ShapeError for mismatched lengths or shapes.
 */
export function weightedSumGrouped(xs: tf.Tensor2D[], weights: number[][], counts: number[], implementation?: PolyImplementation): tf.Tensor1D {
  if (xs.length !== weights.length) throw new ShapeError(`weightedSumGrouped: ${xs.length} tensors but ${weights.length} weight rows`, { tensor: 'xs' });
  const G = counts.length;
  xs.forEach((x, l) => {
    if (x.rank !== 2 || x.shape[0] !== G || weights[l].length !== G || counts.some((c) => c < 0 || c > x.shape[1])) {
      throw new ShapeError(`weightedSumGrouped: x${l} [${x.shape}] does not match ${G} models with counts [${counts}]`, { tensor: `xs[${l}]` });
    }
  });
  if (xs.length === 0) return tf.zeros([G]);
  const backend = tf.getBackend();
  if (groupedKernelsApply(implementation) && tf.getKernel(WEIGHTED_SUM_GROUPED, backend) != null && xs.every((x) => x.dtype === 'float32')) {
    const inputs: tf.NamedTensorMap = {};
    xs.forEach((x, l) => (inputs[`x${l}`] = x));
    return tf.engine().runKernel(WEIGHTED_SUM_GROUPED, inputs, { weights: weights.map((w) => w.slice()), counts: counts.slice(), shapes: xs.map((x) => x.shape.slice()) }) as tf.Tensor1D;
  }
  return tf.tidy(() => {
    const B = xs[0].shape[1];
    const mask = tf.tensor2d(
      Float32Array.from({ length: G * B }, (_, i) => (i % B < counts[Math.floor(i / B)] ? 1 : 0)),
      [G, B],
    );
    const terms = xs.map((x, l) => tf.mul(tf.sum(tf.mul(x, mask), 1), tf.tensor1d(weights[l])));
    return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Tensor1D;
  });
}
