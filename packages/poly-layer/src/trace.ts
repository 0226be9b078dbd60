import * as tf from '@tensorflow/tfjs-core';
import type { PolyGuard } from './config';

/**
 * What one dense polynomial layer h = σ(g(z)), z = x·W + b, records in its forward
 * pass for the DREG penalty (docs/dreg.md): everything needed for the exact per-sample
 * layer Jacobian J = diag(σ'(z))·Wᵀ — or, with the `layernorm` guard,
 * J = diag(σ'(u))·J_LN·Wᵀ with J_LN = invStd·(I − 11ᵀ/n − u·uᵀ/n).
 *
 * `kernel` is the caller's weight tensor (not a copy); the other tensors are new and
 * belong to the caller (inside `tf.tidy` / `optimizer.minimize` they are disposed
 * automatically; otherwise use {@link disposeTraces}).
 */
export interface DenseLayerTrace {
  kind: 'dense';
  /** Layer name, for error messages. */
  name?: string;
  /** W, `[d_in, d_out]`. */
  kernel: tf.Tensor2D;
  /** Pre-activation z = x·W + b, `[B, d_out]`. */
  z: tf.Tensor2D;
  /**
   * σ'(z) elementwise, `[B, d_out]` (for `layernorm`: σ'(u), the derivative w.r.t. the normalised u).
   * From `polyDense` with the fused cpu/wasm kernel: computed on first read (the forward pass
   * leaves it out when it does not need it); read it in the scope of the forward pass.
   */
  dy: tf.Tensor2D;
  /** σ''(z) (w.r.t. u for `layernorm`), `[B, d_out]`; present when the second derivative was requested. */
  d2y?: tf.Tensor2D;
  /** The guard of the activation. */
  guard: PolyGuard;
  /** Only with the `layernorm` guard: u `[B, d_out]` and invStd = 1/sqrt(var(z)+ε) `[B, 1]`. */
  layernorm?: { u: tf.Tensor2D; invStd: tf.Tensor2D };
  /**
   * ‖J_b‖_F² = Σ_j σ'(z_bj)²·‖W[:, j]‖² per sample, `[B]`, computed in the forward
   * pass when requested (`polyDense(…, { jacobianNorm: true })`; elementwise guards).
   */
  jacobianFrobenius?: tf.Tensor1D;
}

/**
 * What one convolutional polynomial layer h = σ(g(z)), z = conv(x, K) + b (channels
 * last, no dilation), records for the DREG penalty (docs/dreg.md). Per sample the layer
 * Jacobian has one block of rows per output position p: J_p = diag(σ'(z_p))·A_p
 * (with `layernorm`: diag(σ'(u_p))·J_LN,p·A_p, normalised over the channels at p),
 * where A_p holds the kernel taps that fall inside the input at p. The geometry
 * fields give which taps those are (border-aware, any stride, SAME/VALID).
 *
 * Ownership as for {@link DenseLayerTrace}: the kernel is the caller's, the other
 * tensors are new ({@link disposeTraces}).
 */
export interface Conv2dLayerTrace {
  kind: 'conv2d';
  /** Layer name, for error messages. */
  name?: string;
  /** K, `[kh, kw, C_in, C_out]`. */
  kernel: tf.Tensor4D;
  /** Spatial size of the layer's input, `[H, W]`. */
  inputSize: [number, number];
  /** Strides `[s_h, s_w]`. */
  strides: [number, number];
  /** Padding (TensorFlow's SAME/VALID conventions). */
  padding: 'same' | 'valid';
  /** Pre-activation z = conv(x, K) + b, `[B, H', W', C_out]`. */
  z: tf.Tensor4D;
  /** σ'(z) elementwise, `[B, H', W', C_out]` (for `layernorm`: w.r.t. the normalised u). */
  dy: tf.Tensor4D;
  /** σ''(z), `[B, H', W', C_out]`; present when the second derivative was requested. */
  d2y?: tf.Tensor4D;
  /** The guard of the activation. */
  guard: PolyGuard;
  /** Only with the `layernorm` guard (over channels, per position): u `[B, H', W', C_out]`, invStd `[B, H', W', 1]`. */
  layernorm?: { u: tf.Tensor4D; invStd: tf.Tensor4D };
}

/** A layer's forward trace: dense ({@link DenseLayerTrace}) or 2-D convolution ({@link Conv2dLayerTrace}), told apart by `kind`. */
export type LayerTrace = DenseLayerTrace | Conv2dLayerTrace;

const LAZY_DY = Symbol.for('chainz.polyLayer.lazyDerivative');

/**
 * Makes `trace.dy` a property computed on first read by `compute` (which
 * returns σ and σ'; σ is disposed) and kept until disposed — recomputed if
 * read again after that. Used by `polyDense` where the forward pass did not
 * need σ'.
 * @internal
 */
export function defineLazyDerivative<T extends tf.Tensor>(trace: { dy: T }, compute: () => { y: tf.Tensor; dy: tf.Tensor }): void {
  let value: T | undefined;
  Object.defineProperty(trace, 'dy', {
    enumerable: true,
    configurable: true,
    get(): T {
      if (value === undefined || value.isDisposed) {
        const o = compute();
        o.y.dispose();
        value = o.dy as T;
      }
      return value;
    },
    set(v: T) {
      value = v;
    },
  });
  Object.defineProperty(trace, LAZY_DY, { enumerable: false, value: () => value });
}

/** σ' of a trace if it exists now (not computing a lazy one). */
function existingDerivative(t: LayerTrace): tf.Tensor | undefined {
  const peek = (t as unknown as Record<symbol, (() => tf.Tensor | undefined) | undefined>)[LAZY_DY];
  return peek ? peek() : t.dy;
}

/** Disposes the tensors a trace owns (z, dy, d2y, layernorm.*, jacobianFrobenius), not the kernel. */
export function disposeTraces(traces: LayerTrace | LayerTrace[]): void {
  for (const t of Array.isArray(traces) ? traces : [traces]) {
    const dy = existingDerivative(t);
    tf.dispose([t.z, ...(dy ? [dy] : []), ...(t.d2y ? [t.d2y] : []), ...(t.layernorm ? [t.layernorm.u, t.layernorm.invStd] : []), ...(t.kind === 'dense' && t.jacobianFrobenius ? [t.jacobianFrobenius] : [])]);
  }
}
