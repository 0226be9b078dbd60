import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@chainz/core';
import { dregPenalty } from '@chainz/dreg';
import type { Mlp, TrainStats } from './mlp';

/*
 * Asynchronous twins of `trainMlp` and `Mlp.predict`: the same computation, in
 * the same order (identical results on every backend), but every read of a
 * tensor is `await tensor.data()`. tfjs's WebGPU backend cannot read
 * synchronously in Node (its `readSync` needs an `OffscreenCanvas`), so the
 * bench's model runner uses these; on cpu and wasm they cost one microtask per
 * read (a few reads per epoch).
 */

async function scalar(t: tf.Tensor): Promise<number> {
  return (await t.data())[0];
}

/**
 * {@link trainMlp} with asynchronous reads (see the module comment): Adam on
 * seeded mini-batches, softmax cross-entropy + DREG (if configured) + weight
 * decay, best-validation-epoch restore. Same arguments and results.
 */
export async function trainMlpAsync(
  model: Mlp,
  x: tf.Tensor2D,
  y: Int32Array,
  nClasses: number,
  seed: number,
  validation?: { x: tf.Tensor2D; y: Int32Array },
): Promise<TrainStats> {
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
      let sumTask = 0;
      let sumPen = 0;
      let batches = 0;
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
          sumTask += await scalar(task!);
          sumPen += pen ? await scalar(pen) : 0;
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
        const val = await scalar(v);
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

/** {@link Mlp.predict} with an asynchronous read: the predicted class per row of `x` ([B, nIn]). */
export async function predictAsync(model: Mlp, x: tf.Tensor2D): Promise<Int32Array> {
  const pred = tf.tidy(() => tf.argMax(model.forward(x).logits, 1));
  try {
    return Int32Array.from(await pred.data());
  } finally {
    pred.dispose();
  }
}
