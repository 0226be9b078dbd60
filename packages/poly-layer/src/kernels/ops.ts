import * as tf from '@tensorflow/tfjs-core';
import { BackendError, ConfigError, ShapeError } from '@chainz/core';
import {
  DENSE_JACOBIAN_FROBENIUS,
  DENSE_JACOBIAN_FROBENIUS_GRAD,
  POLY_ACTIVATION,
  POLY_ACTIVATION_GRAD,
  POLY_ACTIVATION_JACOBIAN,
  POLY_ACTIVATION_JACOBIAN_SAVING,
  POLY_ACTIVATION_SAVING,
  WEIGHTED_SUM,
  WEIGHTED_SUM_GRAD,
  outputLayout,
  toAttrMap,
  type PolyKernelAttrs,
} from './names';

/**
 * Which implementation of the polynomial activation (and of the dense DREG
 * Jacobian norm) runs:
 * - `'auto'` (default): the fused kernel when the active backend has one
 *   (`cpu`, `wasm`, `webgpu`) and the call is not inside a second-order
 *   gradient (see below); the composite op otherwise;
 * - `'fused'`: like `'auto'`, but a backend without the kernel is an error
 *   (benchmarks and tests use it to be sure what they measure);
 * - `'composite'`: always the composite op (ordinary tfjs ops).
 *
 * The fused kernels' gradients are kernels without gradients of their own, so
 * a call made while tfjs records a gradient of a gradient (`tf.grad` inside
 * `tf.grad` or inside `optimizer.minimize`: double backpropagation, e.g.
 * `inputGradientPenalty`) always takes the composite op, which tfjs can
 * differentiate twice.
 */
export type PolyImplementation = 'auto' | 'fused' | 'composite';

const MODES: readonly PolyImplementation[] = ['auto', 'fused', 'composite'];

interface ModeState {
  mode: PolyImplementation;
}

function modeState(): ModeState {
  const k = Symbol.for('chainz.polyLayer.implementation');
  const g = globalThis as unknown as Record<symbol, ModeState | undefined>;
  let s = g[k];
  if (s === undefined) {
    s = { mode: 'auto' };
    g[k] = s;
  }
  return s;
}

/**
 * Sets the process-wide default {@link PolyImplementation} (a call's
 * `implementation` option overrides it).
 * @throws ConfigError (option `implementation`) for an unknown mode.
 */
export function setPolyImplementation(mode: PolyImplementation): void {
  checkMode(mode);
  modeState().mode = mode;
}

/** The process-wide default {@link PolyImplementation} (initially `'auto'`). */
export function getPolyImplementation(): PolyImplementation {
  return modeState().mode;
}

function checkMode(mode: unknown): asserts mode is PolyImplementation {
  if (!(MODES as readonly unknown[]).includes(mode)) {
    throw new ConfigError(`must be 'auto', 'fused' or 'composite', got ${JSON.stringify(mode)}`, { option: 'implementation' });
  }
}

/**
 * True when the fused kernels (forward and gradient) are registered for
 * `backendName` (default: the active backend). Importing `@chainz/poly-layer`
 * registers them for `cpu`, `wasm` and `webgpu`.
 */
export function hasFusedKernels(backendName: string = tf.getBackend()): boolean {
  if (available.has(backendName)) return true;
  const ok = [POLY_ACTIVATION, POLY_ACTIVATION_JACOBIAN, POLY_ACTIVATION_GRAD, DENSE_JACOBIAN_FROBENIUS, DENSE_JACOBIAN_FROBENIUS_GRAD].every(
    (k) => tf.getKernel(k, backendName) != null,
  );
  if (ok) available.add(backendName); // positive answers are cached (this runs on every activation call)
  return ok;
}

const available = new Set<string>();

/** Nesting depth of gradient recording (1 inside one `tf.grad`/`minimize`, 2 inside a gradient of a gradient). */
function gradientDepth(): number {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth;
}

/**
 * Decides whether this call runs the fused kernel.
 * @throws ConfigError for an unknown mode; BackendError for `'fused'` on a backend without the kernels.
 */
export function useFused(requested: PolyImplementation | undefined, tensors: tf.Tensor[]): boolean {
  const mode = requested ?? getPolyImplementation();
  checkMode(mode);
  if (mode === 'composite') return false;
  const backend = tf.getBackend();
  if (!hasFusedKernels(backend)) {
    if (mode === 'fused') {
      throw new BackendError(
        `no fused polynomial kernels for the '${backend}' backend (they exist for cpu, wasm and webgpu)`,
        "use implementation 'auto' or 'composite', or import '@chainz/poly-layer' (which registers them) before running",
      );
    }
    return false;
  }
  if (gradientDepth() > 1) return false; // second-order autodiff: composite ops only
  return tensors.every((t) => t.dtype === 'float32' && t.size > 0);
}

/** Below this many elements the backward pass recomputes u and g' instead of keeping them (fewer tensors per step). */
const SAVE_MIN_ELEMENTS = 4096;

/**
 * Kernel attributes for a call: `save` (keep u, g' for the gradient: the
 * `…Saving` kernels) only for the tanh guard on large tensors, where the
 * typed-array loops run (cpu; wasm unless its SIMD loops apply: a cubic
 * monomial, for which recomputing tanh in the
 * backward pass is cheaper than keeping two more tensors).
 */
function kernelAttrs(z: tf.Tensor, coeffs: tf.Tensor2D, attrs: Omit<PolyKernelAttrs, 'save'>): PolyKernelAttrs {
  const backend = tf.getBackend();
  const C = z.shape[z.rank - 1];
  const simd = backend === 'wasm' && attrs.basis === 'monomial' && coeffs.shape[1] <= 4 && C >= 1;
  // without σ' only where the typed-array and SIMD loops run (the WGSL kernels always output it)
  const derivative = attrs.derivative !== false || (backend !== 'cpu' && backend !== 'wasm');
  // the …Saving kernels fix their saved outputs' positions, which assume σ' is output
  const save = derivative && attrs.guard === 'tanh' && z.size >= SAVE_MIN_ELEMENTS && !simd && hasSavingKernel(backend);
  return { ...attrs, derivative, save };
}

const savingKernel = new Map<string, boolean>();

/** Whether the `…Saving` kernels exist for the backend (cached: this runs on every activation call). */
function hasSavingKernel(backend: string): boolean {
  let ok = savingKernel.get(backend);
  if (ok === undefined) {
    ok = tf.getKernel(POLY_ACTIVATION_SAVING, backend) != null;
    savingKernel.set(backend, ok);
  }
  return ok;
}

/**
 * Runs the fused activation kernel on z `[n, C]` (rank 2; callers reshape),
 * returning σ, σ' (unless `attrs.derivative` is false and the backend is cpu or
 * wasm) and (with `attrs.second`) σ''. The kernel's saved-for-gradient
 * outputs (u, g') are disposed here (tfjs keeps its own references when it
 * records a gradient).
 */
export function fusedPolyActivation(z: tf.Tensor2D, coeffs: tf.Tensor2D, attrs: Omit<PolyKernelAttrs, 'save'>): { y: tf.Tensor2D; dy?: tf.Tensor2D; d2y?: tf.Tensor2D } {
  const a = kernelAttrs(z, coeffs, attrs);
  const L = outputLayout(a, false);
  const outs = tf.engine().runKernel(a.save ? POLY_ACTIVATION_SAVING : POLY_ACTIVATION, { z, coeffs }, toAttrMap(a)) as tf.Tensor2D[];
  if (L.u >= 0) tf.dispose([outs[L.u], outs[L.g1]]);
  return { y: outs[L.y], ...(L.dy >= 0 ? { dy: outs[L.dy] } : {}), ...(L.d2y >= 0 ? { d2y: outs[L.d2y] } : {}) };
}

/**
 * {@link fusedPolyActivation} of a dense layer's pre-activation z `[B, n]` with
 * kernel W `[d_in, n]`, also returning r_b = Σ_j σ'(z_bj)²·‖W[:, j]‖² (the
 * layer's per-sample squared Jacobian norm, DREG `frobenius`) from the same
 * pass; its gradient reaches z, the coefficients and W.
 */
export function fusedPolyActivationJacobian(
  z: tf.Tensor2D,
  coeffs: tf.Tensor2D,
  kernel: tf.Tensor2D,
  attrs: Omit<PolyKernelAttrs, 'save'>,
): { y: tf.Tensor2D; dy?: tf.Tensor2D; d2y?: tf.Tensor2D; jacobianFrobenius: tf.Tensor1D } {
  const a = kernelAttrs(z, coeffs, attrs);
  const L = outputLayout(a, true);
  const outs = tf.engine().runKernel(a.save ? POLY_ACTIVATION_JACOBIAN_SAVING : POLY_ACTIVATION_JACOBIAN, { z, coeffs, kernel }, toAttrMap(a)) as tf.Tensor[];
  if (L.u >= 0) tf.dispose([outs[L.u], outs[L.g1]]);
  return {
    y: outs[L.y] as tf.Tensor2D,
    ...(L.dy >= 0 ? { dy: outs[L.dy] as tf.Tensor2D } : {}),
    jacobianFrobenius: outs[L.r] as tf.Tensor1D,
    ...(L.d2y >= 0 ? { d2y: outs[L.d2y] as tf.Tensor2D } : {}),
  };
}

/**
 * Per-sample squared Frobenius norm of a dense layer's Jacobian when the
 * activation is elementwise (docs/dreg.md, DREG `frobenius`):
 *
 *     r_b = Σ_j σ'(z_bj)²·‖W[:, j]‖²
 *
 * One fused kernel (and one for its gradient, which reaches both σ' and W)
 * where available; `tf.sum(σ'²·Σ_i W², 1)` with ordinary ops otherwise (other
 * backends, second-order autodiff, `implementation: 'composite'`).
 *
 * @param dy σ'(z), `[B, n]`.
 * @param kernel W, `[d_in, n]`.
 * @param implementation overrides the process-wide {@link PolyImplementation}.
 * @returns r, `[B]`.
 * @throws ShapeError when the shapes do not match.
 */
export function denseJacobianFrobenius(dy: tf.Tensor2D, kernel: tf.Tensor2D, implementation?: PolyImplementation): tf.Tensor1D {
  if (dy.rank !== 2 || kernel.rank !== 2 || kernel.shape[1] !== dy.shape[1]) {
    throw new ShapeError(`kernel [${kernel.shape}] does not match dy [${dy.shape}] (expected [d_in, ${dy.shape[1]}])`, { tensor: 'kernel' });
  }
  if (useFused(implementation, [dy, kernel])) {
    return tf.engine().runKernel(DENSE_JACOBIAN_FROBENIUS, { dy, kernel }) as tf.Tensor1D;
  }
  return tf.tidy(() => tf.sum(tf.mul(tf.square(dy), tf.sum(tf.square(kernel), 0)), 1) as tf.Tensor1D);
}

/**
 * Σ_l w_l·Σ_i x_l[i] — a weighted sum of the sums of several tensors (DREG's
 * reduction of the per-sample layer penalties, R = Σ_l λ·w_l·mean_b(R_l)/n_l
 * with w_l ← λ·w_l/(n_l·B)), as one kernel and one gradient kernel on cpu and
 * wasm (tfjs dispatch costs more than the arithmetic for small models), and
 * as `sum`/`mul`/`addN` elsewhere and under second-order autodiff.
 *
 * @param xs tensors of any shapes (float32).
 * @param weights one finite number per tensor.
 * @param implementation overrides the process-wide {@link PolyImplementation}.
 * @returns a scalar.
 * @throws ShapeError when `weights` and `xs` differ in length.
 */
export function weightedSum(xs: tf.Tensor[], weights: number[], implementation?: PolyImplementation): tf.Scalar {
  if (xs.length !== weights.length) throw new ShapeError(`weightedSum: ${xs.length} tensors but ${weights.length} weights`, { tensor: 'xs' });
  if (xs.length === 0) return tf.scalar(0);
  const mode = implementation ?? getPolyImplementation();
  checkMode(mode);
  const backend = tf.getBackend();
  if (
    mode !== 'composite' &&
    gradientDepth() <= 1 &&
    tf.getKernel(WEIGHTED_SUM, backend) != null &&
    tf.getKernel(WEIGHTED_SUM_GRAD, backend) != null &&
    xs.every((x) => x.dtype === 'float32')
  ) {
    const inputs: tf.NamedTensorMap = {};
    xs.forEach((x, l) => (inputs[`x${l}`] = x));
    return tf.engine().runKernel(WEIGHTED_SUM, inputs, { weights: weights.slice(), shapes: xs.map((x) => x.shape.slice()) }) as tf.Scalar;
  }
  return tf.tidy(() => {
    const terms = xs.map((x, l) => tf.mul(tf.sum(x), weights[l]));
    return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
  });
}
