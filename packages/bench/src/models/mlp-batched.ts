import * as tf from '@tensorflow/tfjs-core';
import { denseBatched, GroupedAdamOptimizer, Rng } from '@chainz/core';
import { polyDenseBatched, weightedSumGrouped } from '@chainz/poly-layer';
import { resolveDregOptions, type ResolvedDregOptions } from '@chainz/dreg';
import { gradientTailRatio, inputGradientNormsAsync } from '@chainz/metrics';
import { stratifiedSubsample } from '@chainz/data';
import { activate, effectiveEpochs, Mlp, type MlpConfig } from './mlp';
import type { FitResult, TabularFold } from './types';

/*
 * Several folds (or seeds) of one MLP configuration trained together: the
 * parameters of the F models are stacked along a leading axis ([F, d_in, d_out]
 * kernels, [F, d_out] biases, [F, C, K+1] coefficients) and every training step
 * runs one kernel per layer for all F models — `denseBatched`,
 * `polyDenseBatched`, `weightedSumGrouped`, one grouped Adam update — so
 * tfjs's per-kernel dispatch, which dominates a Pima-size step, is paid once
 * per step instead of F times.
 *
 * Each model keeps everything it has when trained alone (`mlpModel(…).run`):
 * its validation hold-out, initial weights (the same `Mlp` constructor and
 * seed), batch order (its own seeded permutation each epoch), Adam state and
 * step count, DREG λ schedule, epoch selection and the weights it restores.
 * Folds of unequal size get unequal last batches: the batch tensor is padded
 * to the longest, padded rows are masked out of the loss (they get zero
 * gradient) and sit after the real rows, so every sum over a model's rows
 * adds the same terms in the same order. A model whose epoch has fewer
 * batches than another's, or that runs fewer epochs, is inactive in the extra
 * steps: its parameters and Adam state are left as they are. On cpu and wasm
 * the kernels compute each model's slice with exactly the loops of the
 * one-model call, so the trained weights — and with them predictions, τ and
 * every reported loss — equal training the folds one by one, bit for bit
 * (`mlp-batched.test.ts` compares them). Prediction and τ then run per fold
 * with the one-model code.
 */

/** Why a configuration cannot be trained batched (undefined: it can). */
export function batchedTrainingUnsupported(config: MlpConfig): string | undefined {
  if ((config.head ?? 'softmax') !== 'softmax') return "the ordinal head (per-model threshold variables) is trained one model at a time";
  if (config.activation === 'poly' && (config.poly?.guard ?? 'tanh') === 'layernorm') return "the 'layernorm' guard has no batched kernel";
  if (config.dreg != null) {
    let o: ResolvedDregOptions;
    try {
      o = resolveDregOptions(config.dreg);
    } catch {
      return 'invalid DREG options (reported when a fold is run)';
    }
    if (o.variant !== 'frobenius') return `DREG variant '${o.variant}' is trained one model at a time (batched: 'frobenius')`;
    if (o.curvature > 0) return 'DREG curvature (σ′′ in the trace) is trained one model at a time';
    if (config.activation !== 'poly') return undefined; // no polynomial layer: no penalty
  }
  return undefined;
}

/** One fold's data after the validation hold-out, as `mlpModel(…).run` prepares it. */
interface FoldData {
  fold: TabularFold;
  seed: number;
  xTrain: Float32Array;
  yTrain: Int32Array;
  xVal?: Float32Array;
  yVal?: Int32Array;
  explicitVal: boolean;
  canHoldOut: boolean;
}

function prepareFold(fold: TabularFold, seed: number, config: MlpConfig): FoldData {
  const explicitVal = fold.xVal !== undefined && fold.yVal !== undefined;
  const counts = new Map<number, number>();
  for (const c of fold.yTrain) counts.set(c, (counts.get(c) ?? 0) + 1);
  const canHoldOut = [...counts.values()].every((n) => n >= 2);
  const d = fold.nFeatures;
  const rows = (src: Float32Array, idx: Int32Array) => {
    const out = new Float32Array(idx.length * d);
    idx.forEach((r, i) => out.set(src.subarray(r * d, (r + 1) * d), i * d));
    return out;
  };
  if (!explicitVal && config.validationFraction > 0 && canHoldOut) {
    const valIdx = stratifiedSubsample(fold.yTrain, config.validationFraction, seed ^ 0x7a1d);
    const inVal = new Uint8Array(fold.yTrain.length);
    for (const i of valIdx) inVal[i] = 1;
    const trainIdx = new Int32Array(fold.yTrain.length - valIdx.length);
    let k = 0;
    for (let i = 0; i < fold.yTrain.length; i++) if (!inVal[i]) trainIdx[k++] = i;
    return {
      fold,
      seed,
      xTrain: rows(fold.xTrain, trainIdx),
      yTrain: Int32Array.from(trainIdx, (i) => fold.yTrain[i]),
      xVal: rows(fold.xTrain, valIdx),
      yVal: Int32Array.from(valIdx, (i) => fold.yTrain[i]),
      explicitVal,
      canHoldOut,
    };
  }
  return { fold, seed, xTrain: fold.xTrain, yTrain: fold.yTrain, xVal: explicitVal ? fold.xVal : undefined, yVal: explicitVal ? fold.yVal : undefined, explicitVal, canHoldOut };
}

/** Stacked parameters of F models with the layout of `Mlp.layers`. */
interface StackedLayer {
  kernel: tf.Variable;
  bias: tf.Variable;
  coeffs?: tf.Variable;
}

/** A padded batch of F models' rows: x `[F, B, d]`, one-hot targets `[F·B, K]`, row mask `[F, B]`, real rows per model. */
function paddedBatch(
  F: number,
  B: number,
  d: number,
  K: number,
  rowsOf: (f: number) => { x: Float32Array; y: Int32Array; idx: ArrayLike<number> | null; count: number },
): { x: tf.Tensor3D; y: tf.Tensor2D; mask: tf.Tensor2D; counts: number[] } {
  const x = new Float32Array(F * B * d);
  const y = new Float32Array(F * B * K);
  const mask = new Float32Array(F * B);
  const counts: number[] = [];
  for (let f = 0; f < F; f++) {
    const r = rowsOf(f);
    counts.push(r.count);
    for (let i = 0; i < r.count; i++) {
      const src = r.idx ? r.idx[i] : i;
      x.set(r.x.subarray(src * d, (src + 1) * d), (f * B + i) * d);
      y[(f * B + i) * K + r.y[src]] = 1;
      mask[f * B + i] = 1;
    }
  }
  return { x: tf.tensor3d(x, [F, B, d]), y: tf.tensor2d(y, [F * B, K]), mask: tf.tensor2d(mask, [F, B]), counts };
}

/**
 * Forward pass of the F stacked models: logits `[F, B, K]` and, per hidden
 * polynomial layer with `jacobianNorm`, r `[F, B]` (the same ops per model as
 * `Mlp.forward`).
 */
function forwardBatched(layers: StackedLayer[], x: tf.Tensor3D, model: Mlp, jacobianNorm: boolean): { logits: tf.Tensor3D; rs: tf.Tensor2D[] } {
  const rs: tf.Tensor2D[] = [];
  let h: tf.Tensor3D = x;
  const last = layers.length - 1;
  layers.forEach((p, l) => {
    if (l === last) h = denseBatched(h, p.kernel as tf.Tensor3D, p.bias as tf.Tensor2D);
    else if (model.polyConfig && p.coeffs) {
      const o = polyDenseBatched(h, { kernel: p.kernel as tf.Tensor3D, bias: p.bias as tf.Tensor2D, coeffs: p.coeffs as tf.Tensor3D }, model.polyConfig, { jacobianNorm });
      if (o.jacobianFrobenius) rs.push(o.jacobianFrobenius);
      h = o.y;
    } else {
      const a = model.config.activation;
      if (a === 'poly') throw new Error('a poly MLP without its coefficients');
      h = activate(denseBatched(h, p.kernel as tf.Tensor3D, p.bias as tf.Tensor2D), a);
    }
  });
  return { logits: h, rs };
}

/** Per-model mean softmax cross-entropy over each model's real rows (tfjs's op per row; sum / count per model): `[F]`. */
function meanCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D, counts: number[]): tf.Tensor1D {
  const [F, B, K] = logits.shape;
  const perRow = tf.losses.softmaxCrossEntropy(targets, tf.reshape(logits, [F * B, K]), undefined, undefined, tf.Reduction.NONE);
  const sums = tf.sum(tf.mul(tf.reshape(perRow, [F, B]), mask), 1);
  // an inactive model (no rows) divides by 1: its loss is 0, not NaN
  return tf.div(sums, tf.tensor1d(counts.map((c) => Math.max(c, 1)))) as tf.Tensor1D;
}

/** Options of {@link trainMlpFoldsBatched}. */
export interface BatchedTrainingOptions {
  /** Train a model one by one instead (the runner's `run`), e.g. when its batched training diverged. */
  runOne?: (fold: TabularFold, seed: number) => Promise<FitResult>;
}

/**
 * Trains one model per (fold, seed) pair of an MLP configuration together
 * (see the module comment) and evaluates each on its fold's test rows. The
 * results equal `mlpModel(name, description, config).run(folds[i], seeds[i])`
 * for every i (predictions, τ, losses, epochs), except `trainSeconds`, which is
 * the batched training's wall time divided by the number of models.
 *
 * A model whose training loss ends non-finite is retrained one by one with
 * `opts.runOne` (which then reports or throws as the one-model path does); with
 * no `runOne`, an Error naming the fold is thrown.
 *
 * @param config an MLP configuration {@link batchedTrainingUnsupported} accepts.
 * @param folds the folds (same feature count and classes).
 * @param seeds one seed per fold.
 * @throws Error for an unsupported configuration, mismatched folds or lengths.
 */
export async function trainMlpFoldsBatched(config: MlpConfig, folds: TabularFold[], seeds: number[], opts: BatchedTrainingOptions = {}): Promise<FitResult[]> {
  const why = batchedTrainingUnsupported(config);
  if (why) throw new Error(`batched training: ${why}`);
  if (folds.length !== seeds.length) throw new Error(`batched training: ${folds.length} folds but ${seeds.length} seeds`);
  const F = folds.length;
  if (F === 0) return [];
  const d = folds[0].nFeatures;
  const K = folds[0].nClasses;
  if (folds.some((f) => f.nFeatures !== d || f.nClasses !== K)) throw new Error('batched training: every fold must have the same features and classes');
  const data = folds.map((fold, i) => prepareFold(fold, seeds[i], config));
  // the models as trained alone: same constructor, same seeds → same initial weights
  const models = data.map((fd) => new Mlp(config, d, K, fd.seed));
  const dreg: ResolvedDregOptions | null = config.dreg != null && models[0].polyConfig ? resolveDregOptions(config.dreg) : null;
  const layers: StackedLayer[] = tf.tidy(() =>
    models[0].layers.map((_, l) => ({
      kernel: tf.variable(tf.stack(models.map((m) => m.layers[l].kernel)), true),
      bias: tf.variable(tf.stack(models.map((m) => m.layers[l].bias)), true),
      ...(models[0].layers[l].coeffs ? { coeffs: tf.variable(tf.stack(models.map((m) => m.layers[l].coeffs!)), true) } : {}),
    })),
  );
  const vars = layers.flatMap((p) => [p.kernel, p.bias, ...(p.coeffs ? [p.coeffs] : [])]);
  const kernels = layers.map((p) => p.kernel);
  const optimizer = new GroupedAdamOptimizer(F, config.learningRate);
  const n = data.map((fd) => fd.yTrain.length);
  const epochs = n.map((nf) => effectiveEpochs(config, nf));
  const every = epochs.map((e) => Math.max(1, Math.ceil(e / config.epochs)));
  const perEpoch = n.map((nf) => Math.ceil(nf / config.batchSize));
  const rngs = data.map((fd) => new Rng(fd.seed ^ 0x5eed));
  const steps = new Array<number>(F).fill(0);
  const lastTask = new Array<number>(F).fill(NaN);
  const lastPen = new Array<number>(F).fill(0);
  const bestEpoch = [...epochs];
  const bestVal = new Array<number>(F).fill(Infinity);
  const hasVal = data.map((fd) => fd.xVal !== undefined && fd.yVal !== undefined);
  let best: tf.Tensor[] | null = null;
  const improved = new Array<boolean>(F).fill(false);
  const outputsPerSample = layers.slice(0, -1).map((p) => p.kernel.shape[2]);
  const t0 = performance.now();
  try {
    for (let e = 0; e < Math.max(...epochs); e++) {
      const inEpoch = epochs.map((E) => e < E);
      const orders = rngs.map((r, f) => (inEpoch[f] ? r.permutation(n[f]) : null));
      let sums: tf.Tensor = tf.zeros([F, 2]);
      const batches = new Array<number>(F).fill(0);
      const batchCount = Math.max(...perEpoch.map((b, f) => (inEpoch[f] ? b : 0)));
      for (let k = 0; k < batchCount; k++) {
        const active = inEpoch.map((a, f) => a && k < perEpoch[f]);
        const rows = active.map((a, f) => (a ? Math.min(config.batchSize, n[f] - k * config.batchSize) : 0));
        const B = Math.max(...rows);
        const batch = paddedBatch(F, B, d, K, (f) => {
          const order = orders[f];
          return { x: data[f].xTrain, y: data[f].yTrain, idx: order ? order.subarray(k * config.batchSize, k * config.batchSize + rows[f]) : null, count: rows[f] };
        });
        const lambdas = steps.map((s) => (dreg ? dreg.lambda(s) : 0));
        const next = tf.tidy(() => {
          let task: tf.Tensor1D | undefined;
          let pen: tf.Tensor1D | undefined;
          const { grads } = tf.variableGrads(() => {
            const { logits, rs } = forwardBatched(layers, batch.x, models[0], dreg !== null);
            const taskLoss = meanCrossEntropy(logits, batch.y, batch.mask, batch.counts);
            let loss: tf.Tensor1D = taskLoss;
            if (dreg && rs.length > 0) {
              // λ(step)·w_l/(n_l·B) per model, as dregPenalty computes it for each model's batch
              const lw = dreg.layerWeights;
              const weights = rs.map((_, l) => lambdas.map((lam, f) => (lam * (lw ? (lw[l] as number) : 1)) / ((outputsPerSample[l] as number) * Math.max(rows[f] as number, 1))));
              const penalty = weightedSumGrouped(rs, weights, rows);
              pen = tf.keep(tf.clone(penalty));
              loss = tf.add(loss, penalty);
            }
            if (config.weightDecay > 0) {
              const l2 = tf.addN(kernels.map((w) => tf.sum(tf.square(w), [1, 2])));
              loss = tf.add(loss, tf.mul(l2, config.weightDecay));
            }
            task = tf.keep(tf.clone(taskLoss));
            return tf.sum(loss) as tf.Scalar; // the models' losses are independent: ∂(Σ_f L_f)/∂θ_f = ∂L_f/∂θ_f
          }, vars);
          optimizer.applyGradients(vars, vars.map((v) => grads[v.name]), active);
          const activeMask = tf.tensor2d(active.map((a) => (a ? 1 : 0)), [F, 1]);
          const out = tf.add(sums, tf.mul(tf.stack([task!, pen ?? tf.zeros([F])], 1), activeMask));
          tf.dispose([task!, ...(pen ? [pen] : [])]);
          return out;
        });
        tf.dispose([batch.x, batch.y, batch.mask, sums]);
        sums = next;
        active.forEach((a, f) => {
          if (a) {
            batches[f]++;
            steps[f]++;
          }
        });
      }
      const sumValues = await sums.data();
      sums.dispose();
      for (let f = 0; f < F; f++) {
        if (!inEpoch[f]) continue;
        lastTask[f] = sumValues[2 * f] / batches[f];
        lastPen[f] = sumValues[2 * f + 1] / batches[f];
      }
      const validate = data.map((_, f) => inEpoch[f] && hasVal[f] && ((e + 1) % every[f] === 0 || e === epochs[f] - 1));
      if (validate.some((v) => v)) {
        const val = await validationLosses(layers, models[0], data, dreg !== null);
        const better = validate.map((v, f) => v && val[f] < bestVal[f]);
        better.forEach((b, f) => {
          if (!b) return;
          bestVal[f] = val[f];
          bestEpoch[f] = e + 1;
          improved[f] = true;
        });
        if (better.some((b) => b)) {
          const keep = tf.tensor1d(better.map((b) => (b ? 1 : 0)), 'bool');
          const nextBest = vars.map((v, i) =>
            tf.tidy(() => {
              const mask = tf.reshape(keep, [F, ...v.shape.slice(1).map(() => 1)]);
              return best ? tf.where(tf.broadcastTo(mask, v.shape), v, best[i]) : tf.clone(v);
            }),
          );
          keep.dispose();
          if (best) tf.dispose(best);
          best = nextBest;
        }
      }
    }
    const trainSeconds = (performance.now() - t0) / 1000 / F;
    // the weights each model keeps: its best epoch's (with validation), else its last
    if (best) {
      const b = best as tf.Tensor[];
      const keep = tf.tensor1d(improved.map((x) => (x ? 1 : 0)), 'bool');
      vars.forEach((v, i) => {
        const kept = tf.tidy(() => tf.where(tf.broadcastTo(tf.reshape(keep, [F, ...v.shape.slice(1).map(() => 1)]), v.shape), b[i], v));
        v.assign(kept);
        kept.dispose();
      });
      keep.dispose();
    }
    // each model's weights into its own Mlp, then the one-model evaluation
    const results: FitResult[] = [];
    for (let f = 0; f < F; f++) {
      const fd = data[f];
      if (!Number.isFinite(lastTask[f])) {
        if (!opts.runOne) throw new Error(`training diverged (task loss ${lastTask[f]}) in fold ${f}`);
        results.push(await opts.runOne(fd.fold, fd.seed));
        continue;
      }
      const m = models[f];
      tf.tidy(() => m.variables().forEach((v, i) => v.assign(tf.squeeze(tf.slice(vars[i], [f], [1]), [0]))));
      results.push(await evaluate(m, fd, config, trainSeconds, { steps: steps[f], epochs: epochs[f], bestEpoch: bestEpoch[f], bestValidationLoss: hasVal[f] ? bestVal[f] : NaN, finalTaskLoss: lastTask[f], finalPenalty: lastPen[f] }));
    }
    return results;
  } finally {
    if (best) tf.dispose(best as tf.Tensor[]);
    optimizer.dispose();
    tf.dispose(vars);
    for (const m of models) m.dispose();
  }
}

/** Every model's mean validation cross-entropy on its own held-out rows, computed as `trainSteps` does (batches of 500, Σ mean·size / n). */
async function validationLosses(layers: StackedLayer[], model: Mlp, data: FoldData[], jacobianNorm: boolean): Promise<number[]> {
  const F = data.length;
  const d = data[0].fold.nFeatures;
  const K = data[0].fold.nClasses;
  const nv = data.map((fd) => fd.yVal?.length ?? 0);
  const CHUNK = 500;
  let total: tf.Tensor = tf.zeros([F]);
  for (let start = 0; start < Math.max(...nv); start += CHUNK) {
    const rows = nv.map((v) => Math.max(0, Math.min(CHUNK, v - start)));
    const B = Math.max(...rows);
    const batch = paddedBatch(F, B, d, K, (f) => ({ x: data[f].xVal ?? new Float32Array(0), y: data[f].yVal ?? new Int32Array(0), idx: Array.from({ length: rows[f] }, (_, i) => start + i), count: rows[f] }));
    const next = tf.tidy(() => {
      const { logits } = forwardBatched(layers, batch.x, model, jacobianNorm);
      const mean = meanCrossEntropy(logits, batch.y, batch.mask, batch.counts);
      return tf.add(total, tf.mul(mean, tf.tensor1d(rows)));
    });
    tf.dispose([batch.x, batch.y, batch.mask, total]);
    total = next;
  }
  const v = await total.data();
  total.dispose();
  return nv.map((count, f) => (count > 0 ? v[f] / count : NaN));
}

/** Predictions and τ of one trained model on its fold's test rows, and the FitResult `mlpModel(…).run` returns. */
async function evaluate(
  model: Mlp,
  fd: FoldData,
  config: MlpConfig,
  trainSeconds: number,
  stats: { steps: number; epochs: number; bestEpoch: number; bestValidationLoss: number; finalTaskLoss: number; finalPenalty: number },
): Promise<FitResult> {
  const fold = fd.fold;
  const nTest = fold.yTest.length;
  const xTest = tf.tensor2d(fold.xTest, [nTest, fold.nFeatures]);
  const yTestOh = model.encodeTargets(fold.yTest);
  const nTargets = yTestOh.shape[1];
  try {
    const predictions = await model.predictAsync(xTest);
    const norms = await inputGradientNormsAsync((xb, start) => model.perSampleLoss(xb, tf.slice(yTestOh, [start, 0], [xb.shape[0], nTargets])), xTest);
    return {
      predictions,
      tau: gradientTailRatio(norms),
      trainSeconds,
      info: {
        parameters: model.parameterCount(),
        ...stats,
        ...(!fd.explicitVal && config.validationFraction > 0 && !fd.canHoldOut ? { validation: 'none: a class has < 2 training rows; last epoch kept' } : {}),
      },
    };
  } finally {
    xTest.dispose();
    yTestOh.dispose();
  }
}
