import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@chainz/core';
import type { LayerTrace } from '@chainz/poly-layer';
import { DEFAULT_DREG_OPTIONS, resolveDregOptions, type DregOptions } from './options';
import { dregPenalty } from './penalty';
import { inputGradientPenalty, randomProjectionJacobianPenalty, spectralNorm, weightDecay } from './baselines';

/** The regularisers behind {@link createRegularizer}. */
export type RegularizerKind = 'none' | 'weight-decay' | 'input-gradient' | 'spectral-norm' | 'jacobian-projection' | 'dreg';

/** Every {@link RegularizerKind}. */
export const REGULARIZER_KINDS: readonly RegularizerKind[] = Object.freeze(['none', 'weight-decay', 'input-gradient', 'spectral-norm', 'jacobian-projection', 'dreg']);

/** Library defaults (not tuned for any data set). */
export const DEFAULT_WEIGHT_DECAY = 1e-4;
/** Default λ of the input-gradient penalty and of the Jacobian random projections. */
export const DEFAULT_JACOBIAN_LAMBDA = 1e-2;

/**
 * What {@link createRegularizer} builds. One of:
 * - `{ kind: 'none' }`;
 * - `{ kind: 'weight-decay', coefficient?, decoupled? }`: c (default 1e-4);
 *   `decoupled: false` (default) adds c·Σ_W ‖W‖² to the loss (L2, gradient 2cW,
 *   tfjs's `regularizers.l2` convention); `decoupled: true` is AdamW-style:
 *   after each optimiser step W ← (1 − η·c)·W (η the learning rate);
 * - `{ kind: 'input-gradient', lambda? }`: λ·mean_i ‖∂ℓ_i/∂x_i‖² (double
 *   backpropagation; λ default 1e-2);
 * - `{ kind: 'spectral-norm', iterations?, seed? }`: every kernel used as
 *   W/σ_max(W) (Miyato et al. 2018), σ by power iteration with persistent,
 *   seeded u vectors (default 1 iteration per step, seed 0);
 * - `{ kind: 'jacobian-projection', lambda?, projections?, seed? }`: λ·mean_i of
 *   the random-projection estimate of ‖J_i‖_F² (Hoffman et al. 2019; λ default
 *   1e-2, 1 projection, seed 0; step t uses seed + t);
 * - `{ kind: 'dreg', dreg? }`: the DREG penalty with `DregOptions` (default
 *   frobenius, λ = 10^−2.5).
 * A bare kind string (`'dreg'`) means the kind with its defaults.
 */
export type RegularizerSpec =
  | { kind: 'none' }
  | { kind: 'weight-decay'; coefficient?: number; decoupled?: boolean }
  | { kind: 'input-gradient'; lambda?: number }
  | { kind: 'spectral-norm'; iterations?: number; seed?: number }
  | { kind: 'jacobian-projection'; lambda?: number; projections?: number; seed?: number }
  | { kind: 'dreg'; dreg?: Partial<DregOptions> };

/** What a training step hands to {@link Regularizer.penalty} (only what the kind needs; see {@link Regularizer.needs}). */
export interface RegularizerContext {
  /** Training step t, 0-based (λ schedules, seeds). */
  step: number;
  /** The batch inputs `[B, …]` (input-gradient, jacobian-projection). */
  x?: tf.Tensor;
  /** Layer traces of this forward pass, network order (dreg): from `activationDense`, `polyDense`, `polyConv2d`. */
  traces?: LayerTrace[];
  /** The weights to decay (weight-decay, coupled): usually the kernels, not biases. */
  kernels?: tf.Tensor[];
  /** x ↦ per-sample losses `[B]` (input-gradient); samples must not interact. */
  perSampleLoss?: (x: tf.Tensor) => tf.Tensor;
  /** x ↦ network outputs `[B, C]`, e.g. logits (jacobian-projection). */
  outputs?: (x: tf.Tensor) => tf.Tensor;
}

/** What the training loop hands to {@link Regularizer.afterStep}. */
export interface StepContext {
  /** The step just taken (0-based). */
  step: number;
  /** The kernels (variables) the regulariser acts on. */
  kernels: tf.Variable[];
  /** The optimiser's learning rate η at this step. */
  learningRate: number;
}

/** Which inputs and hooks a regulariser uses (the training loop may skip the rest). */
export interface RegularizerNeeds {
  /** `ctx.traces` (dreg). */
  traces: boolean;
  /** `ctx.kernels` (coupled weight decay). */
  kernels: boolean;
  /** `ctx.x` and `ctx.perSampleLoss` (input-gradient). */
  perSampleLoss: boolean;
  /** `ctx.x` and `ctx.outputs` (jacobian-projection). */
  outputs: boolean;
  /** Route every kernel through {@link Regularizer.kernel} in the forward pass (spectral-norm). */
  kernelHook: boolean;
  /** Call {@link Regularizer.afterStep} after each optimiser step (decoupled weight decay). */
  afterStep: boolean;
  /** The penalty is trained by second-order autodiff (input-gradient, jacobian-projection). */
  secondOrder: boolean;
}

/** Options of {@link Regularizer.kernel}. */
export interface KernelOptions {
  /** Layer index (keys the persistent power-iteration state). */
  layer: number;
  /** Training step t (a training call advances the power iteration once per step). */
  step: number;
  /** Training (advance the state) or evaluation (use it as it is). */
  training: boolean;
}

/**
 * One interface for every regulariser of the DREG study. In a training step:
 *
 * ```ts
 * const reg = createRegularizer({ kind: 'dreg' });
 * optimizer.minimize(() => {
 *   const W1 = reg.kernel(w1, { layer: 0, step, training: true });   // identity unless spectral-norm
 *   const l1 = activationDense(x, { kernel: W1, bias: b1 }, 'gelu');
 *   const logits = dense(l1.y, reg.kernel(w2, { layer: 1, step, training: true }), b2);
 *   const task = tf.losses.softmaxCrossEntropy(y, logits);
 *   return tf.add(task, reg.penalty({ step, x, traces: [l1.trace], kernels: [w1, w2], perSampleLoss, outputs }));
 * });
 * reg.afterStep({ step, kernels: [w1, w2], learningRate });
 * ```
 */
export interface Regularizer {
  readonly kind: RegularizerKind;
  /** The spec with every default filled in (for results files). */
  readonly spec: Readonly<Record<string, unknown>> & { kind: RegularizerKind };
  readonly needs: Readonly<RegularizerNeeds>;
  /**
   * The kernel to use in the forward pass: W itself, or W/σ_max(W) for
   * spectral-norm (differentiable: ∂σ/∂W = u·vᵀ with u, v held constant).
   * @param W `[d_in, d_out]`.
   */
  kernel(W: tf.Tensor2D, opts: KernelOptions): tf.Tensor2D;
  /** The penalty to add to the loss (a scalar; 0 for none, spectral-norm and decoupled weight decay). */
  penalty(ctx: RegularizerContext): tf.Scalar;
  /** Post-step update (decoupled weight decay); a no-op otherwise. */
  afterStep(ctx: StepContext): void;
  /** Releases persistent state (spectral-norm's u vectors). */
  dispose(): void;
}

const NO_NEEDS: RegularizerNeeds = { traces: false, kernels: false, perSampleLoss: false, outputs: false, kernelHook: false, afterStep: false, secondOrder: false };

function nonNegative(v: unknown, option: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(v)}`, { option });
  return v;
}

function positiveInteger(v: unknown, option: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`must be a positive integer, got ${JSON.stringify(v)}`, { option });
  return v;
}

function integer(v: unknown, option: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`must be an integer, got ${JSON.stringify(v)}`, { option });
  return v;
}

function checkKeys(spec: object, allowed: string[]): void {
  for (const k of Object.keys(spec)) {
    if (!allowed.includes(k)) throw new ConfigError(`unknown option for regulariser '${(spec as { kind: string }).kind}' (valid: ${allowed.join(', ')})`, { option: k });
  }
}

function need<T>(v: T | undefined, what: string, kind: RegularizerKind): T {
  if (v === undefined || v === null) throw new ConfigError(`the '${kind}' regulariser needs ctx.${what}`, { option: what });
  return v;
}

function identityKernel(W: tf.Tensor2D): tf.Tensor2D {
  return W;
}

/**
 * Builds a regulariser from its spec (see {@link RegularizerSpec}).
 *
 * Cost per training step relative to none (measured: docs/dreg.md):
 * weight decay and DREG add elementwise work only; spectral-norm two
 * matrix–vector products per kernel; the input-gradient penalty a second
 * forward pass plus a backward pass that is itself differentiated (second-order
 * autodiff); Jacobian projections the same per projection.
 *
 * @param spec a spec object or a bare kind.
 * @returns a {@link Regularizer}.
 * @throws ConfigError naming the option for an unknown kind, an unknown or
 *   invalid option; and later from `penalty` when the context lacks what the
 *   kind needs (e.g. `traces` for dreg).
 */
export function createRegularizer(spec: RegularizerSpec | RegularizerKind): Regularizer {
  const s = (typeof spec === 'string' ? { kind: spec } : spec) as RegularizerSpec;
  if (s === null || typeof s !== 'object' || !REGULARIZER_KINDS.includes(s.kind)) {
    throw new ConfigError(`must be one of ${REGULARIZER_KINDS.join(', ')}, got ${JSON.stringify((s as { kind?: unknown })?.kind ?? s)}`, { option: 'regularizer' });
  }
  const zero = () => tf.scalar(0);
  const base = { kernel: identityKernel, afterStep: () => {}, dispose: () => {} };
  switch (s.kind) {
    case 'none':
      checkKeys(s, ['kind']);
      return { ...base, kind: 'none', spec: { kind: 'none' }, needs: NO_NEEDS, penalty: zero };
    case 'weight-decay': {
      checkKeys(s, ['kind', 'coefficient', 'decoupled']);
      const c = nonNegative(s.coefficient, 'coefficient', DEFAULT_WEIGHT_DECAY);
      if (s.decoupled !== undefined && typeof s.decoupled !== 'boolean') throw new ConfigError(`must be true or false, got ${JSON.stringify(s.decoupled)}`, { option: 'decoupled' });
      const decoupled = s.decoupled === true;
      return {
        ...base,
        kind: 'weight-decay',
        spec: { kind: 'weight-decay', coefficient: c, decoupled },
        needs: { ...NO_NEEDS, kernels: !decoupled, afterStep: decoupled },
        penalty: (ctx) => (decoupled || c === 0 ? zero() : weightDecay(need(ctx.kernels, 'kernels', 'weight-decay'), c)),
        afterStep: (ctx) => {
          if (!decoupled || c === 0) return;
          const eta = ctx.learningRate;
          if (!Number.isFinite(eta) || eta < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(eta)}`, { option: 'learningRate' });
          for (const k of ctx.kernels) tf.tidy(() => k.assign(tf.mul(k, 1 - eta * c)));
        },
      };
    }
    case 'input-gradient': {
      checkKeys(s, ['kind', 'lambda']);
      const lambda = nonNegative(s.lambda, 'lambda', DEFAULT_JACOBIAN_LAMBDA);
      return {
        ...base,
        kind: 'input-gradient',
        spec: { kind: 'input-gradient', lambda },
        needs: { ...NO_NEEDS, perSampleLoss: true, secondOrder: true },
        penalty: (ctx) => {
          if (lambda === 0) return zero();
          const loss = need(ctx.perSampleLoss, 'perSampleLoss', 'input-gradient');
          const x = need(ctx.x, 'x', 'input-gradient');
          return tf.tidy(() => tf.mul(inputGradientPenalty(loss, x), lambda) as tf.Scalar);
        },
      };
    }
    case 'jacobian-projection': {
      checkKeys(s, ['kind', 'lambda', 'projections', 'seed']);
      const lambda = nonNegative(s.lambda, 'lambda', DEFAULT_JACOBIAN_LAMBDA);
      const projections = positiveInteger(s.projections, 'projections', 1);
      const seed = integer(s.seed, 'seed', 0);
      return {
        ...base,
        kind: 'jacobian-projection',
        spec: { kind: 'jacobian-projection', lambda, projections, seed },
        needs: { ...NO_NEEDS, outputs: true, secondOrder: true },
        penalty: (ctx) => {
          if (lambda === 0) return zero();
          const f = need(ctx.outputs, 'outputs', 'jacobian-projection');
          const x = need(ctx.x, 'x', 'jacobian-projection');
          return tf.tidy(() => tf.mul(randomProjectionJacobianPenalty(f as (x: tf.Tensor) => tf.Tensor, x, { projections, seed: seed + Math.floor(ctx.step) }), lambda) as tf.Scalar);
        },
      };
    }
    case 'dreg': {
      checkKeys(s, ['kind', 'dreg']);
      const options = resolveDregOptions(s.dreg ?? {});
      return {
        ...base,
        kind: 'dreg',
        spec: { kind: 'dreg', dreg: { ...DEFAULT_DREG_OPTIONS, ...(s.dreg ?? {}) } },
        needs: { ...NO_NEEDS, traces: true },
        penalty: (ctx) => {
          const traces = need(ctx.traces, 'traces', 'dreg');
          if (!Array.isArray(traces) || traces.length === 0) {
            throw new ConfigError("the 'dreg' regulariser needs the layer traces of the forward pass (build hidden layers with activationDense, polyDense or polyConv2d)", { option: 'traces' });
          }
          return dregPenalty(traces, options, ctx.step);
        },
      };
    }
    case 'spectral-norm': {
      checkKeys(s, ['kind', 'iterations', 'seed']);
      const iterations = positiveInteger(s.iterations, 'iterations', 1);
      const seed = integer(s.seed, 'seed', 0);
      // per layer: u after the last training step (`u`), the one it started from (`prev`), and that step
      const state = new Map<number, { prev?: tf.Tensor1D; u: tf.Tensor1D; step: number }>();
      return {
        ...base,
        kind: 'spectral-norm',
        spec: { kind: 'spectral-norm', iterations, seed },
        needs: { ...NO_NEEDS, kernelHook: true },
        penalty: zero,
        kernel: (W, opts) => {
          if (!Number.isInteger(opts?.layer) || opts.layer < 0) throw new ConfigError(`must be an integer ≥ 0, got ${JSON.stringify(opts?.layer)}`, { option: 'layer' });
          const st = state.get(opts.layer);
          if (st && st.u.shape[0] !== W.shape[0]) {
            throw new ConfigError(`layer ${opts.layer} had a kernel with ${st.u.shape[0]} rows, now ${W.shape[0]}: use one layer index per kernel`, { option: 'layer' });
          }
          // training: one power iteration per step from the previous step's u (a second
          // call in the same step starts from the same u, so it gives the same σ);
          // evaluation: one iteration from the current u, state unchanged
          const again = opts.training && st !== undefined && st.step === opts.step;
          const start = again ? st!.prev : st?.u;
          return tf.tidy(() => {
            const r = spectralNorm(W, { iterations, u: start, seed: seed + opts.layer });
            if (opts.training && !again) {
              st?.prev?.dispose();
              state.set(opts.layer, { prev: st?.u, u: tf.keep(r.u), step: opts.step });
            } else if (!st) state.set(opts.layer, { u: tf.keep(r.u), step: -1 });
            return tf.div(W, r.sigma) as tf.Tensor2D;
          });
        },
        dispose: () => {
          for (const st of state.values()) tf.dispose([st.u, ...(st.prev ? [st.prev] : [])]);
          state.clear();
        },
      };
    }
  }
}
