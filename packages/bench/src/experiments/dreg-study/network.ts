/**
 * The network and training loop of `chainz bench dreg-study`: an MLP whose
 * hidden activation is the ChainzRule polynomial (`cr`) or a standard one, and
 * one regulariser from `createRegularizer` (`@chainz/dreg`) wired into every
 * step through the library's interface — the kernel hook (spectral
 * normalisation), the penalty (weight decay, input-gradient penalty, Jacobian
 * random projections, DREG) and the post-step hook.
 *
 * The bench's general `Mlp`/`trainSteps` take only DREG and coupled weight
 * decay; the study needs every regulariser and a loss tfjs can differentiate
 * twice (double backpropagation), so it has this small loop of its own. Every
 * model of the study — whatever its regulariser — trains with this same loop,
 * loss and optimiser.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense, Rng } from '@chainz/core';
import { activate, activationDense, twiceDifferentiableSoftmaxCrossEntropy, type Regularizer } from '@chainz/dreg';
import { initPolyCoefficients, polyDense, resolvePolyConfig, type DenseLayerTrace, type PolyConfig } from '@chainz/poly-layer';
import type { ReadSteps } from '../../models/train';
import type { StudyActivation, StudyNetworkConfig } from './config';

interface LayerParams {
  kernel: tf.Variable;
  bias: tf.Variable;
  coeffs?: tf.Variable;
}

/** How a forward pass runs. */
export interface ForwardMode {
  /** Training step t (spectral normalisation's power iteration advances once per step in training). */
  step: number;
  /** Training pass (advances spectral-norm state) or evaluation (leaves it). */
  training: boolean;
  /** Build DREG traces of the hidden layers (standard activations through `activationDense`). */
  traces: boolean;
}

function glorotUniform(rng: Rng, fanIn: number, fanOut: number): tf.Tensor2D {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const v = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < v.length; i++) v[i] = (2 * rng.next() - 1) * limit;
  return tf.tensor2d(v, [fanIn, fanOut]);
}

/**
 * MLP nIn → hidden… → nOut (logits) with Glorot-uniform kernels (seeded with
 * `@chainz/core`'s Rng), zero biases and, for `cr`, per-unit polynomial
 * coefficients initialised to the least-squares fit of `polyInit`.
 */
export class StudyNet {
  readonly layers: LayerParams[] = [];
  readonly polyConfig: PolyConfig | null;

  /**
   * @param activation hidden activation (`cr` = polynomial layer).
   * @param config hidden widths, polynomial settings (the rest is read by {@link trainStudyNet}).
   * @param nIn features; @param nOut classes; @param seed initialisation seed.
   */
  constructor(
    readonly activation: StudyActivation,
    readonly config: StudyNetworkConfig,
    nIn: number,
    readonly nOut: number,
    seed: number,
  ) {
    const rng = new Rng(seed);
    this.polyConfig = activation === 'cr' ? resolvePolyConfig(config.poly) : null;
    const dims = [nIn, ...config.hidden, nOut];
    for (let l = 0; l < dims.length - 1; l++) {
      const p: LayerParams = tf.tidy(() => ({
        kernel: tf.variable(glorotUniform(rng, dims[l], dims[l + 1]), true),
        bias: tf.variable(tf.zeros([dims[l + 1]]), true),
      }));
      if (l < dims.length - 2 && this.polyConfig) {
        const cfg = this.polyConfig;
        p.coeffs = tf.tidy(() => tf.variable(initPolyCoefficients(dims[l + 1], config.polyInit, cfg).coeffs, true));
      }
      this.layers.push(p);
    }
  }

  /** The weight matrices (what weight decay and spectral normalisation act on; not biases or coefficients). */
  kernels(): tf.Variable[] {
    return this.layers.map((p) => p.kernel);
  }

  /** Every trainable variable. */
  variables(): tf.Variable[] {
    return this.layers.flatMap((p) => [p.kernel, p.bias, ...(p.coeffs ? [p.coeffs] : [])]);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.layers.reduce((s, p) => s + p.kernel.size + p.bias.size + (p.coeffs?.size ?? 0), 0);
  }

  /**
   * Forward pass: `x` `[B, nIn]` → logits `[B, nOut]`, every kernel through
   * `reg.kernel` (W itself, or W/σ_max(W) for spectral normalisation), and the
   * hidden layers' DREG traces when `mode.traces` (else `[]` for standard
   * activations). Differentiable twice (polynomial layer, `activate`,
   * `activationDense`, `dense`).
   */
  forward(x: tf.Tensor2D, reg: Regularizer, mode: ForwardMode): { logits: tf.Tensor2D; traces: DenseLayerTrace[] } {
    const traces: DenseLayerTrace[] = [];
    const last = this.layers.length - 1;
    let h = x;
    this.layers.forEach((p, l) => {
      const W = reg.kernel(p.kernel as tf.Tensor2D, { layer: l, step: mode.step, training: mode.training });
      const b = p.bias as tf.Tensor1D;
      if (l === last) {
        h = dense(h, W, b);
      } else if (this.polyConfig && p.coeffs) {
        // the fused kernel also returns ‖J‖_F² per sample, which DREG frobenius uses
        const out = polyDense(h, { kernel: W, bias: b, coeffs: p.coeffs as tf.Tensor2D }, this.polyConfig, { jacobianNorm: mode.traces });
        if (mode.traces) traces.push(out.trace);
        h = out.y;
      } else if (mode.traces) {
        const out = activationDense(h, { kernel: W, bias: b }, this.activation as Exclude<StudyActivation, 'cr'>);
        traces.push(out.trace);
        h = out.y;
      } else {
        h = activate(dense(h, W, b), this.activation as Exclude<StudyActivation, 'cr'>) as tf.Tensor2D;
      }
    });
    return { logits: h, traces };
  }

  /** Per-sample softmax cross-entropy `[B]` of `x` `[B, nIn]` against one-hot `targets` `[B, nOut]` (evaluation mode). */
  perSampleLoss(x: tf.Tensor2D, targets: tf.Tensor2D, reg: Regularizer): tf.Tensor1D {
    return twiceDifferentiableSoftmaxCrossEntropy(targets, this.forward(x, reg, { step: 0, training: false, traces: false }).logits);
  }

  /** Predicted class per row of `x` `[N, nIn]` (argmax of the logits, evaluation mode), computed in batches of 1000. */
  async predict(x: tf.Tensor2D, reg: Regularizer): Promise<Int32Array> {
    const n = x.shape[0];
    const out = new Int32Array(n);
    for (let start = 0; start < n; start += 1000) {
      const size = Math.min(1000, n - start);
      const p = tf.tidy(() => tf.argMax(this.forward(size === n ? x : tf.slice(x, [start, 0], [size, x.shape[1]]), reg, { step: 0, training: false, traces: false }).logits, 1));
      try {
        out.set((await p.data()) as Int32Array, start);
      } finally {
        p.dispose();
      }
    }
    return out;
  }

  dispose(): void {
    for (const p of this.layers) tf.dispose([p.kernel, p.bias, ...(p.coeffs ? [p.coeffs] : [])]);
  }
}

/** What {@link trainStudyNet} reports. */
export interface StudyTrainStats {
  steps: number;
  /** Mean task loss and penalty over the batches of the last epoch. */
  finalTaskLoss: number;
  finalPenalty: number;
  /** Epoch (1-based) whose weights were kept; = epochs without validation. */
  bestEpoch: number;
  /** Validation cross-entropy at `bestEpoch` (NaN without validation). */
  bestValidationLoss: number;
  /** Epochs whose mean training loss was not finite (the weights of such epochs are never kept). */
  nonFiniteEpochs: number;
}

function meanLoss(net: StudyNet, reg: Regularizer, x: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(net.perSampleLoss(x, targets, reg)) as tf.Scalar);
}

/**
 * Train `net` with regulariser `reg` by Adam on mini-batches in a seeded order:
 *
 *     loss_t = mean_i CE(y_i, f(x_i)) + reg.penalty(t),  then  reg.afterStep(t)
 *
 * with CE the twice-differentiable softmax cross-entropy (the input-gradient
 * and projection penalties differentiate the network twice). With a
 * validation set, the weights of the epoch with the lowest (finite)
 * validation cross-entropy are restored at the end; the test rows are never
 * used. Reads (one per epoch, plus the validation loss) are yielded, as in the
 * bench's `trainSteps` (drive with `drive` / `driveAsync`).
 *
 * @param x training rows `[N, nIn]`; @param targets one-hot `[N, nOut]`.
 * @param seed seed of the batch order.
 * @param validation held-out rows and one-hot targets.
 * @throws Error when no epoch ends with finite losses (divergence), naming the loss.
 */
export function* trainStudyNet(
  net: StudyNet,
  reg: Regularizer,
  x: tf.Tensor2D,
  targets: tf.Tensor2D,
  seed: number,
  validation?: { x: tf.Tensor2D; targets: tf.Tensor2D },
): ReadSteps<StudyTrainStats> {
  const cfg = net.config;
  const rng = new Rng(seed ^ 0x5eed);
  const n = x.shape[0];
  const optimizer = tf.train.adam(cfg.learningRate);
  const vars = net.variables();
  const needs = reg.needs;
  let step = 0;
  let lastTask = NaN;
  let lastPen = 0;
  let nonFinite = 0;
  let best: tf.Tensor[] | undefined;
  let bestEpoch = cfg.epochs;
  let bestVal = Infinity;
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const order = rng.permutation(n);
      let sums: tf.Tensor = tf.zeros([2]); // [Σ task loss, Σ penalty] over the epoch's batches
      let batches = 0;
      for (let start = 0; start < n; start += cfg.batchSize) {
        const idx = order.subarray(start, Math.min(n, start + cfg.batchSize));
        const s = step;
        const next = tf.tidy(() => {
          const ib = tf.tensor1d(idx, 'int32');
          const xb = tf.gather(x, ib) as tf.Tensor2D;
          const yb = tf.gather(targets, ib) as tf.Tensor2D;
          let task: tf.Scalar | undefined;
          let pen: tf.Scalar | undefined;
          const mode = { step: s, training: true, traces: false };
          optimizer.minimize(
            () => {
              const { logits, traces } = net.forward(xb, reg, { ...mode, traces: needs.traces });
              const taskLoss = tf.mean(twiceDifferentiableSoftmaxCrossEntropy(yb, logits)) as tf.Scalar;
              const penalty = reg.penalty({
                step: s,
                x: xb,
                traces,
                kernels: needs.kernels ? net.kernels() : undefined,
                perSampleLoss: needs.perSampleLoss ? (xx) => twiceDifferentiableSoftmaxCrossEntropy(yb, net.forward(xx as tf.Tensor2D, reg, mode).logits) : undefined,
                outputs: needs.outputs ? (xx) => net.forward(xx as tf.Tensor2D, reg, mode).logits : undefined,
              });
              task = tf.keep(tf.clone(taskLoss));
              pen = tf.keep(tf.clone(penalty));
              return tf.add(taskLoss, penalty) as tf.Scalar;
            },
            false,
            vars,
          );
          const out = tf.add(sums, tf.stack([task!, pen!]));
          tf.dispose([task!, pen!]);
          return out;
        });
        sums.dispose();
        sums = next;
        if (needs.afterStep) reg.afterStep({ step: s, kernels: net.kernels(), learningRate: cfg.learningRate });
        batches++;
        step++;
      }
      let values: ArrayLike<number>;
      try {
        values = yield sums;
      } finally {
        sums.dispose();
      }
      lastTask = values[0] / batches;
      lastPen = values[1] / batches;
      if (!Number.isFinite(lastTask) || !Number.isFinite(lastPen)) nonFinite++;
      if (validation) {
        const v = meanLoss(net, reg, validation.x, validation.targets);
        let val: number;
        try {
          val = (yield v)[0];
        } finally {
          v.dispose();
        }
        if (val < bestVal) {
          bestVal = val;
          bestEpoch = epoch + 1;
          if (best) tf.dispose(best);
          best = vars.map((w) => tf.clone(w));
        }
      }
    }
    if (validation ? best === undefined : !Number.isFinite(lastTask)) {
      throw new Error(`training diverged: ${validation ? 'the validation cross-entropy was never finite' : `final task loss ${lastTask}`}`);
    }
    if (best) vars.forEach((w, i) => w.assign(best![i]));
    return { steps: step, finalTaskLoss: lastTask, finalPenalty: lastPen, bestEpoch, bestValidationLoss: validation ? bestVal : NaN, nonFiniteEpochs: nonFinite };
  } finally {
    if (best) tf.dispose(best);
    optimizer.dispose();
  }
}
