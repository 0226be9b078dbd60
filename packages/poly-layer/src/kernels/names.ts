import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import type { PolyBasis } from '../config';

/*
 * Names, attributes and the input/output layout of the fused kernels
 * (DESIGN §2, §6). One kernel name per input signature (tfjs saves inputs for
 * the gradient by name, and a name listed in `inputsToSave` must be present in
 * every call).
 */

/**
 * Fused polynomial activation. Inputs `{ z, coeffs }` (z `[..., C]` float32,
 * coeffs `[C | 1, K+1]`), attributes {@link PolyKernelAttrs}. Outputs, in order:
 * `y = σ(z)`, `dy = σ'(z)`, `u`, `g1`, and `d2y = σ''(z)` when `second`.
 * `u = g(z)` and `g1 = g'(z)` are saved for the gradient (so that the backward
 * pass needs no transcendental function); backends that recompute them from z
 * (and the `clip`/`none` guards, where that is free) return one-element
 * placeholders there instead.
 */
export const POLY_ACTIVATION = 'ChainzPolyActivation';

/**
 * Fused polynomial activation of a dense layer plus its per-sample squared
 * Jacobian norm (DESIGN §3, DREG `frobenius`, elementwise guards): inputs
 * `{ z [B, n], coeffs, kernel [d_in, n] }`, outputs `y, dy, u, g1,
 * r [B], d2y?` with r_b = Σ_j σ'(z_bj)²·‖W[:, j]‖² — one pass over z instead of a
 * second kernel over σ'.
 */
export const POLY_ACTIVATION_JACOBIAN = 'ChainzPolyActivationJacobian';

/**
 * Gradient of {@link POLY_ACTIVATION} and {@link POLY_ACTIVATION_JACOBIAN} (no
 * gradient of its own: second-order paths use the composite op). Inputs
 * `{ z, coeffs, dy, u, g1, gy, gdy, gd2y?, kernel?, gr? }` (`gy`, `gdy`, `gd2y`,
 * `gr`: upstream gradients of y, dy, d2y, r); outputs
 * `[∂L/∂z (shape of z), ∂L/∂coeffs (shape of coeffs), ∂L/∂kernel (with kernel)]`.
 */
export const POLY_ACTIVATION_GRAD = 'ChainzPolyActivationGrad';

/**
 * Per-sample squared Frobenius norm of a dense polynomial layer's Jacobian
 * (DESIGN §3, `frobenius`, elementwise guards): inputs `{ dy [B, n], kernel
 * [d_in, n] }`, output `r [B]`, r_b = Σ_j dy_bj²·‖W[:, j]‖².
 */
export const DENSE_JACOBIAN_FROBENIUS = 'ChainzDenseJacobianFrobenius';

/**
 * Gradient of {@link DENSE_JACOBIAN_FROBENIUS}: inputs `{ dy, kernel, gr }`,
 * outputs `[∂L/∂dy [B, n], ∂L/∂kernel [d_in, n]]`:
 * ∂L/∂dy_bj = 2·gr_b·c_j·dy_bj, ∂L/∂W_ij = 2·W_ij·Σ_b gr_b·dy_bj², c_j = ‖W[:, j]‖².
 */
export const DENSE_JACOBIAN_FROBENIUS_GRAD = 'ChainzDenseJacobianFrobeniusGrad';

/** Elementwise guards handled by the fused kernel (`layernorm` normalises with composite ops first, then uses `none`). */
export type KernelGuard = 'tanh' | 'clip' | 'none';

/** Attributes of {@link POLY_ACTIVATION} and {@link POLY_ACTIVATION_GRAD}. The degree K is `coeffs.shape[1] − 1`. */
export interface PolyKernelAttrs {
  basis: PolyBasis;
  guard: KernelGuard;
  /** Scale s of the `tanh` / `clip` guard (units of z). */
  scale: number;
  /** Also output σ'' (forward kernel). */
  second: boolean;
}

/** `attrs` as tfjs's kernel registry types them. */
export function toAttrMap(a: PolyKernelAttrs): NamedAttrMap {
  return { basis: a.basis, guard: a.guard, scale: a.scale, second: a.second };
}

/** Reads {@link PolyKernelAttrs} back from a kernel's attribute map. */
export function fromAttrMap(m: NamedAttrMap | undefined): PolyKernelAttrs {
  const a = (m ?? {}) as Record<string, unknown>;
  return { basis: a.basis as PolyBasis, guard: a.guard as KernelGuard, scale: a.scale as number, second: a.second === true };
}

/** Index of each output of {@link POLY_ACTIVATION}. */
export const OUT = { y: 0, dy: 1, u: 2, g1: 3, d2y: 4 } as const;

/** Index of each output of {@link POLY_ACTIVATION_JACOBIAN}. */
export const OUT_J = { y: 0, dy: 1, u: 2, g1: 3, r: 4, d2y: 5 } as const;
