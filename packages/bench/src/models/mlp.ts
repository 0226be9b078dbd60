import * as tf from '@tensorflow/tfjs-core';
import { dense, Rng } from '@chainz/core';
import { polyActivation, polyDense, resolvePolyConfig, initPolyCoefficients, type PolyConfig, type TargetActivation, type DenseLayerTrace } from '@chainz/poly-layer';
import { activationDense, type DregOptions } from '@chainz/dreg';
import { gradientTailRatio, inputGradientNormsAsync } from '@chainz/metrics';
import { stratifiedSubsample } from '@chainz/data';
import type { FitResult, ModelRunner, TabularFold } from './types';
import { drive, driveAsync, trainSteps, type ReadSteps, type TrainableClassifier } from './train';
import { cumulativeLogits, ordinalLevels, ordinalLoss, ordinalPredict, UNIT_GAP } from './ordinal';
import { batchedTrainingUnsupported, trainMlpFoldsBatched } from './mlp-batched';

/** Hidden-layer activation of an MLP. `poly` = ChainzRule polynomial activation. */
export type MlpActivation = 'poly' | 'relu' | 'gelu' | 'tanh' | 'silu';

/**
 * Output head of an MLP. `softmax` (default): K logits, softmax cross-entropy,
 * argmax prediction. `ordinal`: one score and K − 1 ordered thresholds
 * (cumulative-link / CORAL-style, rank-consistent; see `./ordinal.ts`).
 */
export type MlpHead = 'softmax' | 'ordinal';

/** Configuration of an MLP trained by the bench's own loop (all fields documented defaults). */
export interface MlpConfig {
  /** Hidden widths; `[]` = logistic (softmax) regression. */
  hidden: number[];
  activation: MlpActivation;
  /** Polynomial activation settings (activation `poly` only). */
  poly?: Partial<PolyConfig>;
  /** Target the polynomial is initialised to (least-squares fit). */
  polyInit?: TargetActivation;
  /** DREG options, or null for none. */
  dreg: Partial<DregOptions> | null;
  /** Passes over the training set. */
  epochs: number;
  /** Mini-batch size (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /** L2 weight decay added to the loss on kernels (0 = none). */
  weightDecay: number;
  /**
   * Share of the training data held out (stratified, seeded) to choose the
   * epoch: after training, the weights of the epoch with the lowest
   * validation cross-entropy are restored. 0 = no hold-out, last epoch kept.
   * The test fold is never used for this.
   */
  validationFraction: number;
  /** Output head and loss; default `softmax`. */
  head?: MlpHead;
  /**
   * Lower bound on optimiser steps: when the training set is small (e.g. a 1%
   * data fraction), the number of epochs is raised to
   * max(epochs, ⌈minSteps / batches per epoch⌉); the validation loss is then
   * checked every ⌈that / epochs⌉ epochs (and after the last), so at most
   * about `epochs` checks are made. Default: none (exactly `epochs`, a check
   * after every epoch).
   */
  minSteps?: number;
}

/** Epochs actually run for n training rows: max(epochs, ⌈minSteps / ⌈n / batchSize⌉⌉). */
export function effectiveEpochs(config: Pick<MlpConfig, 'epochs' | 'batchSize' | 'minSteps'>, n: number): number {
  const perEpoch = Math.max(1, Math.ceil(n / config.batchSize));
  return config.minSteps ? Math.max(config.epochs, Math.ceil(config.minSteps / perEpoch)) : config.epochs;
}

interface LayerParams {
  kernel: tf.Variable;
  bias: tf.Variable;
  coeffs?: tf.Variable;
}

function glorotUniform(rng: Rng, fanIn: number, fanOut: number): tf.Tensor2D {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const v = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < v.length; i++) v[i] = (2 * rng.next() - 1) * limit;
  return tf.tensor2d(v, [fanIn, fanOut]);
}

/** The fixed hidden activations, elementwise on a tensor of any shape (exact GELU: x·Φ(x) = 0.5·x·(1 + erf(x/√2))). */
export function activate<T extends tf.Tensor>(z: T, a: Exclude<MlpActivation, 'poly'>): T {
  switch (a) {
    case 'relu':
      return tf.relu(z);
    case 'tanh':
      return tf.tanh(z);
    case 'silu':
      return tf.mul(z, tf.sigmoid(z));
    case 'gelu':
      return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
  }
}

/**
 * A multilayer perceptron with hidden activation `relu|gelu|tanh|silu` or the
 * ChainzRule polynomial (`poly`, PolyDense layers), trained with Adam and a
 * seeded mini-batch order, optionally with the DREG penalty on every hidden
 * layer. Used for `cr`, `cr-nodreg`, `relu-mlp`, `gelu-mlp` and `logreg`.
 */
export class Mlp implements TrainableClassifier {
  readonly layers: LayerParams[] = [];
  readonly polyConfig: PolyConfig | null;
  /** Output head (config.head ?? 'softmax'). */
  readonly head: MlpHead;
  /** Number of classes K. */
  readonly nClasses: number;
  /** Ordinal head only (K ≥ 3): threshold gap parameters u, shape [K − 2]. */
  readonly thresholdGaps: tf.Variable | null = null;

  /**
   * @param nOut number of classes K (the softmax head has K outputs; the
   *   ordinal head one score plus K − 1 thresholds).
   */
  constructor(readonly config: MlpConfig, nIn: number, nOut: number, seed: number) {
    const rng = new Rng(seed);
    this.polyConfig = config.activation === 'poly' ? resolvePolyConfig(config.poly ?? {}) : null;
    this.head = config.head ?? 'softmax';
    this.nClasses = nOut;
    const ordinal = this.head === 'ordinal';
    if (ordinal && nOut < 2) throw new Error(`an ordinal head needs ≥ 2 classes, got ${nOut}`);
    const dims = [nIn, ...config.hidden, ordinal ? 1 : nOut];
    for (let l = 0; l < dims.length - 1; l++) {
      const hiddenLayer = l < dims.length - 2;
      // tidy: the initial-value tensors are released; the variables are kept.
      const p: LayerParams = tf.tidy(() => ({
        kernel: tf.variable(glorotUniform(rng, dims[l], dims[l + 1]), true),
        bias: tf.variable(tf.zeros([dims[l + 1]]), true),
      }));
      if (hiddenLayer && this.polyConfig) {
        const cfg = this.polyConfig;
        p.coeffs = tf.tidy(() => tf.variable(initPolyCoefficients(dims[l + 1], config.polyInit ?? 'gelu', cfg).coeffs, true));
      }
      this.layers.push(p);
    }
    if (ordinal) {
      // Thresholds start evenly spaced one unit apart and centred on 0:
      // θ_0 = −(K − 2)/2 (bias b = −θ_0), gaps softplus(u) = 1.
      tf.tidy(() => this.layers[this.layers.length - 1].bias.assign(tf.fill([1], (nOut - 2) / 2)));
      if (nOut > 2) this.thresholdGaps = tf.tidy(() => tf.variable(tf.fill([nOut - 2], UNIT_GAP), true));
    }
  }

  /** The weight matrices (weight decay applies to these). */
  kernels(): tf.Variable[] {
    return this.layers.map((p) => p.kernel);
  }

  /** Mean training loss of a batch: softmax cross-entropy, or the ordinal loss for `head: 'ordinal'`. */
  batchLoss(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return (this.head === 'softmax' ? tf.losses.softmaxCrossEntropy(targets, logits) : tf.mean(this.lossFromLogits(logits, targets))) as tf.Scalar;
  }

  /** Every trainable variable (kernels, biases, polynomial coefficients). */
  variables(): tf.Variable[] {
    return [...this.layers.flatMap((p) => [p.kernel, p.bias, ...(p.coeffs ? [p.coeffs] : [])]), ...(this.thresholdGaps ? [this.thresholdGaps] : [])];
  }

  /** Names of {@link variables} for the non-finite watchdog: `hidden 1`/`kernel`, …, `output`/`bias`, `ordinal head`/`threshold gaps`. */
  variableNames(): Array<{ layer: string; tensor: string }> {
    const last = this.layers.length - 1;
    return [
      ...this.layers.flatMap((p, l) => {
        const layer = l === last ? 'output' : `hidden ${l + 1}`;
        return [{ layer, tensor: 'kernel' }, { layer, tensor: 'bias' }, ...(p.coeffs ? [{ layer, tensor: 'coeffs' }] : [])];
      }),
      ...(this.thresholdGaps ? [{ layer: 'ordinal head', tensor: 'threshold gaps' }] : []),
    ];
  }

  /**
   * Pre-activation z and output of every layer for `x` `[B, nIn]`, in order
   * (for the non-finite watchdog, after a bad step; guard `none` checks off).
   */
  diagnosticActivations(x: tf.Tensor): Array<{ layer: string; tensor: string; value: tf.Tensor }> {
    const out: Array<{ layer: string; tensor: string; value: tf.Tensor }> = [];
    let h = x as tf.Tensor2D;
    const last = this.layers.length - 1;
    this.layers.forEach((p, l) => {
      const layer = l === last ? 'output' : `hidden ${l + 1}`;
      const z = dense(h, p.kernel as tf.Tensor2D, p.bias as tf.Tensor1D);
      out.push({ layer, tensor: 'pre-activation z', value: z });
      if (l === last) h = this.head === 'ordinal' ? cumulativeLogits(z, this.thresholdGaps as tf.Tensor1D | null) : z;
      else if (this.polyConfig && p.coeffs) h = polyActivation(z, p.coeffs as tf.Tensor2D, this.polyConfig, { check: false }).y as tf.Tensor2D;
      else h = activate(z, this.config.activation as Exclude<MlpActivation, 'poly'>);
      out.push({ layer, tensor: l === last ? 'logits' : 'output', value: h });
    });
    return out;
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.layers.reduce((s, p) => s + p.kernel.size + p.bias.size + (p.coeffs?.size ?? 0), 0) + (this.thresholdGaps?.size ?? 0);
  }

  /**
   * Forward pass. `x`: [B, nIn] → logits: softmax head [B, K]; ordinal head
   * the cumulative logits η [B, K − 1] (P(y > k) = σ(η_k)). `traces` holds one
   * DenseLayerTrace per hidden polynomial layer, and per hidden layer of a
   * standard activation when DREG is configured (`activationDense`).
   */
  forward(x: tf.Tensor2D): { logits: tf.Tensor2D; traces: DenseLayerTrace[] } {
    const traces: DenseLayerTrace[] = [];
    let h = x;
    const last = this.layers.length - 1;
    this.layers.forEach((p, l) => {
      if (l === last) {
        h = dense(h, p.kernel as tf.Tensor2D, p.bias as tf.Tensor1D);
        if (this.head === 'ordinal') h = cumulativeLogits(h, this.thresholdGaps as tf.Tensor1D | null);
      } else if (this.polyConfig && p.coeffs) {
        const out = polyDense(h, { kernel: p.kernel as tf.Tensor2D, bias: p.bias as tf.Tensor1D, coeffs: p.coeffs as tf.Tensor2D }, this.polyConfig, {
          secondDerivative: (this.config.dreg?.curvature ?? 0) > 0,
          // the fused kernel also returns the per-sample ‖J‖_F² that DREG frobenius needs
          jacobianNorm: this.config.dreg != null && (this.config.dreg.variant ?? 'frobenius') === 'frobenius',
        });
        traces.push(out.trace);
        h = out.y;
      } else if (this.config.dreg != null) {
        // DREG on a standard activation: the same kind of trace (analytic σ′ per unit) as a polynomial layer
        const out = activationDense(h, { kernel: p.kernel as tf.Tensor2D, bias: p.bias as tf.Tensor1D }, this.config.activation as Exclude<MlpActivation, 'poly'>, {
          secondDerivative: (this.config.dreg.curvature ?? 0) > 0,
        });
        traces.push(out.trace);
        h = out.y;
      } else {
        h = activate(dense(h, p.kernel as tf.Tensor2D, p.bias as tf.Tensor1D), this.config.activation as Exclude<MlpActivation, 'poly'>);
      }
    });
    return { logits: h, traces };
  }

  /**
   * Training targets of the head for labels `y` (caller disposes): softmax —
   * one-hot [n, K]; ordinal — levels 1{y > k} [n, K − 1].
   */
  encodeTargets(y: Int32Array): tf.Tensor2D {
    if (this.head === 'ordinal') return ordinalLevels(y, this.nClasses);
    return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), this.nClasses), 'float32') as tf.Tensor2D);
  }

  /** Per-sample loss [B] of the head's logits against targets from {@link encodeTargets}. */
  lossFromLogits(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
    if (this.head === 'ordinal') return ordinalLoss(logits, targets);
    return tf.losses.softmaxCrossEntropy(targets, logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
  }

  /**
   * Per-sample loss [B] for rows x and targets: softmax cross-entropy against
   * one-hot labels, or the ordinal loss against levels (see {@link encodeTargets}).
   */
  perSampleLoss(x: tf.Tensor2D, yOneHot: tf.Tensor2D): tf.Tensor1D {
    const { logits } = this.forward(x);
    return this.lossFromLogits(logits, yOneHot);
  }

  /** Predicted class per row of `x` ([B, nIn]): argmax (softmax) or #{k : η_k > 0} (ordinal). */
  predict(x: tf.Tensor2D): Int32Array {
    return drive(this.predictSteps(x));
  }

  /** {@link predict} with an asynchronous read (WebGPU in Node cannot read synchronously). */
  predictAsync(x: tf.Tensor2D): Promise<Int32Array> {
    return driveAsync(this.predictSteps(x));
  }

  private *predictSteps(x: tf.Tensor2D): ReadSteps<Int32Array> {
    const out = tf.tidy(() => (this.head === 'ordinal' ? this.forward(x).logits : tf.argMax(this.forward(x).logits, 1)));
    try {
      const values = yield out;
      return this.head === 'ordinal' ? ordinalPredict(Float32Array.from(values), out.shape[1]) : Int32Array.from(values);
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    for (const p of this.layers) {
      p.kernel.dispose();
      p.bias.dispose();
      p.coeffs?.dispose();
    }
    this.thresholdGaps?.dispose();
  }
}

/** Result of `trainMlp`: the trained model and the last epoch's mean losses. */
export interface TrainStats {
  steps: number;
  /** Mean task loss / penalty over the batches of the last epoch. */
  finalTaskLoss: number;
  finalPenalty: number;
  /** Epoch (1-based) whose weights were kept; = epochs without validation. */
  bestEpoch: number;
  /** Validation cross-entropy at `bestEpoch` (NaN without validation). */
  bestValidationLoss: number;
}

/**
 * Train `model` on rows `x` [n, d] with labels `y` by Adam on mini-batches in
 * a seeded order (never tfjs's Math.random shuffle). Loss = mean head loss
 * (softmax cross-entropy, or the ordinal loss for `head: 'ordinal'`) + DREG
 * (if configured) + weight decay. Runs {@link effectiveEpochs} epochs; with
 * `validation`, the weights of the epoch with the lowest validation loss are
 * restored at the end.
 */
export function trainMlp(
  model: Mlp,
  x: tf.Tensor2D,
  y: Int32Array,
  nClasses: number,
  seed: number,
  validation?: { x: tf.Tensor2D; y: Int32Array },
): TrainStats {
  return drive(mlpTrainSteps(model, x, y, nClasses, seed, validation));
}

/**
 * {@link trainMlp} with asynchronous reads: the same computation in the same
 * order (identical results), every read `await tensor.data()`. tfjs's WebGPU
 * backend cannot read synchronously in Node (its `readSync` needs an
 * OffscreenCanvas); on cpu and wasm it costs one microtask per read.
 */
export function trainMlpAsync(
  model: Mlp,
  x: tf.Tensor2D,
  y: Int32Array,
  nClasses: number,
  seed: number,
  validation?: { x: tf.Tensor2D; y: Int32Array },
): Promise<TrainStats> {
  return driveAsync(mlpTrainSteps(model, x, y, nClasses, seed, validation));
}

/** {@link trainSteps} for an Mlp: targets encoded by its head, epochs by {@link effectiveEpochs}. */
function* mlpTrainSteps(
  model: Mlp,
  x: tf.Tensor2D,
  y: Int32Array,
  nClasses: number,
  seed: number,
  validation?: { x: tf.Tensor2D; y: Int32Array },
): ReadSteps<TrainStats> {
  const cfg = model.config;
  if (nClasses !== model.nClasses) throw new Error(`trainMlp: nClasses ${nClasses} differs from the model's ${model.nClasses}`);
  const epochs = effectiveEpochs(cfg, y.length);
  const targets = model.encodeTargets(y);
  const vTargets = validation ? model.encodeTargets(validation.y) : undefined;
  try {
    const st = yield* trainSteps(
      model,
      { epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, weightDecay: cfg.weightDecay, dreg: cfg.dreg, validateEvery: Math.max(1, Math.ceil(epochs / cfg.epochs)) },
      x,
      targets,
      seed,
      validation && vTargets ? { x: validation.x, targets: vTargets } : undefined,
    );
    return { steps: st.steps, finalTaskLoss: st.finalTaskLoss, finalPenalty: st.finalPenalty, bestEpoch: st.bestEpoch, bestValidationLoss: st.bestValidationLoss };
  } finally {
    targets.dispose();
    vTargets?.dispose();
  }
}

/**
 * A ModelRunner for an MLP configuration (trained and evaluated per fold).
 * The epoch is chosen on `fold.xVal`/`fold.yVal` when the fold carries an
 * explicit validation set (e.g. SST-5 dev), else on a stratified
 * `validationFraction` of the training part (when every class has ≥ 2
 * training rows; otherwise `info.validation` says none was held out), else
 * the last epoch is kept.
 * τ = p99/mean of per-sample input-gradient norms of the head's loss on the test rows.
 */
export function mlpModel(name: string, description: string, config: MlpConfig): ModelRunner {
  const runner: ModelRunner = {
    name,
    description,
    // the resolved polynomial configuration (scale, basis for the degree, …), so results.json states what ran
    config: { ...config, ...(config.activation === 'poly' ? { poly: { ...resolvePolyConfig(config.poly ?? {}) } } : {}) },
    async run(fold: TabularFold, seed: number): Promise<FitResult> {
      const nTest = fold.yTest.length;
      // Hold out a stratified validation part of the training fold to choose the epoch.
      let trainIdx: Int32Array | undefined, valIdx: Int32Array | undefined;
      const explicitVal = fold.xVal !== undefined && fold.yVal !== undefined;
      // Holding out needs ≥ 2 rows of every class present (one stays for training);
      // a tinier training part (e.g. 1% of a small file) keeps the last epoch instead.
      const counts = new Map<number, number>();
      for (const c of fold.yTrain) counts.set(c, (counts.get(c) ?? 0) + 1);
      const canHoldOut = [...counts.values()].every((n) => n >= 2);
      if (!explicitVal && config.validationFraction > 0 && canHoldOut) {
        valIdx = stratifiedSubsample(fold.yTrain, config.validationFraction, seed ^ 0x7a1d);
        const inVal = new Uint8Array(fold.yTrain.length);
        for (const i of valIdx) inVal[i] = 1;
        trainIdx = Int32Array.from({ length: fold.yTrain.length - valIdx.length }, () => 0);
        let k = 0;
        for (let i = 0; i < fold.yTrain.length; i++) if (!inVal[i]) trainIdx[k++] = i;
      }
      const rows = (src: Float32Array, idx: Int32Array) => {
        const out = new Float32Array(idx.length * fold.nFeatures);
        idx.forEach((r, i) => out.set(src.subarray(r * fold.nFeatures, (r + 1) * fold.nFeatures), i * fold.nFeatures));
        return out;
      };
      const xTrainArr = trainIdx ? rows(fold.xTrain, trainIdx) : fold.xTrain;
      const yTrain = trainIdx ? Int32Array.from(trainIdx, (i) => fold.yTrain[i]) : fold.yTrain;
      const xTrain = tf.tensor2d(xTrainArr, [yTrain.length, fold.nFeatures]);
      const xVal = explicitVal
        ? tf.tensor2d(fold.xVal!, [fold.yVal!.length, fold.nFeatures])
        : valIdx
          ? tf.tensor2d(rows(fold.xTrain, valIdx), [valIdx.length, fold.nFeatures])
          : undefined;
      const yVal = explicitVal ? fold.yVal : valIdx ? Int32Array.from(valIdx, (i) => fold.yTrain[i]) : undefined;
      const xTest = tf.tensor2d(fold.xTest, [nTest, fold.nFeatures]);
      const model = new Mlp(config, fold.nFeatures, fold.nClasses, seed);
      const yTestOh = model.encodeTargets(fold.yTest);
      const nTargets = yTestOh.shape[1];
      try {
        const t0 = performance.now();
        // asynchronous reads: WebGPU in Node cannot read synchronously (results identical to trainMlp / predict / inputGradientNorms)
        const stats = await trainMlpAsync(model, xTrain, yTrain, fold.nClasses, seed, xVal && yVal ? { x: xVal, y: yVal } : undefined);
        const trainSeconds = (performance.now() - t0) / 1000;
        const predictions = await model.predictAsync(xTest);
        // τ (input source): per-sample ‖∂ℓ_i/∂x_i‖₂ on the held-out rows, same code for every model.
        const norms = await inputGradientNormsAsync((xb, start) => model.perSampleLoss(xb, tf.slice(yTestOh, [start, 0], [xb.shape[0], nTargets])), xTest);
        const tau = gradientTailRatio(norms);
        return {
          predictions,
          tau,
          trainSeconds,
          info: { parameters: model.parameterCount(), steps: stats.steps, epochs: effectiveEpochs(config, yTrain.length), bestEpoch: stats.bestEpoch, bestValidationLoss: stats.bestValidationLoss, finalTaskLoss: stats.finalTaskLoss, finalPenalty: stats.finalPenalty, ...(!explicitVal && config.validationFraction > 0 && !canHoldOut ? { validation: 'none: a class has < 2 training rows; last epoch kept' } : {}) },
        };
      } finally {
        model.dispose();
        xTrain.dispose();
        xVal?.dispose();
        xTest.dispose();
        yTestOh.dispose();
      }
    },
  };
  // several folds/seeds at once, same results (mlp-batched.ts), for the configurations it supports
  if (batchedTrainingUnsupported(config) === undefined) {
    runner.runBatch = (folds, seeds) => trainMlpFoldsBatched(config, folds, seeds, { runOne: (f, s) => runner.run(f, s) });
  }
  return runner;
}
