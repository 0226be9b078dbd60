import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import type { PolyBasis } from '../config';

/*
 * Names, attributes and the input/output layout of the fused kernels
 * (docs/poly-layer.md, §6). One kernel name per input signature (tfjs saves inputs for
 * the gradient by name, and a name listed in `inputsToSave` must be present in
 * every call).
 */

/**
 * Fused polynomial activation. Inputs `{ z, coeffs }` (z `[..., C]` float32,
 * coeffs `[C | 1, K+1]`, or `[G, C | 1, K+1]` with z `[G, …, C]` for G models side
 * by side), attributes {@link PolyKernelAttrs}. Outputs, in order
 * (see {@link outputLayout}): `y = σ(z)`, `dy = σ'(z)` (unless `derivative` is false), then `u = g(z)` and
 * `g1 = g'(z)` when `save` (kept for the gradient, so that the backward pass
 * needs no transcendental function), then `d2y = σ''(z)` when `second`.
 */
export const POLY_ACTIVATION = 'ChainzPolyActivation';

/**
 * {@link POLY_ACTIVATION} that keeps u and g' for the gradient (attribute
 * `save`; cpu and wasm, `tanh` guard, large tensors): its gradient saves the
 * coefficients, u and g' instead of z (a separate name because tfjs fixes the
 * saved inputs and outputs per kernel name).
 */
export const POLY_ACTIVATION_SAVING = 'ChainzPolyActivationSaving';

/**
 * Fused polynomial activation of a dense layer plus its per-sample squared
 * Jacobian norm (docs/dreg.md, DREG `frobenius`, elementwise guards): inputs
 * `{ z [B, n], coeffs, kernel [d_in, n] }`, outputs `y, dy, r [B], u?, g1?, d2y?`
 * with r_b = Σ_j σ'(z_bj)²·‖W[:, j]‖² — one pass over z instead of a second
 * kernel over σ'.
 */
export const POLY_ACTIVATION_JACOBIAN = 'ChainzPolyActivationJacobian';

/** {@link POLY_ACTIVATION_JACOBIAN} that keeps u and g' (see {@link POLY_ACTIVATION_SAVING}). */
export const POLY_ACTIVATION_JACOBIAN_SAVING = 'ChainzPolyActivationJacobianSaving';

/**
 * Gradient of {@link POLY_ACTIVATION} and {@link POLY_ACTIVATION_JACOBIAN} (no
 * gradient of its own: second-order paths use the composite op). Inputs
 * `{ z?, coeffs, u?, g1?, gy, gdy, gd2y?, kernel?, gr? }` (z, or u and g'; `gy`, `gdy`, `gd2y`,
 * `gr`: upstream gradients of y, dy, d2y, r); outputs
 * `[∂L/∂z (shape of z), ∂L/∂coeffs (shape of coeffs), ∂L/∂kernel (with kernel)]`.
 */
export const POLY_ACTIVATION_GRAD = 'ChainzPolyActivationGrad';

/**
 * Per-sample squared Frobenius norm of a dense polynomial layer's Jacobian
 * (docs/dreg.md, `frobenius`, elementwise guards): inputs `{ dy [B, n], kernel
 * [d_in, n] }`, output `r [B]`, r_b = Σ_j dy_bj²·‖W[:, j]‖².
 */
export const DENSE_JACOBIAN_FROBENIUS = 'ChainzDenseJacobianFrobenius';

/**
 * Gradient of {@link DENSE_JACOBIAN_FROBENIUS}: inputs `{ dy, kernel, gr }`,
 * outputs `[∂L/∂dy [B, n], ∂L/∂kernel [d_in, n]]`:
 * ∂L/∂dy_bj = 2·gr_b·c_j·dy_bj, ∂L/∂W_ij = 2·W_ij·Σ_b gr_b·dy_bj², c_j = ‖W[:, j]‖².
 */
export const DENSE_JACOBIAN_FROBENIUS_GRAD = 'ChainzDenseJacobianFrobeniusGrad';

/**
 * Σ_l w_l·Σ_i x_l[i] of several tensors in one kernel (DREG's reduction of the
 * per-sample layer penalties): inputs `x0, x1, …`, attribute `weights`
 * (one per input), output a scalar.
 */
export const WEIGHTED_SUM = 'ChainzWeightedSum';

/**
 * Gradient of {@link WEIGHTED_SUM}: input `dy` (scalar), attributes `weights`
 * and `shapes`; output l is w_l·dy broadcast to `shapes[l]`.
 */
export const WEIGHTED_SUM_GRAD = 'ChainzWeightedSumGrad';

/**
 * {@link WEIGHTED_SUM} for G models side by side: inputs `x0, x1, …` each `[G, B]`,
 * attributes `weights` (`[L][G]`) and `counts` (`[G]`: rows of each model, the rest
 * padding); output `[G]`, out[g] = Σ_l w[l][g]·Σ_{b < counts[g]} x_l[g, b], summed
 * in float64 in the order of {@link WEIGHTED_SUM} (so each entry equals that
 * kernel's result for the model alone).
 */
export const WEIGHTED_SUM_GROUPED = 'ChainzWeightedSumGrouped';

/** Gradient of {@link WEIGHTED_SUM_GROUPED}: input `dy` `[G]`; output l is w[l][g]·dy[g] on the first counts[g] rows of group g, 0 on the padding. */
export const WEIGHTED_SUM_GROUPED_GRAD = 'ChainzWeightedSumGroupedGrad';

/** Elementwise guards handled by the fused kernel (`layernorm` normalises with composite ops first, then uses `none`). */
export type KernelGuard = 'tanh' | 'clip' | 'none';

/** Attributes of {@link POLY_ACTIVATION} and {@link POLY_ACTIVATION_GRAD}. The degree K is `coeffs.shape[1] − 1`. */
export interface PolyKernelAttrs {
  /**
   * Output σ' (default true). Without it (cpu and wasm only) the forward kernel has no output
   * that training would leave unused — tfjs gives every unused output of a recorded kernel a
   * zero-filled gradient tensor — while r still comes from σ'.
   */
  derivative?: boolean;
  basis: PolyBasis;
  guard: KernelGuard;
  /** Scale s of the `tanh` / `clip` guard (units of z). */
  scale: number;
  /** Also output σ'' (forward kernel). */
  second: boolean;
  /** Also output u and g' for the backward pass (worth it for the `tanh` guard on large tensors). */
  save: boolean;
}

/** `attrs` as tfjs's kernel registry types them. */
export function toAttrMap(a: PolyKernelAttrs): NamedAttrMap {
  return { basis: a.basis, guard: a.guard, scale: a.scale, second: a.second, save: a.save, derivative: a.derivative !== false };
}

/** Reads {@link PolyKernelAttrs} back from a kernel's attribute map. */
export function fromAttrMap(m: NamedAttrMap | undefined): PolyKernelAttrs {
  const a = (m ?? {}) as Record<string, unknown>;
  return { basis: a.basis as PolyBasis, guard: a.guard as KernelGuard, scale: a.scale as number, second: a.second === true, save: a.save === true, derivative: a.derivative !== false };
}

/** Output indices of the forward kernels (−1: absent; `y` is always 0), and their count. */
export interface OutputLayout {
  y: number;
  dy: number;
  r: number;
  u: number;
  g1: number;
  d2y: number;
  count: number;
}

/**
 * Output layout of {@link POLY_ACTIVATION} (`jacobian` false) or
 * {@link POLY_ACTIVATION_JACOBIAN} (true) for the given attributes:
 * `y, [dy], [r], [u, g1], [d2y]` (dy unless `derivative` is false).
 */
export function outputLayout(a: Pick<PolyKernelAttrs, 'save' | 'second' | 'derivative'>, jacobian: boolean): OutputLayout {
  let k = 1;
  const dy = a.derivative === false ? -1 : k++;
  const r = jacobian ? k++ : -1;
  const u = a.save ? k++ : -1;
  const g1 = a.save ? k++ : -1;
  const d2y = a.second ? k++ : -1;
  return { y: 0, dy, r, u, g1, d2y, count: k };
}
