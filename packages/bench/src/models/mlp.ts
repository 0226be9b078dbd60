import * as tf from '@tensorflow/tfjs-core';
import { dense, Rng } from '@chainz/core';
import { polyDense, resolvePolyConfig, initPolyCoefficients, type PolyConfig, type TargetActivation, type DenseLayerTrace } from '@chainz/poly-layer';
import { dregPenalty, type DregOptions } from '@chainz/dreg';
import { gradientTailRatio, inputGradientNormsAsync } from '@chainz/metrics';
import { stratifiedSubsample } from '@chainz/data';
import type { FitResult, ModelRunner, TabularFold } from './types';
import { predictAsync, trainMlpAsync } from './mlp-async';

/** Hidden-layer activation of an MLP. `poly` = ChainzRule polynomial activation. */
export type MlpActivation = 'poly' | 'relu' | 'gelu' | 'tanh' | 'silu';

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

function activate(z: tf.Tensor2D, a: Exclude<MlpActivation, 'poly'>): tf.Tensor2D {
  switch (a) {
    case 'relu':
      return tf.relu(z);
    case 'tanh':
      return tf.tanh(z);
    case 'silu':
      return tf.mul(z, tf.sigmoid(z));
    case 'gelu':
      // exact GELU: x·Φ(x) = 0.5·x·(1 + erf(x/√2))
      return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
  }
}

/**
 * A multilayer perceptron with hidden activation `relu|gelu|tanh|silu` or the
 * ChainzRule polynomial (`poly`, PolyDense layers), trained with Adam and a
 * seeded mini-batch order, optionally with the DREG penalty on every hidden
 * layer. Used for `cr`, `cr-nodreg`, `relu-mlp`, `gelu-mlp` and `logreg`.
 */
export class Mlp {
  readonly layers: LayerParams[] = [];
  readonly polyConfig: PolyConfig | null;

  constructor(readonly config: MlpConfig, nIn: number, nOut: number, seed: number) {
    const rng = new Rng(seed);
    this.polyConfig = config.activation === 'poly' ? resolvePolyConfig(config.poly ?? {}) : null;
    const dims = [nIn, ...config.hidden, nOut];
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
  }

  /** Every trainable variable (kernels, biases, polynomial coefficients). */
  variables(): tf.Variable[] {
    return this.layers.flatMap((p) => [p.kernel, p.bias, ...(p.coeffs ? [p.coeffs] : [])]);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.layers.reduce((s, p) => s + p.kernel.size + p.bias.size + (p.coeffs?.size ?? 0), 0);
  }

  /**
   * Forward pass. `x`: [B, nIn] → logits [B, nOut]; `traces` holds one
   * DenseLayerTrace per hidden polynomial layer (for DREG).
   */
  forward(x: tf.Tensor2D): { logits: tf.Tensor2D; traces: DenseLayerTrace[] } {
    const traces: DenseLayerTrace[] = [];
    let h = x;
    const last = this.layers.length - 1;
    this.layers.forEach((p, l) => {
      if (l === last) {
        h = dense(h, p.kernel as tf.Tensor2D, p.bias as tf.Tensor1D);
      } else if (this.polyConfig && p.coeffs) {
        const out = polyDense(h, { kernel: p.kernel as tf.Tensor2D, bias: p.bias as tf.Tensor1D, coeffs: p.coeffs as tf.Tensor2D }, this.polyConfig, {
          secondDerivative: (this.config.dreg?.curvature ?? 0) > 0,
          jacobianNorm: this.config.dreg != null && (this.config.dreg.variant ?? 'frobenius') === 'frobenius',
        });
        traces.push(out.trace);
        h = out.y;
      } else {
        h = activate(dense(h, p.kernel as tf.Tensor2D, p.bias as tf.Tensor1D), this.config.activation as Exclude<MlpActivation, 'poly'>);
      }
    });
    return { logits: h, traces };
  }

  /** Per-sample softmax cross-entropy [B] for logits of x and labels y. */
  perSampleLoss(x: tf.Tensor2D, yOneHot: tf.Tensor2D): tf.Tensor1D {
    const { logits } = this.forward(x);
    return tf.losses.softmaxCrossEntropy(yOneHot, logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
  }

  /** Predicted class per row of `x` ([B, nIn]). */
  predict(x: tf.Tensor2D): Int32Array {
    const pred = tf.tidy(() => tf.argMax(this.forward(x).logits, 1));
    try {
      return Int32Array.from(pred.dataSync());
    } finally {
      pred.dispose();
    }
  }

  dispose(): void {
    for (const p of this.layers) {
      p.kernel.dispose();
      p.bias.dispose();
      p.coeffs?.dispose();
    }
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
 * a seeded order (never tfjs's Math.random shuffle). Loss = mean softmax
 * cross-entropy + DREG (if configured) + weight decay.
 */
export function trainMlp(
  model: Mlp,
  x: tf.Tensor2D,
  y: Int32Array,
  nClasses: number,
  seed: number,
  validation?: { x: tf.Tensor2D; y: Int32Array },
): TrainStats {
  const cfg = model.config;
  const rng = new Rng(seed ^ 0x5eed);
  const n = y.length;
  const yAll = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), nClasses), 'float32') as tf.Tensor2D);
  const optimizer = tf.train.adam(cfg.learningRate);
  let step = 0;
  let lastTask = NaN;
  let lastPen = 0;
  const vars = model.variables();
  const yVal = validation ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(validation.y, 'int32'), nClasses), 'float32') as tf.Tensor2D) : undefined;
  let best: tf.Tensor[] | undefined;
  let bestEpoch = cfg.epochs;
  let bestVal = Infinity;
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const order = rng.permutation(n);
      let sumTask = 0, sumPen = 0, batches = 0;
      for (let start = 0; start < n; start += cfg.batchSize) {
        const idx = order.subarray(start, Math.min(n, start + cfg.batchSize));
        const s = step;
        const wantLoss = epoch === cfg.epochs - 1;
        let task: tf.Scalar | undefined;
        let pen: tf.Scalar | undefined;
        tf.tidy(() => {
          const ib = tf.tensor1d(idx, 'int32');
          const xb = tf.gather(x, ib) as tf.Tensor2D;
          const yb = tf.gather(yAll, ib) as tf.Tensor2D;
          optimizer.minimize(() => {
            const { logits, traces } = model.forward(xb);
            const taskLoss = tf.losses.softmaxCrossEntropy(yb, logits) as tf.Scalar;
            let loss: tf.Scalar = taskLoss;
            if (cfg.dreg && traces.length > 0) {
              const penalty = dregPenalty(traces, cfg.dreg, s);
              if (wantLoss) pen = tf.keep(tf.clone(penalty));
              loss = tf.add(loss, penalty);
            }
            if (cfg.weightDecay > 0) {
              const l2 = tf.addN(model.layers.map((p) => tf.sum(tf.square(p.kernel))));
              loss = tf.add(loss, tf.mul(l2, cfg.weightDecay));
            }
            if (wantLoss) task = tf.keep(tf.clone(taskLoss)); // a clone: minimize disposes the returned loss
            return loss;
          });
        });
        if (wantLoss) {
          sumTask += task!.dataSync()[0];
          sumPen += pen ? pen.dataSync()[0] : 0;
          batches++;
          task?.dispose();
          pen?.dispose();
        }
        step++;
      }
      if (epoch === cfg.epochs - 1) {
        lastTask = sumTask / batches;
        lastPen = sumPen / batches;
      }
      if (validation && yVal) {
        const v = tf.tidy(() => tf.losses.softmaxCrossEntropy(yVal, model.forward(validation.x).logits));
        const val = v.dataSync()[0];
        v.dispose();
        if (val < bestVal) {
          bestVal = val;
          bestEpoch = epoch + 1;
          if (best) tf.dispose(best);
          best = vars.map((w) => tf.clone(w));
        }
      }
    }
    if (!Number.isFinite(lastTask)) throw new Error(`training diverged (task loss ${lastTask})`);
    if (best) vars.forEach((w, i) => w.assign(best![i]));
    return { steps: step, finalTaskLoss: lastTask, finalPenalty: lastPen, bestEpoch, bestValidationLoss: validation ? bestVal : NaN };
  } finally {
    yAll.dispose();
    yVal?.dispose();
    if (best) tf.dispose(best);
    optimizer.dispose();
  }
}

/** A ModelRunner for an MLP configuration (trained and evaluated per fold). */
export function mlpModel(name: string, description: string, config: MlpConfig): ModelRunner {
  return {
    name,
    description,
    config: { ...config },
    async run(fold: TabularFold, seed: number): Promise<FitResult> {
      const nTest = fold.yTest.length;
      // Hold out a stratified validation part of the training fold to choose the epoch.
      let trainIdx: Int32Array | undefined, valIdx: Int32Array | undefined;
      if (config.validationFraction > 0) {
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
      const xVal = valIdx ? tf.tensor2d(rows(fold.xTrain, valIdx), [valIdx.length, fold.nFeatures]) : undefined;
      const yVal = valIdx ? Int32Array.from(valIdx, (i) => fold.yTrain[i]) : undefined;
      const xTest = tf.tensor2d(fold.xTest, [nTest, fold.nFeatures]);
      const yTestOh = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(fold.yTest, 'int32'), fold.nClasses), 'float32') as tf.Tensor2D);
      const model = new Mlp(config, fold.nFeatures, fold.nClasses, seed);
      try {
        const t0 = performance.now();
        // asynchronous reads: WebGPU in Node cannot read synchronously (same results as trainMlp / predict / inputGradientNorms)
        const stats = await trainMlpAsync(model, xTrain, yTrain, fold.nClasses, seed, xVal && yVal ? { x: xVal, y: yVal } : undefined);
        const trainSeconds = (performance.now() - t0) / 1000;
        const predictions = await predictAsync(model, xTest);
        // τ (input source): per-sample ‖∂ℓ_i/∂x_i‖₂ on the held-out rows, same code for every model.
        const norms = await inputGradientNormsAsync((xb, start) => model.perSampleLoss(xb, tf.slice(yTestOh, [start, 0], [xb.shape[0], fold.nClasses])), xTest);
        const tau = gradientTailRatio(norms);
        return {
          predictions,
          tau,
          trainSeconds,
          info: { parameters: model.parameterCount(), steps: stats.steps, bestEpoch: stats.bestEpoch, bestValidationLoss: stats.bestValidationLoss, finalTaskLoss: stats.finalTaskLoss, finalPenalty: stats.finalPenalty },
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
}
