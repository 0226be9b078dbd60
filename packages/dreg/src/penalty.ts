import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, dense } from '@chainz/core';
import { weightedSum, type DenseLayerTrace, type LayerTrace } from '@chainz/poly-layer';
import { resolveDregOptions, type DregOptions, type ResolvedDregOptions } from './options';
import { applyLayerNormJacobian, checkTrace, perSampleJacobianFrobenius } from './jacobian';

function resolved(options: Partial<DregOptions> | ResolvedDregOptions | undefined): ResolvedDregOptions {
  // idempotent: resolved options (λ already a function) validate again cheaply
  return resolveDregOptions(options as Partial<DregOptions>);
}

/** Axes of a trace tensor other than the batch axis ([1] dense, [1, 2, 3] conv2d). */
function featureAxes(t: tf.Tensor): number[] {
  return Array.from({ length: t.rank - 1 }, (_, i) => i + 1);
}

/** n_l: the number of outputs of a layer per sample (d_out, or H'·W'·C for conv2d). */
function outputsPerSample(trace: LayerTrace): number {
  return trace.z.size / trace.z.shape[0]; // z has σ''s shape (σ' may be computed only when read)
}

function curvatureTerm(trace: LayerTrace, mu: number): tf.Tensor1D | null {
  if (mu === 0) return null;
  if (!trace.d2y) {
    throw new ConfigError(`curvature > 0 needs σ'' in the trace of layer '${trace.name ?? '?'}'`, { option: 'curvature' }, 'pass { secondDerivative: true } to polyDense / polyActivation');
  }
  return tf.mul(tf.sum(tf.square(trace.d2y), featureAxes(trace.d2y)), mu) as tf.Tensor1D;
}

/**
 * The per-sample layer penalty R_l ([B]) of an elementwise variant
 * (`frobenius`, `activation`, `hinge`) plus the curvature add-on.
 *
 * - frobenius: ‖J_l‖_F² ({@link perSampleJacobianFrobenius});
 * - activation: Σ_j σ'_j²;  hinge: Σ_j max(0, |σ'_j| − β)²;
 * - curvature (μ > 0): + μ·Σ_j σ''_j².
 * Sums run over every output of the layer (features j; for conv2d traces all
 * positions and channels (p, c)).
 * With the `layernorm` guard σ' in `activation`/`hinge` is the slope w.r.t. the
 * normalised u (`frobenius` includes the normalisation's Jacobian).
 *
 * @param trace a dense or conv2d layer trace.
 * @param options DREG options (`variant` must not be `forward`).
 * @returns R_l per sample, `[B]`.
 * @throws ConfigError for the `forward` variant (it needs the whole chain: use dregPenalty).
 */
export function perSampleLayerPenalty(trace: LayerTrace, options?: Partial<DregOptions>): tf.Tensor1D {
  const o = resolved(options);
  checkTrace(trace);
  return tf.tidy(() => {
    let r: tf.Tensor1D;
    switch (o.variant) {
      case 'frobenius':
        r = perSampleJacobianFrobenius(trace);
        break;
      case 'activation':
        r = tf.sum(tf.square(trace.dy), featureAxes(trace.dy)) as tf.Tensor1D;
        break;
      case 'hinge':
        r = tf.sum(tf.square(tf.relu(tf.sub(tf.abs(trace.dy), o.beta))), featureAxes(trace.dy)) as tf.Tensor1D;
        break;
      case 'forward':
        throw new ConfigError("the 'forward' variant chains tangents across layers: use dregPenalty on the whole list of traces", { option: 'variant' });
    }
    const curv = curvatureTerm(trace, o.curvature);
    return curv ? (tf.add(r, curv) as tf.Tensor1D) : r;
  });
}

/**
 * One layer's term of the DREG penalty, λ(step)·w·mean_batch(R_l)/n_l — what a
 * PolyDense layer adds to the loss in `model.fit` (see `attachDreg`). Summed over
 * layers it equals {@link dregPenalty} (for every variant but `forward`).
 *
 * @param trace the layer's trace.
 * @param options DREG options.
 * @param step training step for λ's schedule (default 0).
 * @param weight the layer's weight w_l (default 1).
 * @returns a scalar.
 */
export function dregLayerPenalty(trace: LayerTrace, options?: Partial<DregOptions>, step = 0, weight = 1): tf.Scalar {
  const o = resolved(options);
  const lambda = o.lambda(step);
  if (lambda === 0 || weight === 0) return tf.scalar(0);
  return tf.tidy(() => tf.mul(tf.mean(perSampleLayerPenalty(trace, o)), (lambda * weight) / outputsPerSample(trace)) as tf.Scalar);
}

/**
 * Forward-mode tangent chain (docs/dreg.md, `forward`): t_0 ~ N(0, I) per sample
 * ([B, d_in of the first layer], seeded), t_l = σ'_l ∘ (J_LN)(t_{l−1}·W_l), and
 * R_l = ‖t_l‖² per sample. E‖t_l‖² = ‖J_l⋯J_1‖_F² (the Jacobian of the network
 * up to layer l), so this is an unbiased one-sample estimate of the end-to-end
 * Jacobian norms, at the cost of one extra matmul per layer.
 */
function forwardChain(all: LayerTrace[], seed: number): tf.Tensor1D[] {
  const conv = all.findIndex((t) => t.kind !== 'dense');
  if (conv >= 0) {
    throw new ConfigError(`the 'forward' variant chains dense layers only; layer ${conv} ('${all[conv].name ?? '?'}') is a ${all[conv].kind} layer`, { option: 'variant' });
  }
  const traces = all as DenseLayerTrace[];
  const B = traces[0].z.shape[0];
  let t = tf.randomNormal([B, traces[0].kernel.shape[0]], 0, 1, 'float32', seed) as tf.Tensor2D;
  const out: tf.Tensor1D[] = [];
  traces.forEach((tr, l) => {
    if (tr.kernel.shape[0] !== t.shape[1] || tr.z.shape[0] !== B) {
      throw new ShapeError(
        `the 'forward' variant needs consecutive layers: layer ${l} ('${tr.name ?? '?'}') has kernel [${tr.kernel.shape}] but the previous layer gives [${B}, ${t.shape[1]}]`,
        { tensor: tr.name ?? `traces[${l}]` },
      );
    }
    let v: tf.Tensor2D = dense(t, tr.kernel);
    if (tr.guard === 'layernorm') v = applyLayerNormJacobian(v, tr.layernorm!.u, tr.layernorm!.invStd);
    t = tf.mul(v, tr.dy) as tf.Tensor2D;
    out.push(tf.sum(tf.square(t), 1) as tf.Tensor1D);
  });
  return out;
}

/**
 * The DREG penalty (docs/dreg.md):
 *
 *     R = λ(t) · Σ_l w_l · mean_batch(R_l) / n_l,   n_l = outputs of layer l,
 *
 * with R_l the per-sample layer penalty of the chosen variant (`frobenius`
 * default: ‖J_l‖_F², exact, including the layer-norm Jacobian with that guard;
 * `activation`; `hinge`; `forward`) plus μ·Σ_j σ''² when `curvature` = μ > 0.
 * Use it inside the training step:
 * `optimizer.minimize(() => tf.add(taskLoss, dregPenalty(traces, opts, step)))`.
 *
 * @param traces layer traces in network order (from `polyDense` `[B, n_l]` or
 *   `polyConv2d` `[B, H', W', C]`, n_l = H'·W'·C); `forward` takes dense traces only.
 * @param options partial {@link DregOptions}; default frobenius, λ = 10^−2.5.
 * @param step training step t for λ's schedule and the forward tangent seed (default 0).
 * @returns a scalar; 0 when there are no traces or λ(t) = 0.
 * @throws ConfigError naming the option for invalid options, a `layerWeights`
 *   length that differs from `traces.length`, or `curvature` without `d2y`.
 * @throws ShapeError for inconsistent traces (or non-consecutive layers with `forward`).
 */
export function dregPenalty(traces: LayerTrace[], options?: Partial<DregOptions>, step = 0): tf.Scalar {
  const o = resolved(options);
  if (!Array.isArray(traces)) throw new ConfigError('traces must be an array of layer traces', { option: 'traces' });
  if (o.layerWeights && o.layerWeights.length !== traces.length) {
    throw new ConfigError(`has ${o.layerWeights.length} weights for ${traces.length} layers`, { option: 'layerWeights' });
  }
  traces.forEach(checkTrace);
  const lambda = o.lambda(step);
  if (traces.length === 0 || lambda === 0) return tf.scalar(0);
  return tf.tidy(() => {
    const perSample = o.variant === 'forward' ? forwardChain(traces, o.seed + Math.floor(step)) : traces.map((tr) => perSampleLayerPenalty(tr, o));
    const rs = traces.map((tr, l) => {
      let r = perSample[l];
      if (o.variant === 'forward') {
        const curv = curvatureTerm(tr, o.curvature);
        if (curv) r = tf.add(r, curv) as tf.Tensor1D;
      }
      return r;
    });
    // λ·Σ_l w_l·mean_batch(R_l)/n_l = Σ_l (λ·w_l/(n_l·B))·Σ_batch R_l: one fused kernel on cpu/wasm.
    // n_l·B = z.size for dense [B, n_l] and conv [B, H', W', C] traces alike.
    const weights = traces.map((tr, l) => (lambda * (o.layerWeights ? o.layerWeights[l] : 1)) / (outputsPerSample(tr) * tr.z.shape[0]));
    return weightedSum(rs, weights);
  });
}
