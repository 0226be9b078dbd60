import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NumericError, ShapeError } from '@chainz/core';
import { LAYERNORM_EPSILON, resolvePolyConfig, type PolyConfig } from './config';
import { denseJacobianFrobenius, fusedPolyActivation, fusedPolyActivationJacobian, useFused, type PolyImplementation } from './kernels/ops';
import type { KernelGuard } from './kernels/names';

/**
 * The polynomial activation as one composite op (docs/poly-layer.md):
 *
 *     u = g(z),   σ(z) = Σ_k a[c,k]·P_k(u),
 *     σ'(z)  = p'(u)·g'(z),
 *     σ''(z) = p''(u)·g'(z)² + p'(u)·g''(z),
 *
 * where p(u) = Σ_k a_k P_k(u) and p', p'' come from the same recurrences as p
 * (Horner for monomials, three-term recurrences for Chebyshev and Legendre), so
 * u and the basis values are computed once for σ, σ' and σ''. Every output is
 * built from ordinary differentiable tfjs ops, so gradients of a loss that uses
 * σ *and* σ' (the DREG penalty) are exact with first-order autodiff.
 *
 * On backends with the fused kernel (cpu, wasm, webgpu; registered on import of
 * the package, see kernels/register.ts) the same values come from one kernel
 * pass instead (`implementation`, {@link setPolyImplementation}); the composite
 * op stays the fallback everywhere else and for second-order autodiff.
 */

/** Auxiliary values of the `layernorm` guard (needed for the normalisation's Jacobian). */
export interface LayerNormAux {
  /** Normalised input u = (z − mean)/sqrt(var + ε) over the last axis, same shape as z. */
  u: tf.Tensor;
  /** 1/sqrt(var + ε) in units of 1/z, shape of z with the last axis 1 (`[B, 1]` for dense). */
  invStd: tf.Tensor;
}

/** Result of {@link polyActivation}. All tensors have the shape of z except `layernorm.invStd`. */
export interface PolyActivationResult {
  /** σ(z). */
  y: tf.Tensor;
  /** σ'(z) = ∂y/∂z elementwise; for the `layernorm` guard, ∂y/∂u (the derivative w.r.t. the normalised u, times 1). */
  dy: tf.Tensor;
  /** σ''(z) (w.r.t. u for `layernorm`), only when `secondDerivative` was requested. */
  d2y?: tf.Tensor;
  /** Only for the `layernorm` guard: u and 1/std. */
  layernorm?: LayerNormAux;
}

/** Options of {@link polyActivation}. */
export interface PolyActivationOptions {
  /** Also return σ''(z) (the DREG curvature option). Default false. */
  secondDerivative?: boolean;
  /** Layer name, used in error messages and by the `'first'` numeric-check mode. Default `'polyActivation'`. */
  name?: string;
  /**
   * Force (`true`) or skip (`false`) the finiteness check of the `none` guard for
   * this call, overriding the global mode set by {@link setNumericCheck}.
   */
  check?: boolean;
  /**
   * Fused kernel or composite op for this call (default: the process-wide mode,
   * initially `'auto'`; see {@link PolyImplementation}). Both give the same values
   * and gradients to float32 rounding.
   */
  implementation?: PolyImplementation;
}

/**
 * When the `none` guard's output is checked for NaN/±Inf (a check reads data back
 * from the backend, so it is not free):
 * - `'off'`: never;
 * - `'first'` (default): on the first call for each layer name in this process;
 * - `'always'`: on every call (debugging).
 * Only the `none` guard is checked; the other guards are finite by construction.
 */
export type NumericCheckMode = 'off' | 'first' | 'always';

interface CheckState {
  mode: NumericCheckMode;
  checked: Set<string>;
}

function checkState(): CheckState {
  const key = Symbol.for('chainz.polyLayer.numericCheck');
  const g = globalThis as unknown as Record<symbol, CheckState | undefined>;
  let s = g[key];
  if (s === undefined) {
    s = { mode: 'first', checked: new Set() };
    g[key] = s;
  }
  return s;
}

/**
 * Sets when the `none` guard's output is checked for non-finite values (see
 * {@link NumericCheckMode}); also forgets which layers were already checked.
 * @throws ConfigError (option `numericCheck`) for an unknown mode.
 */
export function setNumericCheck(mode: NumericCheckMode): void {
  if (mode !== 'off' && mode !== 'first' && mode !== 'always') {
    throw new ConfigError(`must be 'off', 'first' or 'always', got ${JSON.stringify(mode)}`, { option: 'numericCheck' });
  }
  const s = checkState();
  s.mode = mode;
  s.checked.clear();
}

/** The current numeric-check mode. */
export function getNumericCheck(): NumericCheckMode {
  return checkState().mode;
}

function shouldCheck(name: string, override: boolean | undefined): boolean {
  if (override !== undefined) return override;
  const s = checkState();
  if (s.mode === 'always') return true;
  if (s.mode === 'off') return false;
  if (s.checked.has(name)) return false;
  s.checked.add(name);
  return true;
}

// --- small helpers: values that may be compile-time constants (0, 1, …) -----------------

type V = number | tf.Tensor;

function vadd(a: V, b: V): V {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return tf.add(a, b);
}

function vsub(a: V, b: V): V {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (b === 0) return a;
  return tf.sub(a, b);
}

function vmul(a: V, b: V): V {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 0 || b === 0) return 0;
  if (a === 1) return b;
  if (b === 1) return a;
  return tf.mul(a, b);
}

function toFull(v: V, shape: number[]): tf.Tensor {
  if (typeof v === 'number') return tf.fill(shape, v);
  if (v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i])) return v;
  return tf.broadcastTo(v, shape);
}

let rowScaleFn: ((z: tf.Tensor) => tf.Tensor) | undefined;

/**
 * m = max(max|z| over the last axis, LN_MIN_SCALE), shape `[..., 1]`, as a constant
 * for differentiation (zero gradient). Computed inside a customGrad forward, which
 * tfjs does not record on the tape, so backprop never visits the Max reduction
 * (whose gradient, an Equal mask, is slow on wasm).
 */
function rowScale(z: tf.Tensor): tf.Tensor {
  if (rowScaleFn === undefined) {
    rowScaleFn = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc) => {
      const x = t as tf.Tensor;
      const shape = x.shape;
      return {
        value: tf.maximum(tf.max(tf.abs(x), -1, true), LN_MIN_SCALE),
        gradFunc: () => tf.zeros(shape),
      };
    }) as unknown as (z: tf.Tensor) => tf.Tensor;
  }
  return rowScaleFn(z);
}

/** sech²(x) = 4e/(1+e)² with e = exp(−2|x|) (no cancellation, 0 for |x| → ∞). */
function sech2(x: tf.Tensor): tf.Tensor {
  const e = tf.exp(tf.mul(tf.abs(x), -2));
  return tf.div(tf.mul(e, 4), tf.square(tf.add(e, 1)));
}

let tanhFn: ((x: tf.Tensor) => tf.Tensor) | undefined;

/**
 * tanh whose gradient is recomputed from the input, dy·sech²(x), instead of tfjs's
 * dy·(1 − y²) on the saved output: the latter makes double backpropagation through
 * the tanh guard silently wrong (the saved output has no path back to x), this
 * one is exact to second order, and sech² does not cancel in saturation.
 */
function tanhRecomputed(x: tf.Tensor): tf.Tensor {
  if (tanhFn === undefined) {
    tanhFn = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [t, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([t]);
      return { value: tf.tanh(t), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, sech2(saved[0])) };
    }) as unknown as (x: tf.Tensor) => tf.Tensor;
  }
  return tanhFn(x);
}

/** Below this max|z| the layernorm rescaling uses this value (keeps ε/m² finite in float32). */
const LN_MIN_SCALE = 1e-10;
/** Floor of the rescaled variance + ε/m² (only binds when all features are equal at |z| > ~1e12). */
const LN_TINY = 1e-30;

/**
 * Layer normalisation over the last axis without affine parameters, overflow-safe:
 * z is divided by m = max(max|z|, 1e-10) per sample first (m is a constant for
 * differentiation: u and 1/std do not depend on it mathematically), then
 * u = (z/m − mean)/sqrt(var(z/m) + ε/m²) = (z − mean(z))/sqrt(var(z) + ε) and
 * invStd = (1/m)/sqrt(var(z/m) + ε/m²) = 1/sqrt(var(z) + ε). Finite for |z| up to
 * the float32 range.
 */
function layerNorm(z: tf.Tensor): LayerNormAux {
  const m = rowScale(z);
  const r = tf.reciprocal(m);
  const zr = tf.mul(z, r);
  const c = tf.sub(zr, tf.mean(zr, -1, true));
  const v = tf.mean(tf.square(c), -1, true);
  // max(·, LN_TINY) written as LN_TINY + relu(· − LN_TINY): twice differentiable
  const sd = tf.sqrt(tf.add(tf.relu(tf.sub(tf.add(v, tf.mul(tf.square(r), LAYERNORM_EPSILON)), LN_TINY)), LN_TINY));
  return { u: tf.div(c, sd), invStd: tf.div(r, sd) };
}

/** p(u), p'(u), p''(u) for coefficient columns a[0..K] (each broadcastable to u). */
function evalPolynomial(basis: PolyConfig['basis'], a: tf.Tensor[], u: tf.Tensor, second: boolean): { p: V; dp: V; d2p: V } {
  const K = a.length - 1;
  if (basis === 'monomial') {
    // Horner for p, p' and p''/2 together: d2 ← d2·u + dp; dp ← dp·u + p; p ← p·u + a_k.
    let p: V = a[K];
    let dp: V = 0;
    let d2: V = 0;
    for (let k = K - 1; k >= 0; k--) {
      if (second) d2 = vadd(vmul(d2, u), dp);
      dp = vadd(vmul(dp, u), p);
      p = vadd(vmul(p, u), a[k]);
    }
    return { p, dp, d2p: second ? vmul(d2, 2) : 0 };
  }
  // Orthogonal bases: recurrences for P_k, P_k', P_k'' and the weighted sums.
  let P0: V = 1;
  let P1: V = u;
  let dP0: V = 0;
  let dP1: V = 1;
  let d2P0: V = 0;
  let d2P1: V = 0;
  let p: V = vadd(a[0], vmul(a[1], u));
  let dp: V = a[1];
  let d2p: V = 0;
  const twoU = basis === 'chebyshev' ? tf.mul(u, 2) : undefined;
  for (let k = 1; k < K; k++) {
    let P2: V;
    let dP2: V;
    let d2P2: V = 0;
    if (basis === 'chebyshev') {
      // T_{k+1} = 2u·T_k − T_{k−1};  T'_{k+1} = 2T_k + 2u·T'_k − T'_{k−1};  T''_{k+1} = 4T'_k + 2u·T''_k − T''_{k−1}
      P2 = vsub(vmul(twoU as tf.Tensor, P1), P0);
      dP2 = vsub(vadd(vmul(P1, 2), vmul(twoU as tf.Tensor, dP1)), dP0);
      if (second) d2P2 = vsub(vadd(vmul(dP1, 4), vmul(twoU as tf.Tensor, d2P1)), d2P0);
    } else {
      // (k+1)P_{k+1} = (2k+1)u·P_k − k·P_{k−1};  P'_{k+1} = P'_{k−1} + (2k+1)P_k;  P''_{k+1} = P''_{k−1} + (2k+1)P'_k
      P2 = vsub(vmul(vmul(u, P1), (2 * k + 1) / (k + 1)), vmul(P0, k / (k + 1)));
      dP2 = vadd(dP0, vmul(P1, 2 * k + 1));
      if (second) d2P2 = vadd(d2P0, vmul(dP1, 2 * k + 1));
    }
    const ak = a[k + 1];
    p = vadd(p, vmul(ak, P2));
    dp = vadd(dp, vmul(ak, dP2));
    if (second) d2p = vadd(d2p, vmul(ak, d2P2));
    P0 = P1;
    P1 = P2;
    dP0 = dP1;
    dP1 = dP2;
    d2P0 = d2P1;
    d2P1 = d2P2;
  }
  return { p, dp, d2p };
}

/**
 * The fused-kernel path of {@link polyActivation}: one kernel pass gives σ, σ' (and
 * σ''); for `layernorm` the normalisation runs as composite ops first and the
 * kernel evaluates the polynomial of u with the identity guard (so dy, d2y are
 * w.r.t. u, as in the composite op). z of rank > 2 is viewed as `[n, C]`.
 */
function fusedActivation(z: tf.Tensor, coeffs: tf.Tensor2D, cfg: PolyConfig, second: boolean): PolyActivationResult {
  if (z.rank === 2 && cfg.guard !== 'layernorm') {
    // the common case creates no intermediate tensor: no tidy scope needed
    const o = fusedPolyActivation(z as tf.Tensor2D, coeffs, { basis: cfg.basis, guard: cfg.guard, scale: cfg.scale, second });
    return second ? { y: o.y, dy: o.dy!, d2y: o.d2y } : { y: o.y, dy: o.dy! };
  }
  return tf.tidy(() => {
    let src = z;
    let ln: LayerNormAux | undefined;
    if (cfg.guard === 'layernorm') {
      ln = layerNorm(z);
      src = ln.u;
    }
    const C = src.shape[src.rank - 1];
    const flat = (src.rank === 2 ? src : tf.reshape(src, [-1, C])) as tf.Tensor2D;
    const o = fusedPolyActivation(flat, coeffs, {
      basis: cfg.basis,
      guard: cfg.guard === 'layernorm' ? 'none' : cfg.guard,
      scale: cfg.scale,
      second,
    });
    const back = (t: tf.Tensor2D): tf.Tensor => (src.rank === 2 ? t : tf.reshape(t, src.shape));
    const result: PolyActivationResult = { y: back(o.y), dy: back(o.dy!) };
    if (second) result.d2y = back(o.d2y!);
    if (ln) result.layernorm = ln;
    return result as unknown as tf.TensorContainer;
  }) as unknown as PolyActivationResult;
}

/**
 * Polynomial activation σ and its derivatives from one evaluation (docs/poly-layer.md).
 *
 * @param z pre-activations, `[B, C]` or `[B, H, W, C]` (channels last; any rank ≥ 2
 *   works, the last axis is the channel axis).
 * @param coeffs coefficients `[C, K+1]` (sharing `channel`) or `[1, K+1]` (`layer`),
 *   in the configured basis.
 * @param config polynomial configuration (validated with {@link resolvePolyConfig}).
 * @param opts `secondDerivative` (also return σ''), `name` (for errors), `check`
 *   (override the numeric-check mode for this call), `implementation` (fused
 *   kernel or composite op; default the process-wide mode, `'auto'`).
 * @returns `{ y, dy, d2y?, layernorm? }`: y = σ(z), dy = σ'(z), d2y = σ''(z), all
 *   shaped like z. With the `layernorm` guard, dy and d2y are derivatives w.r.t. the
 *   normalised u (the normalisation's Jacobian is *not* included; `@chainz/dreg`
 *   applies it), and `layernorm` holds u and 1/std.
 *   Guards `tanh`, `clip` and `layernorm` keep every output finite for |z| up to
 *   1e30 (and beyond, within float32).
 * @throws ShapeError (tensor `z` or `coeffs`, with the layer name) for bad shapes.
 * @throws ConfigError for an invalid config or `implementation`.
 * @throws BackendError for `implementation: 'fused'` on a backend without the kernel.
 * @throws NumericError naming the layer when the `none` guard produced NaN/±Inf
 *   and the check ran (see {@link NumericCheckMode}: by default on the first call per
 *   layer name; the check reads one boolean back from the backend).
 */
export function polyActivation(
  z: tf.Tensor,
  coeffs: tf.Tensor2D,
  config: PolyConfig,
  opts: PolyActivationOptions = {},
): PolyActivationResult {
  const cfg = resolvePolyConfig(config);
  const name = opts.name ?? 'polyActivation';
  const second = opts.secondDerivative === true;
  if (z.rank < 2) throw new ShapeError(`layer '${name}': z must have rank ≥ 2 ([B, C] or [B, H, W, C]), got shape [${z.shape}]`, { tensor: 'z' });
  const C = z.shape[z.rank - 1];
  const rows = cfg.sharing === 'channel' ? C : 1;
  if (coeffs.rank !== 2 || coeffs.shape[0] !== rows || coeffs.shape[1] !== cfg.degree + 1) {
    throw new ShapeError(
      `layer '${name}': coeffs must have shape [${rows}, ${cfg.degree + 1}] (sharing '${cfg.sharing}', degree ${cfg.degree}, ${C} channels), got [${coeffs.shape}]`,
      { tensor: 'coeffs' },
    );
  }
  const s = cfg.scale;
  const out = useFused(opts.implementation, [z, coeffs]) ? fusedActivation(z, coeffs, cfg, second) : tf.tidy(() => {
    const a = tf.unstack(coeffs, 1); // K+1 tensors of shape [C] (or [1])
    let u: tf.Tensor;
    let gp: V = 1; // g'(z)
    let gpp: V = 0; // g''(z)
    let ln: LayerNormAux | undefined;
    switch (cfg.guard) {
      case 'tanh': {
        const x = tf.mul(z, 1 / s);
        u = tanhRecomputed(x);
        // g'(z) = sech²(z/s)/s: exact in float32 even where 1 − u² would cancel
        // (|z/s| ≳ 4), and 0 (not NaN) for |z| → ∞.
        gp = tf.mul(sech2(x), 1 / s);
        if (second) gpp = tf.mul(tf.mul(u, gp), -2 / s); // g'' = −2·tanh·sech²/s²
        break;
      }
      case 'clip': {
        const x = tf.mul(z, 1 / s);
        // clamp(x, −1, 1) = −max(−max(x, −1), −1): exact for every x (±1 outside, also
        // where x ± 1 rounds to x, |x| ≥ 2^24), and, unlike tf.clipByValue (whose gradient
        // uses LogicalAnd) or tf.minimum (LessEqual), differentiable twice: Maximum's
        // gradient mask is Cast(GreaterEqual), both with registered gradients.
        u = tf.neg(tf.maximum(tf.neg(tf.maximum(x, -1)), -1));
        // g' = 1/s on |z/s| ≤ 1 (inclusive, as tfjs's ClipByValue gradient), 0 outside; g'' = 0.
        // The mask is 1 − step(|x| − 1) (step(0) = 0): unlike a comparison op, Step has a
        // (zero) gradient registered, so σ' stays differentiable.
        gp = tf.mul(tf.sub(1, tf.step(tf.sub(tf.abs(x), 1))), 1 / s);
        break;
      }
      case 'none':
        u = z;
        break;
      case 'layernorm':
        ln = layerNorm(z);
        u = ln.u;
        break;
    }
    const { p, dp, d2p } = evalPolynomial(cfg.basis, a, u, second);
    const shape = z.shape;
    const y = toFull(p, shape);
    const dy = toFull(vmul(dp, gp), shape);
    const result: PolyActivationResult = { y, dy };
    if (second) result.d2y = toFull(vadd(vmul(d2p, vmul(gp, gp)), vmul(dp, gpp)), shape);
    if (ln) result.layernorm = ln;
    return result as unknown as tf.TensorContainer;
  }) as unknown as PolyActivationResult;

  if (cfg.guard === 'none' && shouldCheck(name, opts.check)) checkFinite(out, z, name);
  return out;
}

/** What the dense-layer forms of the activation return: σ' may be left out (see `derivative`). */
export type DenseActivationResult = Omit<PolyActivationResult, 'dy'> & { dy?: tf.Tensor2D; jacobianFrobenius?: tf.Tensor1D };

/**
 * {@link polyActivation} of a dense layer's z `[B, n]` for `polyDense`: with
 * `kernel` (W `[d_in, n]`) it also returns the layer's per-sample squared
 * Jacobian norm r_b = Σ_j σ'(z_bj)²·‖W[:, j]‖² (DREG `frobenius` for elementwise
 * guards), from the same kernel pass where the fused kernel runs and with
 * ordinary ops (or the separate norm kernel) otherwise; not for the `layernorm`
 * guard (its Jacobian includes the normalisation; `@chainz/dreg` computes that
 * one). With `derivative: false`, σ' is left out where the fused cpu/wasm
 * kernel runs (it is then no output of the recorded kernel, so a training step
 * that does not use it pays nothing for it); elsewhere it is returned anyway.
 * @internal used by `polyDense`.
 */
export function polyActivationDense(
  z: tf.Tensor2D,
  coeffs: tf.Tensor2D,
  kernel: tf.Tensor2D | null,
  config: PolyConfig,
  opts: PolyActivationOptions & { derivative?: boolean } = {},
): DenseActivationResult {
  const cfg = resolvePolyConfig(config);
  const jac = kernel !== null;
  const tensors = jac ? [z, coeffs, kernel] : [z, coeffs];
  const fusedPath = cfg.guard !== 'layernorm' && z.rank === 2 && (!jac || (kernel.rank === 2 && kernel.shape[1] === z.shape[1])) && useFused(opts.implementation, tensors);
  if (!fusedPath) {
    const out = polyActivation(z, coeffs, cfg, opts);
    if (!jac || cfg.guard === 'layernorm') return out as DenseActivationResult;
    try {
      return { ...out, dy: out.dy as tf.Tensor2D, jacobianFrobenius: denseJacobianFrobenius(out.dy as tf.Tensor2D, kernel, opts.implementation) };
    } catch (e) {
      tf.dispose([out.y, out.dy, out.d2y ?? out.y]);
      throw e;
    }
  }
  // validation (shapes, config) as in polyActivation, without running it twice
  const name = opts.name ?? 'polyActivation';
  const rows = cfg.sharing === 'channel' ? z.shape[1] : 1;
  if (coeffs.rank !== 2 || coeffs.shape[0] !== rows || coeffs.shape[1] !== cfg.degree + 1) {
    throw new ShapeError(
      `layer '${name}': coeffs must have shape [${rows}, ${cfg.degree + 1}] (sharing '${cfg.sharing}', degree ${cfg.degree}, ${z.shape[1]} channels), got [${coeffs.shape}]`,
      { tensor: 'coeffs' },
    );
  }
  const second = opts.secondDerivative === true;
  const attrs = { basis: cfg.basis, guard: cfg.guard as KernelGuard, scale: cfg.scale, second, derivative: opts.derivative !== false };
  const o: { y: tf.Tensor2D; dy?: tf.Tensor2D; d2y?: tf.Tensor2D; jacobianFrobenius?: tf.Tensor1D } = jac
    ? fusedPolyActivationJacobian(z, coeffs, kernel, attrs)
    : fusedPolyActivation(z, coeffs, attrs);
  const out: DenseActivationResult = { y: o.y };
  if (o.dy) out.dy = o.dy;
  if (o.jacobianFrobenius) out.jacobianFrobenius = o.jacobianFrobenius;
  if (second) out.d2y = o.d2y;
  if (cfg.guard === 'none' && shouldCheck(name, opts.check)) checkFinite(out, z, name);
  return out;
}

/**
 * {@link polyActivationDense} with the Jacobian-norm output and σ' always returned.
 * @internal
 */
export function polyActivationWithJacobian(
  z: tf.Tensor2D,
  coeffs: tf.Tensor2D,
  kernel: tf.Tensor2D,
  config: PolyConfig,
  opts: PolyActivationOptions = {},
): PolyActivationResult & { jacobianFrobenius: tf.Tensor1D } {
  return polyActivationDense(z, coeffs, kernel, config, opts) as PolyActivationResult & { jacobianFrobenius: tf.Tensor1D };
}

/**
 * The `none` guard's finiteness check of a dense layer's outputs when the
 * numeric-check mode asks for it (see {@link NumericCheckMode}).
 * @internal used by `polyDense`'s fused layer.
 */
export function checkNoneGuard(out: { y: tf.Tensor; jacobianFrobenius?: tf.Tensor }, z: tf.Tensor, name: string, check: boolean | undefined): void {
  if (shouldCheck(name, check)) checkFinite(out, z, name);
}

/** The `none` guard's finiteness check (reads one boolean back); disposes the outputs and throws on NaN/±Inf. */
function checkFinite(out: Omit<PolyActivationResult, 'dy'> & { dy?: tf.Tensor; jacobianFrobenius?: tf.Tensor }, z: tf.Tensor, name: string): void {
  const bad = tf.tidy(() => {
    const parts = [out.y, ...(out.dy ? [out.dy] : []), ...(out.d2y ? [out.d2y] : []), ...(out.jacobianFrobenius ? [out.jacobianFrobenius] : [])].map((t) => tf.any(tf.logicalNot(tf.isFinite(t))));
    return parts.reduce((acc, t) => tf.logicalOr(acc, t));
  });
  const isBad = bad.dataSync()[0] !== 0;
  bad.dispose();
  if (isBad) {
    const maxAbsZ = tf.tidy(() => tf.max(tf.abs(z))).dataSync()[0];
    tf.dispose([out.y, ...(out.dy ? [out.dy] : []), ...(out.d2y ? [out.d2y] : []), ...(out.jacobianFrobenius ? [out.jacobianFrobenius] : [])]);
    throw new NumericError(
      `layer '${name}': polynomial activation with guard 'none' produced a non-finite value (NaN or ±Infinity); max |z| = ${maxAbsZ}`,
      { tensor: name },
      "use guard 'tanh' (default), 'clip' or 'layernorm' to bound the polynomial's input, or lower the learning rate",
    );
  }
}
