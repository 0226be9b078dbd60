import * as tf from '@tensorflow/tfjs-core';
import { adam, NonFiniteError, NonFiniteWatchdog, nonFiniteFlag, Rng, type NamedTensor, type NonFinitePolicy, type WatchedVariable } from '@chainz/core';
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
  /**
   * Mean training loss of a batch: logits `[B, m]` against encoded targets
   * `[B, m]`. Default: softmax cross-entropy against one-hot targets.
   */
  batchLoss?(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar;
  /** Layer and tensor names of {@link TrainableClassifier.variables}, same order (for the non-finite watchdog's messages). */
  variableNames?(): Array<{ layer: string; tensor: string }>;
  /**
   * The forward pass's intermediate tensors in layer order (pre-activations,
   * outputs) for a batch; the non-finite watchdog calls it after a bad step
   * to name the layer where values overflowed.
   */
  diagnosticActivations?(x: tf.Tensor): NamedTensor[];
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
  /** Evaluate the validation loss every this many epochs (and after the last one). Default 1. */
  validateEvery?: number;
  /**
   * The non-finite watchdog (see `@chainz/core`'s NonFiniteWatchdog): checks
   * the loss and every gradient of each step (one fused reduction, one read)
   * and the weights after the last step. `throw` (default): a NonFiniteError
   * naming step, layer, tensor and data row; `skip-step`: leave the step's
   * update out (and its losses out of the epoch means); `warn`: report and go
   * on; `off`: no check (a non-finite final loss still throws).
   */
  nonFinite?: NonFinitePolicy | 'off';
  /** Called with each non-finite step under `skip-step` / `warn`. Default: one line on console.warn. */
  onNonFinite?: (error: NonFiniteError) => void;
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
  /** Steps whose update the watchdog left out (`nonFinite: 'skip-step'`). */
  skippedSteps: number;
}

type Values = Float32Array | Int32Array | Uint8Array;

/** A training or evaluation routine that yields each tensor whose value it needs. */
export type ReadSteps<R> = Generator<tf.Tensor, R, Values>;

/** Run `gen`, reading each yielded tensor synchronously (`dataSync`). */
export function drive<R>(gen: ReadSteps<R>): R {
  let r = gen.next();
  while (!r.done) r = gen.next(r.value.dataSync() as Values);
  return r.value;
}

/**
 * Run `gen`, reading each yielded tensor with `await data()`: the same
 * computation in the same order, for backends that cannot read synchronously
 * (tfjs's WebGPU backend in Node).
 */
export async function driveAsync<R>(gen: ReadSteps<R>): Promise<R> {
  let r = gen.next();
  while (!r.done) r = gen.next((await r.value.data()) as Values);
  return r.value;
}

function batchLoss(model: TrainableClassifier, logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return model.batchLoss ? model.batchLoss(logits, targets) : (tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar);
}

/** Mean training loss of `model` on `x` against encoded `targets`, in batches; one read. */
function* meanLossSteps(model: TrainableClassifier, x: tf.Tensor, targets: tf.Tensor2D, batchSize = 500): ReadSteps<number> {
  const n = x.shape[0];
  let total: tf.Tensor = tf.scalar(0);
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const next = tf.tidy(() => {
        const xb = size === n ? x : tf.slice(x, start, size);
        const yb = size === n ? targets : tf.slice(targets, [start, 0], [size, targets.shape[1]]);
        return tf.add(total, tf.mul(batchLoss(model, model.forward(xb).logits, yb), size));
      });
      total.dispose();
      total = next;
    }
    return (yield total)[0] / n;
  } finally {
    total.dispose();
  }
}

/**
 * Mean softmax cross-entropy (or the model's `batchLoss`) of `model` on `x` in
 * batches (no gradient).
 * @param x inputs `[N, …]`; `yOneHot` `[N, classes]` (encoded targets).
 */
export function meanCrossEntropy(model: TrainableClassifier, x: tf.Tensor, yOneHot: tf.Tensor2D, batchSize = 500): number {
  return drive(meanLossSteps(model, x, yOneHot, batchSize));
}

/**
 * The training loop of every tfjs model in the bench (MLPs with softmax or
 * ordinal heads, CNNs), as a generator of reads (see {@link drive} /
 * {@link driveAsync}): Adam on mini-batches in a seeded order (never tfjs's
 * Math.random shuffle); loss = the model's batch loss + DREG on its
 * polynomial-layer traces (if configured) + weight decay. With a validation
 * set, the weights of the epoch with the lowest validation loss are restored
 * at the end (the test set is never used); `patience` stops early.
 * Losses are summed on the device and read once per epoch; the non-finite
 * watchdog (`opts.nonFinite`, default `throw`) reads one number per step.
 *
 * @param targets encoded training targets `[N, m]` (one-hot, or ordinal levels).
 * @param seed seed of the batch order.
 * @param onEpoch called after each epoch (1-based) with the validation loss (NaN when not evaluated).
 */
export function* trainSteps(
  model: TrainableClassifier,
  opts: TrainOptions,
  x: tf.Tensor,
  targets: tf.Tensor2D,
  seed: number,
  validation?: { x: tf.Tensor; targets: tf.Tensor2D },
  onEpoch?: (epoch: number, validationLoss: number) => void,
): ReadSteps<ClassifierTrainStats> {
  const rng = new Rng(seed ^ 0x5eed);
  const n = targets.shape[0];
  const every = Math.max(1, opts.validateEvery ?? 1);
  const optimizer = adam(opts.learningRate); // tf.train.adam's arithmetic, one fused kernel per step on cpu/wasm
  const vars = model.variables();
  const names = model.variableNames?.();
  const watched: WatchedVariable[] = vars.map((variable, i) => ({ variable, layer: names?.[i]?.layer ?? variable.name, tensor: names?.[i]?.tensor ?? 'weight' }));
  const policy = opts.nonFinite ?? 'throw';
  const watchdog = policy === 'off' ? null : new NonFiniteWatchdog({ policy, onNonFinite: opts.onNonFinite });
  let step = 0;
  let lastTask = NaN;
  let lastPen = 0;
  let best: tf.Tensor[] | undefined;
  let bestEpoch = opts.epochs;
  let bestVal = Infinity;
  const validationLosses: number[] = [];
  let epochsRun = 0;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = rng.permutation(n);
      epochsRun = epoch + 1;
      let sums: tf.Tensor = tf.zeros([2]); // [Σ task loss, Σ penalty] over the epoch's batches
      let batches = 0;
      try {
        for (let start = 0; start < n; start += opts.batchSize) {
          const idx = order.subarray(start, Math.min(n, start + opts.batchSize));
          const s = step;
          // The gradients, then (watchdog) one fused check of loss + gradients, then the update:
          // the same arithmetic as optimizer.minimize.
          const st = tf.tidy(() => {
            const ib = tf.tensor1d(idx, 'int32');
            const xb = tf.gather(x, ib);
            const yb = tf.gather(targets, ib) as tf.Tensor2D;
            let task: tf.Scalar | undefined;
            let pen: tf.Scalar | undefined;
            const { value, grads } = optimizer.computeGradients(() => {
              const { logits, traces } = model.forward(xb);
              const taskLoss = batchLoss(model, logits, yb);
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
              task = tf.keep(tf.clone(taskLoss)); // a clone: the loss value is disposed with the step
              return loss;
            }, vars);
            const flag = watchdog ? nonFiniteFlag([value, ...vars.map((v) => grads[v.name]).filter((g) => g !== undefined)]) : tf.scalar(0);
            return { value, grads, task: task!, pen: pen ?? tf.scalar(0), flag, xb };
          });
          try {
            let apply = true;
            if (watchdog) {
              const flagValue = (yield st.flag)[0];
              apply = watchdog.afterFlag(flagValue, st.value, st.grads, watched, {
                x: st.xb,
                rows: idx,
                lossParts: [{ tensor: 'task loss', value: st.task }, ...(opts.dreg ? [{ tensor: 'DREG penalty', value: st.pen }] : [])],
                activations: model.diagnosticActivations ? () => model.diagnosticActivations!(st.xb) : undefined,
              });
            }
            if (apply || policy === 'warn') optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: st.grads[v.name] })));
            if (apply) {
              const next = tf.tidy(() => tf.add(sums, tf.stack([st.task, st.pen])));
              sums.dispose();
              sums = next;
              batches++;
            }
          } finally {
            tf.dispose([st.value, st.task, st.pen, st.flag, st.xb]);
            tf.dispose(st.grads);
          }
          step++;
        }
        // reported: the mean losses of the last epoch run (the last scheduled one, or where early stopping ended)
        const sumValues: Values = yield sums;
        lastTask = batches > 0 ? sumValues[0] / batches : NaN;
        lastPen = batches > 0 ? sumValues[1] / batches : NaN;
      } finally {
        sums.dispose();
      }
      let val = NaN;
      if (validation && ((epoch + 1) % every === 0 || epoch === opts.epochs - 1)) {
        val = yield* meanLossSteps(model, validation.x, validation.targets);
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
    if (watchdog) {
      // the last update is checked by no later step
      const flag = nonFiniteFlag(vars);
      let v: Values;
      try {
        v = yield flag;
      } finally {
        flag.dispose();
      }
      if (v[0] !== 0) watchdog.checkWeights(watched);
    }
    if (!Number.isFinite(lastTask)) {
      throw new NonFiniteError(`training ended with a non-finite task loss (mean of the last epoch: ${lastTask})`, { kind: 'loss', tensor: 'task loss', step: step - 1 }, 'lower the learning rate or λ, or use a bounded guard (tanh, clip)');
    }
    if (best) vars.forEach((w, i) => w.assign(best![i]));
    return {
      steps: step,
      finalTaskLoss: lastTask,
      finalPenalty: lastPen,
      bestEpoch,
      bestValidationLoss: validation ? bestVal : NaN,
      validationLosses,
      epochsRun,
      skippedSteps: watchdog?.skipped ?? 0,
    };
  } finally {
    if (best) tf.dispose(best);
    optimizer.dispose();
  }
}

function oneHot(y: Int32Array, nClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), nClasses), 'float32') as tf.Tensor2D);
}

/**
 * Train a softmax classifier with {@link trainSteps} (synchronous reads).
 *
 * @param x training inputs `[N, …]` (first axis = examples); `y` labels (length N).
 * @param seed seed of the batch order.
 * @param onEpoch called after each epoch (1-based) with the validation loss (NaN without).
 * @throws NonFiniteError at the first step whose loss or gradients are not finite
 *   (naming step, layer, tensor and data row; `opts.nonFinite`, default `throw`),
 *   or when the task loss is not finite after training.
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
  const t = oneHot(y, nClasses);
  const v = validation ? oneHot(validation.y, nClasses) : undefined;
  try {
    return drive(trainSteps(model, opts, x, t, seed, validation && v ? { x: validation.x, targets: v } : undefined, onEpoch));
  } finally {
    t.dispose();
    v?.dispose();
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
