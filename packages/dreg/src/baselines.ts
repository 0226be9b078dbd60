import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@chainz/core';
import { forwardForDoubleBackprop, withTwiceDifferentiableGradients } from './double-backprop';

/*
 * Reference regularisers (docs/dreg.md) for tests and as baselines of the DREG
 * comparison: the input-gradient penalty (double backpropagation), the
 * random-projection Jacobian estimator of Hoffman, Roberts & Yaida (2019),
 * spectral normalisation (power iteration) and weight decay.
 *
 * Second-order autodiff in tfjs 4.22 (measured, tf.grad of tf.grad, cpu backend):
 * - works: matMul, @chainz/core's `dense`, add/mul/sub/div, square, sqrt, relu
 *   (zero curvature), softplus, logSigmoid, sin, erf, mean squared error, the two
 *   cross-entropies below, `activate` / `activationDense` of this package;
 * - silently WRONG in tfjs itself (or throwing when no other path reaches the
 *   input): tanh, sigmoid, exp, elu, softmax, logSoftmax — their gradients reuse
 *   the op's saved output. The double-backprop penalties below run inside
 *   `withTwiceDifferentiableGradients` (./double-backprop.ts), which gives these
 *   ops input-saving gradients, so they are exact through them too;
 * - throws ("gradient function not found for Greater/LogicalAnd"): selu,
 *   leakyRelu, prelu, tf.clipByValue; also tf.losses.softmaxCrossEntropy.
 * `@chainz/poly-layer`'s activation qualifies with every guard (its tanh guard uses
 * a tanh whose gradient is recomputed from the input, its clip guard relu instead
 * of clipByValue; tested against float64).
 */

let expFn: ((x: tf.Tensor) => tf.Tensor) | undefined;

/** exp whose gradient recomputes exp(x) from the input (so it can be differentiated again). */
function expTwice(x: tf.Tensor): tf.Tensor {
  if (expFn === undefined) {
    expFn = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [t, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([t]);
      return { value: tf.exp(t), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, expTwice(saved[0])) };
    }) as unknown as (x: tf.Tensor) => tf.Tensor;
  }
  return expFn(x);
}

let rowMaxFn: ((x: tf.Tensor) => tf.Tensor) | undefined;

/** max over the last axis (keepDims) as a constant for differentiation. */
function rowMaxConst(x: tf.Tensor): tf.Tensor {
  if (rowMaxFn === undefined) {
    rowMaxFn = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc) => {
      const shape = (t as tf.Tensor).shape;
      return { value: tf.max(t as tf.Tensor, -1, true), gradFunc: () => tf.zeros(shape) };
    }) as unknown as (x: tf.Tensor) => tf.Tensor;
  }
  return rowMaxFn(x);
}

/**
 * Softmax cross-entropy per sample, −Σ_c y_c·log softmax(l)_c, written so that
 * tfjs can differentiate it twice (log-sum-exp with an exp whose gradient is
 * recomputed; tfjs's own `softmaxCrossEntropy` throws under double backprop).
 * @param labels one-hot (or soft) labels `[B, C]`.
 * @param logits `[B, C]`.
 * @returns `[B]`.
 */
export function twiceDifferentiableSoftmaxCrossEntropy(labels: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const m = rowMaxConst(logits);
    const lse = tf.add(tf.log(tf.sum(expTwice(tf.sub(logits, m)), -1, true)), m); // [B, 1]
    return tf.sum(tf.mul(labels, tf.sub(lse, logits)), -1) as tf.Tensor1D;
  });
}

/**
 * Binary cross-entropy with logits per element, softplus(l) − y·l, averaged over
 * the last axis; twice differentiable in tfjs (tfjs's `sigmoidCrossEntropy` gives
 * silently wrong second derivatives).
 * @param labels `[B, K]` in [0, 1]. @param logits `[B, K]`. @returns `[B]`.
 */
export function twiceDifferentiableSigmoidCrossEntropy(labels: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.sub(tf.softplus(logits), tf.mul(labels, logits)), -1) as tf.Tensor1D);
}

function perSampleSquaredNorm(g: tf.Tensor): tf.Tensor1D {
  const axes = Array.from({ length: g.rank - 1 }, (_, i) => i + 1);
  return tf.sum(tf.square(g), axes) as tf.Tensor1D;
}

/**
 * Input-gradient penalty (double backpropagation, Drucker & LeCun 1992; "IGPen"):
 * mean over the batch of ‖∂ℓ_i/∂x_i‖², exact.
 *
 * `loss(x)` must return per-sample losses `[B]` (or any tensor whose sum is Σ_i ℓ_i)
 * for a model in which samples do not interact (no batch norm in training mode), so
 * that the rows of ∇_x Σ_i ℓ_i are the per-sample gradients. The returned scalar is
 * differentiable w.r.t. the model's parameters only through second-order autodiff:
 * build the model and loss from ops tfjs can differentiate twice (see the list at
 * the top of this module; e.g. an MLP of `activationDense` layers or of `tf.matMul`
 * with relu, gelu (erf), tanh, sigmoid, softplus or silu, and
 * `twiceDifferentiableSoftmaxCrossEntropy`). The forward and first backward pass run
 * inside {@link withTwiceDifferentiableGradients}, so tfjs's tanh, sigmoid, exp,
 * elu, softmax and logSoftmax are exact here too (tfjs alone drops their
 * second-order term without an error).
 *
 * @param loss x ↦ per-sample losses.
 * @param x inputs `[B, …]`.
 * @returns mean_i ‖∂ℓ_i/∂x_i‖² (a scalar).
 */
export function inputGradientPenalty(loss: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): tf.Scalar {
  return tf.tidy(() =>
    withTwiceDifferentiableGradients(() => {
      const g = tf.grad((xx: tf.Tensor) => forwardForDoubleBackprop('inputGradientPenalty', () => tf.sum(loss(xx)) as tf.Scalar))(x);
      return tf.mean(perSampleSquaredNorm(g)) as tf.Scalar;
    }),
  );
}

/** Options of {@link randomProjectionJacobianPenalty}. */
export interface RandomProjectionOptions {
  /** Number n of random projections per sample (default 1, as Hoffman et al. recommend for training). */
  projections?: number;
  /** Seed of the projections (default 0); use a different seed per step. */
  seed?: number;
}

/**
 * Random-projection estimate of the per-sample squared Frobenius norm of the
 * input–output Jacobian (Hoffman, Roberts & Yaida 2019, "Robust learning with
 * Jacobian regularization"): for v uniform on the unit sphere S^{C−1},
 * E[vvᵀ] = I/C, so ‖J‖_F² = C·E_v‖vᵀJ‖²; with n projections per sample
 * ‖J_i‖_F² ≈ (C/n)·Σ_k ‖v_kᵀJ_i‖² (unbiased). Each vᵀJ is one vector–Jacobian
 * product (a backward pass); the estimate is differentiable w.r.t. the parameters
 * through double backpropagation (same constraints as {@link inputGradientPenalty},
 * also run inside {@link withTwiceDifferentiableGradients}).
 *
 * @param f x ↦ outputs `[B, C]` (samples must not interact).
 * @param x inputs `[B, …]`.
 * @param opts projections (default 1), seed (default 0).
 * @returns mean over the batch of the estimate of ‖J_i‖_F² (a scalar).
 * @throws ConfigError (option `projections`) unless a positive integer;
 *   ShapeError when f's output is not `[B, C]`.
 */
export function randomProjectionJacobianPenalty(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, opts: RandomProjectionOptions = {}): tf.Scalar {
  const n = opts.projections ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`must be a positive integer, got ${JSON.stringify(opts.projections)}`, { option: 'projections' });
  const seed = opts.seed ?? 0;
  return tf.tidy(() => withTwiceDifferentiableGradients(() => {
    let total: tf.Tensor | undefined;
    let C = 0;
    for (let k = 0; k < n; k++) {
      const g = tf.grad((xx: tf.Tensor) => {
        const y = forwardForDoubleBackprop('randomProjectionJacobianPenalty', () => f(xx));
        if (y.rank !== 2 || y.shape[0] !== x.shape[0]) throw new ShapeError(`f must return [B, C] with B = ${x.shape[0]}, got [${y.shape}]`, { tensor: 'f(x)' });
        C = y.shape[1] as number;
        const r = tf.randomNormal(y.shape, 0, 1, 'float32', seed * 7919 + k);
        const v = tf.div(r, tf.norm(r, 'euclidean', 1, true)); // uniform on the unit sphere, per sample
        return tf.sum(tf.mul(v, y)) as tf.Scalar;
      })(x);
      const sq = perSampleSquaredNorm(g);
      total = total === undefined ? sq : tf.add(total, sq);
    }
    return tf.mul(tf.mean(total!), C / n) as tf.Scalar;
  }));
}

let detachFn: ((x: tf.Tensor) => tf.Tensor) | undefined;

function detach(x: tf.Tensor): tf.Tensor {
  if (detachFn === undefined) {
    detachFn = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc) => {
      const shape = (t as tf.Tensor).shape;
      return { value: tf.clone(t as tf.Tensor), gradFunc: () => tf.zeros(shape) };
    }) as unknown as (x: tf.Tensor) => tf.Tensor;
  }
  return detachFn(x);
}

/** Result of {@link spectralNorm}. */
export interface SpectralNormResult {
  /** σ ≈ largest singular value of W, as uᵀ·W·v with u, v held constant (gradient u·vᵀ). */
  sigma: tf.Scalar;
  /** Left singular vector estimate `[rows]`; pass it back as `u` at the next step (persistent state). */
  u: tf.Tensor1D;
  /** Right singular vector estimate `[cols]`. */
  v: tf.Tensor1D;
}

/**
 * Largest singular value of a matrix by power iteration, as in spectral
 * normalisation (Miyato et al. 2018): v ← Wᵀu/‖Wᵀu‖, u ← Wv/‖Wv‖, repeated
 * `iterations` times, then σ = uᵀWv with u, v treated as constants, so
 * ∂σ/∂W = u·vᵀ (the exact gradient of the top singular value when it is simple).
 * Training practice: one iteration per step, carrying `u` over.
 *
 * @param W matrix `[rows, cols]` (a dense kernel `[d_in, d_out]`).
 * @param opts iterations (default 1), u (previous estimate `[rows]`; default a
 *   seeded random unit vector), seed (default 0).
 * @returns `{ sigma, u, v }`.
 * @throws ShapeError for non-matrices or a `u` of the wrong length; ConfigError
 *   (option `iterations`) unless a positive integer.
 */
export function spectralNorm(W: tf.Tensor2D, opts: { iterations?: number; u?: tf.Tensor1D; seed?: number } = {}): SpectralNormResult {
  if (W.rank !== 2) throw new ShapeError(`spectralNorm expects a matrix, got shape [${W.shape}]`, { tensor: 'W' });
  const iterations = opts.iterations ?? 1;
  if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`must be a positive integer, got ${JSON.stringify(opts.iterations)}`, { option: 'iterations' });
  if (opts.u && (opts.u.rank !== 1 || opts.u.shape[0] !== W.shape[0])) throw new ShapeError(`u must have shape [${W.shape[0]}], got [${opts.u.shape}]`, { tensor: 'u' });
  return tf.tidy(() => {
    const Wd = detach(W) as tf.Tensor2D;
    const Wt = tf.transpose(Wd);
    const normalize = (t: tf.Tensor) => tf.div(t, tf.maximum(tf.norm(t), 1e-12));
    let u: tf.Tensor = opts.u ? detach(opts.u) : normalize(tf.randomNormal([W.shape[0]], 0, 1, 'float32', opts.seed ?? 0));
    let v: tf.Tensor = normalize(tf.squeeze(tf.matMul(Wt, tf.expandDims(u, 1)), [1]));
    for (let i = 0; i < iterations; i++) {
      if (i > 0) v = normalize(tf.squeeze(tf.matMul(Wt, tf.expandDims(u, 1)), [1]));
      u = normalize(tf.squeeze(tf.matMul(Wd, tf.expandDims(v, 1)), [1]));
    }
    const sigma = tf.sum(tf.mul(u, tf.squeeze(tf.matMul(W, tf.expandDims(v, 1)), [1]))) as tf.Scalar;
    return { sigma, u: u as tf.Tensor1D, v: v as tf.Tensor1D };
  });
}

/**
 * Spectrally normalised kernel W/σ(W) (Miyato et al. 2018).
 * @param W kernel `[d_in, d_out]`.
 * @param opts as {@link spectralNorm}.
 * @returns `{ kernel: W/σ, sigma, u }` — keep `u` for the next step.
 */
export function spectralNormalize(W: tf.Tensor2D, opts: { iterations?: number; u?: tf.Tensor1D; seed?: number } = {}): { kernel: tf.Tensor2D; sigma: tf.Scalar; u: tf.Tensor1D } {
  const r = spectralNorm(W, opts);
  const kernel = tf.div(W, r.sigma) as tf.Tensor2D;
  r.v.dispose();
  return { kernel, sigma: r.sigma, u: r.u };
}

/**
 * Weight decay as a loss term, `coefficient·Σ_W Σ w²` (the convention of tfjs's
 * `regularizers.l2`; its gradient is 2·coefficient·W).
 * @param weights one tensor or a list (e.g. the kernels, not the biases).
 * @param coefficient ≥ 0.
 * @returns a scalar.
 * @throws ConfigError (option `coefficient`) for a negative or non-finite value.
 */
export function weightDecay(weights: tf.Tensor | tf.Tensor[], coefficient: number): tf.Scalar {
  if (!Number.isFinite(coefficient) || coefficient < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(coefficient)}`, { option: 'coefficient' });
  const list = Array.isArray(weights) ? weights : [weights];
  return tf.tidy(() => {
    if (list.length === 0) return tf.scalar(0);
    return tf.mul(tf.addN(list.map((w) => tf.sum(tf.square(w)))), coefficient) as tf.Scalar;
  });
}
