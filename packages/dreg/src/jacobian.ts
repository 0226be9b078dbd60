import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, dense } from '@chainz/core';
import { denseJacobianFrobenius, type LayerTrace } from '@chainz/poly-layer';
import { checkConvTrace, perSampleConvJacobianFrobenius } from './jacobian-conv';

function checkTrace(trace: LayerTrace): void {
  if (trace === null || typeof trace !== 'object' || (trace.kind !== 'dense' && trace.kind !== 'conv2d')) {
    throw new ConfigError(`unsupported layer trace kind ${JSON.stringify((trace as { kind?: unknown })?.kind)} (supported: dense, conv2d)`, { option: 'traces' });
  }
  if (trace.kind === 'conv2d') {
    checkConvTrace(trace);
    return;
  }
  // shapes from z (σ' has z's shape; polyDense may compute σ' only when it is read)
  const [B, n] = trace.z.shape;
  if (trace.kernel.rank !== 2 || trace.kernel.shape[1] !== n || trace.z.rank !== 2) {
    throw new ShapeError(`trace of layer '${trace.name ?? '?'}': kernel [${trace.kernel.shape}] does not match dy [${trace.z.shape}]`, { tensor: trace.name ?? 'kernel' });
  }
  const jf = trace.jacobianFrobenius;
  if (jf !== undefined && (jf.rank !== 1 || jf.shape[0] !== B)) {
    throw new ShapeError(`trace of layer '${trace.name ?? '?'}': jacobianFrobenius [${jf.shape}] must be [${B}]`, { tensor: trace.name ?? 'jacobianFrobenius' });
  }
  if (trace.guard === 'layernorm') {
    const ln = trace.layernorm;
    if (!ln || ln.u.shape[0] !== B || ln.u.shape[1] !== n || ln.invStd.shape[0] !== B || ln.invStd.shape[1] !== 1) {
      throw new ShapeError(`trace of layer '${trace.name ?? '?'}' has guard 'layernorm' but no (matching) layernorm.{u [B, n], invStd [B, 1]}`, { tensor: trace.name ?? 'layernorm' });
    }
  }
}

/**
 * Exact per-sample squared Frobenius norm of a dense polynomial layer's Jacobian
 * J = ∂σ(g(xW + b))/∂x (docs/dreg.md, `frobenius`):
 *
 * - elementwise guards: ‖J‖_F² = Σ_j σ'(z_j)²·‖W[:, j]‖²;
 * - `layernorm`: J = diag(σ'(u))·J_LN·Wᵀ with J_LN = s·(I − 11ᵀ/n − u·uᵀ/n),
 *   s = 1/sqrt(var(z) + ε), which gives
 *   ‖J‖_F² = s²·Σ_j σ'(u_j)²·‖W̃[:, j] − (u_j/n)·q‖², W̃ = W − mean over outputs
 *   (column-centred), q = W·u (per sample, [d_in]). Evaluated without forming the
 *   [B, d_in, n] vectors: with p = q·W̃ (p_j = ⟨W̃_j, q⟩),
 *   ‖W̃_j − (u_j/n)q‖² = (p_j/‖q‖ − u_j‖q‖/n)² + (‖W̃_j‖² − p_j²/‖q‖²),
 *   two extra matmuls, exact (not an approximation). This split avoids the
 *   float32 cancellation of the expanded square where layer norm's scale
 *   invariance makes J nearly vanish (e.g. d_in = 1, where the second part is
 *   identically 0). Remaining float32 limit: if the columns of W̃ are nearly
 *   parallel (W̃ close to rank 1 with d_in ≥ 2) the second part has an absolute
 *   error ≈ 1e-7·‖W̃_j‖².
 *
 * Elementwise guards: the value the forward pass already computed when the
 * trace has it (`polyDense(…, { jacobianNorm: true })`: same fused kernel pass
 * as σ'), else one fused kernel (`denseJacobianFrobenius` of
 * `@chainz/poly-layer`, with its own gradient) on the cpu, wasm and webgpu
 * backends, ordinary ops elsewhere and under second-order autodiff.
 * Matmuls go through `@chainz/core`'s `dense` (explicit transposes in the backward
 * pass too; tfjs's own MatMul gradient uses transposed matmuls, slow on wasm).
 *
 * Conv2d traces (`polyConv2d`, PolyConv2D): see `perSampleConvJacobianFrobenius`
 * — Σ_{p,c} σ'(z_{p,c})²·M[p,c] with the border-aware tap norms M.
 *
 * @param trace a dense or conv2d layer trace from `polyDense` / `polyConv2d` (or the layers).
 * @returns ‖J_b‖_F² per sample b, shape `[B]`; differentiable w.r.t. the kernel,
 *   bias and coefficients with first-order autodiff.
 * @throws ConfigError for an unknown trace kind; ShapeError for inconsistent shapes.
 */
export function perSampleJacobianFrobenius(trace: LayerTrace): tf.Tensor1D {
  checkTrace(trace);
  if (trace.kind === 'conv2d') return perSampleConvJacobianFrobenius(trace);
  if (trace.guard !== 'layernorm') {
    // Σ_j σ'_j²·‖W[:, j]‖²: computed in the forward pass (polyDense's jacobianNorm) or here
    if (trace.jacobianFrobenius !== undefined) return trace.jacobianFrobenius;
    return denseJacobianFrobenius(trace.dy, trace.kernel);
  }
  return tf.tidy(() => {
    const W = trace.kernel; // [d_in, n]
    const dy2 = tf.square(trace.dy); // [B, n]
    const { u, invStd } = trace.layernorm!;
    const dIn = W.shape[0];
    const n = W.shape[1];
    const Wc = tf.sub(W, tf.mean(W, 1, true)) as tf.Tensor2D; // W̃ [d_in, n], centred over the outputs
    // core's dense = matMul whose backward avoids transposed matmuls (slow on wasm)
    const q = dense(u, tf.transpose(W) as tf.Tensor2D); // [B, d_in], q = W·u = W̃·u per sample (Σ_j u_j = 0)
    const p = dense(q, Wc); // [B, n], p_j = ⟨W̃_j, q⟩
    const qq = tf.maximum(tf.sum(tf.square(q), 1, true), 1e-30); // [B, 1], ‖q‖² (floored: q = 0 when u = 0)
    const qn = tf.sqrt(qq);
    // ‖W̃_j − (u_j/n)·q‖² split into the part along q and the part orthogonal to q,
    // each formed without the cancellation of the expanded square:
    //   along:      (p_j/‖q‖ − u_j‖q‖/n)²
    //   orthogonal: ‖W̃_j‖² − (p_j/‖q‖)²  (≥ 0; identically 0 when d_in = 1)
    // Both use r = p/‖q‖, never p²/‖q‖²: where all pre-activations of a row are equal
    // (u = 0, so q = p = 0: an all-zero input row, or units = 1) the gradient of p²/qq
    // would divide by qq² = 1e-60, which is 0 in float32 (NaN); that of r divides by
    // ‖q‖² = 1e-30 and is multiplied by p = 0, so it is exact there (0 through u).
    const r = tf.div(p, qn);
    const along = tf.square(tf.sub(r, tf.mul(u, tf.div(qn, n))));
    const perUnit = dIn === 1 ? along : tf.add(along, tf.relu(tf.sub(tf.sum(tf.square(Wc), 0), tf.square(r))));
    return tf.mul(tf.sum(tf.mul(dy2, perUnit), 1), tf.squeeze(tf.square(invStd), [1])) as tf.Tensor1D;
  });
}

/** Applies J_LN = s·(I − 11ᵀ/n − u·uᵀ/n) to each row v of `t` ([B, n]). */
export function applyLayerNormJacobian(t: tf.Tensor2D, u: tf.Tensor2D, invStd: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const centred = tf.sub(t, tf.mean(t, 1, true));
    const proj = tf.mul(u, tf.mean(tf.mul(u, t), 1, true));
    return tf.mul(tf.sub(centred, proj), invStd) as tf.Tensor2D;
  });
}

export { checkTrace };
