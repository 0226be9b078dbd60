import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@chainz/core';
import type { LayerTrace } from '@chainz/poly-layer';
import { dregPenalty, type DregOptions } from '@chainz/dreg';

/** A classifier the generic training loop can train (MLP or CNN). */
export interface TrainableClassifier {
  /** Logits `[B, classes]` for a batch (any input rank) and the DREG traces of its polynomial layers. */
  forward(x: tf.Tensor): { logits: tf.Tensor2D; traces: LayerTrace[] };
  /** Every trainable variable. */
  variables(): tf.Variable[];
  /** The weight matrices/kernels that weight decay applies to. */
  kernels(): tf.Variable[];
}

/** Optimisation settings of {@link trainClassifier}. */
export interface TrainOptions {
  /** Passes over the training set. */
  epochs: number;
  /** Mini-batch size (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /** L2 weight decay c·Σ‖W‖² added to the loss (0 = none). */
  weightDecay: number;
  /** DREG options, or null for none. */
  dreg: Partial<DregOptions> | null;
  /**
   * Early stopping (needs a validation set): stop when the validation loss has not
   * improved for this many epochs; the best epoch's weights are restored either way.
   * Default: never stop early.
   */
  patience?: number;
}

/** What {@link trainClassifier} reports. */
export interface ClassifierTrainStats {
  steps: number;
  /** Mean task loss / DREG penalty over the batches of the last epoch. */
  finalTaskLoss: number;
  finalPenalty: number;
  /** Epoch (1-based) whose weights were kept; = epochs without validation. */
  bestEpoch: number;
  /** Validation cross-entropy at `bestEpoch` (NaN without validation). */
  bestValidationLoss: number;
  /** Validation cross-entropy after each epoch (empty without validation). */
  validationLosses: number[];
  /** Epochs actually run (fewer than `epochs` after an early stop). */
  epochsRun: number;
}

/**
 * Mean softmax cross-entropy of `model` on `x` in batches (no gradient).
 * @param x inputs `[N, …]`; `yOneHot` `[N, classes]`.
 */
export function meanCrossEntropy(model: TrainableClassifier, x: tf.Tensor, yOneHot: tf.Tensor2D, batchSize = 500): number {
  const n = x.shape[0];
  let sum = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const v = tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      const yb = tf.slice(yOneHot, [start, 0], [size, yOneHot.shape[1]]);
      return tf.mul(tf.losses.softmaxCrossEntropy(yb, model.forward(xb).logits), size);
    });
    sum += v.dataSync()[0];
    v.dispose();
  }
  return sum / n;
}

/**
 * Train a classifier with Adam on mini-batches in a seeded order (never tfjs's
 * Math.random shuffle). Loss = mean softmax cross-entropy + DREG penalty on the
 * model's polynomial-layer traces (if configured) + weight decay. With a
 * validation set, the weights of the epoch with the lowest validation
 * cross-entropy are restored at the end (the test set is never used).
 *
 * @param x training inputs `[N, …]` (first axis = examples); `y` labels (length N).
 * @param seed seed of the batch order.
 * @param onEpoch called after each epoch (1-based) with the validation loss (NaN without).
 * @throws Error when the task loss is not finite after training (divergence).
 */
export function trainClassifier(
  model: TrainableClassifier,
  opts: TrainOptions,
  x: tf.Tensor,
  y: Int32Array,
  nClasses: number,
  seed: number,
  validation?: { x: tf.Tensor; y: Int32Array },
  onEpoch?: (epoch: number, validationLoss: number) => void,
): ClassifierTrainStats {
  const rng = new Rng(seed ^ 0x5eed);
  const n = y.length;
  const yAll = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), nClasses), 'float32') as tf.Tensor2D);
  const yVal = validation ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(validation.y, 'int32'), nClasses), 'float32') as tf.Tensor2D) : undefined;
  const optimizer = tf.train.adam(opts.learningRate);
  const vars = model.variables();
  let step = 0;
  let lastTask = NaN;
  let lastPen = 0;
  let best: tf.Tensor[] | undefined;
  let bestEpoch = opts.epochs;
  let bestVal = Infinity;
  const validationLosses: number[] = [];
  try {
    let epochsRun = 0;
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = rng.permutation(n);
      epochsRun = epoch + 1;
      let sumTask = 0;
      let sumPen = 0;
      let batches = 0;
      for (let start = 0; start < n; start += opts.batchSize) {
        const idx = order.subarray(start, Math.min(n, start + opts.batchSize));
        const s = step;
        let task: tf.Scalar | undefined;
        let pen: tf.Scalar | undefined;
        tf.tidy(() => {
          const ib = tf.tensor1d(idx, 'int32');
          const xb = tf.gather(x, ib);
          const yb = tf.gather(yAll, ib) as tf.Tensor2D;
          optimizer.minimize(() => {
            const { logits, traces } = model.forward(xb);
            const taskLoss = tf.losses.softmaxCrossEntropy(yb, logits) as tf.Scalar;
            let loss: tf.Scalar = taskLoss;
            if (opts.dreg && traces.length > 0) {
              const penalty = dregPenalty(traces, opts.dreg, s);
              pen = tf.keep(tf.clone(penalty));
              loss = tf.add(loss, penalty);
            }
            if (opts.weightDecay > 0) {
              const l2 = tf.addN(model.kernels().map((k) => tf.sum(tf.square(k))));
              loss = tf.add(loss, tf.mul(l2, opts.weightDecay));
            }
            task = tf.keep(tf.clone(taskLoss)); // a clone: minimize disposes the returned loss
            return loss;
          }, false, vars);
        });
        sumTask += task!.dataSync()[0];
        sumPen += pen ? pen.dataSync()[0] : 0;
        batches++;
        task?.dispose();
        pen?.dispose();
        step++;
      }
      // reported: the mean losses of the last epoch run (the last scheduled one, or where early stopping ended)
      lastTask = sumTask / batches;
      lastPen = sumPen / batches;
      let val = NaN;
      if (validation && yVal) {
        val = meanCrossEntropy(model, validation.x, yVal);
        validationLosses.push(val);
        if (val < bestVal) {
          bestVal = val;
          bestEpoch = epoch + 1;
          if (best) tf.dispose(best);
          best = vars.map((w) => tf.clone(w));
        }
      }
      onEpoch?.(epoch + 1, val);
      if (validation && opts.patience !== undefined && epoch + 1 - bestEpoch >= opts.patience) break;
    }
    if (!Number.isFinite(lastTask)) throw new Error(`training diverged (task loss ${lastTask})`);
    if (best) vars.forEach((w, i) => w.assign(best![i]));
    return { steps: step, finalTaskLoss: lastTask, finalPenalty: lastPen, bestEpoch, bestValidationLoss: validation ? bestVal : NaN, validationLosses, epochsRun };
  } finally {
    yAll.dispose();
    yVal?.dispose();
    if (best) tf.dispose(best);
    optimizer.dispose();
  }
}

/**
 * Predicted class per example (argmax of the logits), in batches.
 * @param x inputs `[N, …]`.
 * @returns `[N]` class indices.
 */
export function predictClasses(model: TrainableClassifier, x: tf.Tensor, batchSize = 1000): Int32Array {
  const n = x.shape[0];
  const out = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const p = tf.tidy(() => tf.argMax(model.forward(size === n ? x : tf.slice(x, start, size)).logits, 1));
    out.set(p.dataSync() as Int32Array, start);
    p.dispose();
  }
  return out;
}
