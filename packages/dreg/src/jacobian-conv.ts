import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, dense } from '@chainz/core';
import { conv2dGeometry, inBoundsTapMask, type Conv2dGeometry, type Conv2dLayerTrace } from '@chainz/poly-layer';

/*
 * The exact per-sample Jacobian norm of a convolutional polynomial layer
 * (docs/dreg.md, conv2d). Per sample the layer maps x [H, W, C_in] to
 * y [H', W', C] with z_p = Σ_{t ∈ in(p)} K_t·x_{p,t} + b, where in(p) are the taps of
 * output position p that fall inside the input (the others read padding zeros,
 * which do not depend on x). The Jacobian rows of position p form the block
 * J_p = diag(σ'(z_p))·A_p, A_p = [K_t for t ∈ in(p)] (rows: output channels), so
 *
 *     ‖J‖_F² = Σ_p ‖J_p‖_F² = Σ_{p,c} σ'(z_{p,c})² · M[p,c],
 *     M[p,c] = Σ_{t ∈ in(p)} Σ_{c_in} K[t, c_in, c]²,
 *
 * and M = mask·S with S[t, c] = Σ_{c_in} K[t, c_in, c]² and mask[p, t] = [t ∈ in(p)]
 * — exactly conv2d(ones[1, H, W, 1], S as [kh, kw, 1, C]) with the layer's strides
 * and padding (tested), computed once per step as one [P, T]·[T, C] matmul.
 */

const maskCache = new Map<string, Float32Array>();

function geometryOf(trace: Conv2dLayerTrace): Conv2dGeometry {
  const [kh, kw] = trace.kernel.shape;
  return conv2dGeometry(trace.inputSize, [kh, kw], trace.strides, trace.padding);
}

/** The in-bounds tap mask `[P, T]` as a new tensor (its values cached per geometry). */
function tapMask(g: Conv2dGeometry): tf.Tensor2D {
  const key = JSON.stringify(g);
  let m = maskCache.get(key);
  if (m === undefined) {
    m = inBoundsTapMask(g);
    if (maskCache.size > 64) maskCache.clear();
    maskCache.set(key, m);
  }
  return tf.tensor2d(m, [g.h.out * g.w.out, g.kernel[0] * g.kernel[1]]);
}

/**
 * Validates a conv2d trace: kernel `[kh, kw, C_in, C]`, dy/z `[B, H', W', C]` with
 * H', W' implied by `inputSize`, `strides` and `padding`; with `layernorm`, u like dy
 * and invStd `[B, H', W', 1]`.
 * @throws ShapeError naming the layer.
 */
export function checkConvTrace(trace: Conv2dLayerTrace): void {
  const who = trace.name ?? '?';
  const K = trace.kernel;
  const dy = trace.dy;
  if (K.rank !== 4 || dy.rank !== 4 || dy.shape[3] !== K.shape[3]) {
    throw new ShapeError(`trace of conv layer '${who}': kernel [${K.shape}] does not match dy [${dy.shape}]`, { tensor: trace.name ?? 'kernel' });
  }
  const size = trace.inputSize;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ShapeError(`trace of conv layer '${who}': inputSize must be [H, W], got ${JSON.stringify(size)}`, { tensor: trace.name ?? 'inputSize' });
  }
  const g = geometryOf(trace);
  if (dy.shape[1] !== g.h.out || dy.shape[2] !== g.w.out) {
    throw new ShapeError(
      `trace of conv layer '${who}': dy [${dy.shape}] does not match input ${size[0]}×${size[1]}, kernel ${K.shape[0]}×${K.shape[1]}, strides [${g.strides}], padding '${g.padding}' (expected ${g.h.out}×${g.w.out})`,
      { tensor: trace.name ?? 'dy' },
    );
  }
  if (trace.guard === 'layernorm') {
    const ln = trace.layernorm;
    const ok =
      ln !== undefined &&
      ln.u.shape.every((d, i) => d === dy.shape[i]) &&
      ln.u.rank === 4 &&
      ln.invStd.rank === 4 &&
      ln.invStd.shape.slice(0, 3).every((d, i) => d === dy.shape[i]) &&
      ln.invStd.shape[3] === 1;
    if (!ok) {
      throw new ShapeError(`trace of conv layer '${who}' has guard 'layernorm' but no (matching) layernorm.{u [B, H', W', C], invStd [B, H', W', 1]}`, {
        tensor: trace.name ?? 'layernorm',
      });
    }
  }
}

/**
 * Exact per-sample ‖J‖_F² of a convolutional polynomial layer (docs/dreg.md):
 *
 * - elementwise guards: Σ_{p,c} σ'(z_{p,c})²·M[p,c], M = mask·S (see above; equal to
 *   conv2d(ones[1, H, W, 1], Σ_{c_in} K²) with the layer's strides/padding —
 *   border-aware, any stride, SAME/VALID);
 * - `layernorm` (normalised over the C channels of each position p, scale s_p):
 *   J_p = diag(σ'(u_p))·J_LN,p·A_p, whose row j is s_p·σ'_j·(Ã_j − (u_j/C)·q_p) with
 *   Ã = A_p centred over the output channels and q_p = A_pᵀu_p (as for dense layers).
 *   Per in-bounds tap t these are the C_in-vectors K̃_t[:, j] − (u_j/C)·q_{p,t},
 *   q_{p,t} = Σ_c u_{p,c}·K̃_t[:, c], so
 *   ‖J_p‖_F² = s_p²·Σ_j σ'_j²·Σ_{t ∈ in(p)} ‖K̃_t[:, j] − (u_j/C)·q_{p,t}‖².
 *   The difference vectors are formed explicitly (B·H'·W'·kh·kw·C_in·C values, the
 *   size of one forward convolution's multiply-adds): a difference of squared norms
 *   would cancel catastrophically where layer norm's scale invariance makes J_p
 *   nearly vanish (e.g. C = 2, where u ≈ ±1). Float32 accuracy is then that of
 *   tfjs autodiff (tested).
 *
 * @param trace a conv2d trace from `polyConv2d` or a PolyConv2D layer.
 * @returns ‖J_b‖_F² per sample, `[B]`; differentiable w.r.t. kernel, bias and
 *   coefficients with first-order autodiff.
 * @throws ShapeError for an inconsistent trace.
 */
export function perSampleConvJacobianFrobenius(trace: Conv2dLayerTrace): tf.Tensor1D {
  checkConvTrace(trace);
  const g = geometryOf(trace);
  return tf.tidy(() => {
    const K = trace.kernel; // [kh, kw, C_in, C]
    const [kh, kw, cIn, C] = K.shape;
    const T = kh * kw;
    const B = trace.dy.shape[0];
    const P = g.h.out * g.w.out;
    const mask = tapMask(g); // [P, T]
    const dy2 = tf.reshape(tf.square(trace.dy), [B, P, C]);
    if (trace.guard !== 'layernorm') {
      const S = tf.reshape(tf.sum(tf.square(K), 2), [T, C]);
      const M = dense(mask, S as tf.Tensor2D); // [P, C]
      return tf.sum(tf.mul(dy2, M), [1, 2]) as tf.Tensor1D;
    }
    const { u: u4, invStd } = trace.layernorm!;
    const u = tf.reshape(u4, [B, P, C]);
    const Kc = tf.sub(K, tf.mean(K, 3, true)); // K̃, centred over the output channels
    // q_{p,t} = Σ_c u_{p,c}·K̃_t[:, c] ∈ R^{C_in} per sample, position and tap
    const q = dense(tf.reshape(u, [B * P, C]) as tf.Tensor2D, tf.transpose(tf.reshape(Kc, [T * cIn, C])) as tf.Tensor2D);
    // rows of J_p restricted to tap t: K̃_t[:, j] − (u_j/C)·q_{p,t}, formed as vectors
    // (no cancellation in a difference of squared norms), [B, P, T, C_in, C]
    const D = tf.sub(tf.reshape(Kc, [1, 1, T, cIn, C]), tf.mul(tf.reshape(q, [B, P, T, cIn, 1]), tf.reshape(tf.div(u, C), [B, P, 1, 1, C])));
    const perTap = tf.sum(tf.square(D), 3); // [B, P, T, C]
    const perUnit = tf.sum(tf.mul(perTap, tf.reshape(mask, [1, P, T, 1])), 2); // [B, P, C]: only in-bounds taps
    const perPos = tf.sum(tf.mul(dy2, perUnit), 2); // [B, P]
    return tf.sum(tf.mul(perPos, tf.reshape(tf.square(invStd), [B, P])), 1) as tf.Tensor1D;
  });
}
