/**
 * The models of the playground, as tfjs-layers `Sequential` models (so that
 * they export in tfjs format and load in Node with `@chainz/poly-layer`):
 * - `cr`: ChainzRule — `PolyDense` hidden layers (learnable polynomial
 *   activation, fitted to GELU at build time) trained with the DREG penalty
 *   (`attachDreg`, frobenius variant, λ schedule);
 * - `relu`, `gelu`: the same widths with fixed activations.
 * All three start from the same Glorot-uniform kernels (same seeds) and end with
 * a linear layer to the class logits. Training: full-batch Adam on
 * softmax cross-entropy (+ DREG for `cr`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { attachDreg, type LambdaScheduleSpec } from '@chainz/dreg';
import { gradientTailRatio, inputGradientNormsAsync } from '@chainz/metrics';
import { PolyDense, polyValue, resolvePolyConfig, type PolyConfig, type PolyGuard } from '@chainz/poly-layer';
import type { Dataset } from './datasets';

export const MODEL_KINDS = ['cr', 'relu', 'gelu'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const MODEL_LABELS: Record<ModelKind, string> = { cr: 'ChainzRule', relu: 'ReLU', gelu: 'GELU' };

/** Model settings of the page. */
export interface ModelSettings {
  layers: number;
  width: number;
  lr: number;
  degree: number;
  guard: PolyGuard;
  /** DREG λ (peak value of the schedule); 0 turns DREG off. */
  lambda: number;
  schedule: 'constant' | 'warmup' | 'cosine' | 'anneal';
  scheduleSteps: number;
  seed: number;
}

/** The λ(t) schedule spec for the settings. */
export function scheduleSpec(s: ModelSettings): LambdaScheduleSpec {
  switch (s.schedule) {
    case 'constant':
      return { type: 'constant', value: s.lambda };
    case 'warmup':
      return { type: 'warmup', value: s.lambda, warmupSteps: s.scheduleSteps, shape: 'linear' };
    case 'cosine':
      return { type: 'warmup', value: s.lambda, warmupSteps: s.scheduleSteps, shape: 'cosine' };
    case 'anneal':
      return { type: 'anneal', from: s.lambda, to: 0, steps: s.scheduleSteps, shape: 'linear' };
  }
}

/** One recorded point of the training curves. */
export interface HistoryPoint {
  step: number;
  /** Training loss incl. DREG, mean over the steps since the last point. */
  loss: number;
  /** DREG penalty share of the training loss (0 without DREG). */
  dregShare: number;
  testLoss: number;
  trainAcc: number;
  testAcc: number;
  /** Gradient tail ratio on the test set, when computed at this point. */
  tau?: number;
}

/** A model being trained, with its optimiser and history. */
export interface Run {
  kind: ModelKind;
  label: string;
  model: tfl.Sequential;
  optimizer: tf.Optimizer;
  vars: tf.Variable[];
  step: number;
  history: HistoryPoint[];
  /** [task, penalty] per step since the last record. */
  pending: tf.Tensor[];
  /** Coefficients of each PolyDense layer at the start (for the ghosted curve), `[rows][K+1]`. */
  initialCoeffs: number[][][];
  polyConfig?: PolyConfig;
}

/** Builds the model of one kind for the dataset (the initial coefficients are read asynchronously). */
export async function buildRun(kind: ModelKind, ds: Dataset, s: ModelSettings): Promise<Run> {
  const run = buildRunSync(kind, ds, s);
  run.initialCoeffs = await polyCoefficients(run);
  return run;
}

function buildRunSync(kind: ModelKind, ds: Dataset, s: ModelSettings): Run {
  const model = tfl.sequential({ name: `chainz_${kind}` });
  const polyConfig = kind === 'cr' ? resolvePolyConfig({ degree: s.degree, guard: s.guard }) : undefined;
  for (let l = 0; l < s.layers; l++) {
    const common = { units: s.width, inputShape: l === 0 ? [ds.d] : undefined, name: `hidden${l + 1}` };
    if (kind === 'cr') {
      model.add(new PolyDense({ ...common, degree: s.degree, guard: s.guard, target: 'gelu', seed: s.seed * 100 + l }));
    } else {
      model.add(tfl.layers.dense({ ...common, activation: kind, kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed * 100 + l }) }));
    }
  }
  model.add(tfl.layers.dense({ units: ds.classNames.length, name: 'logits', kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed * 100 + 99 }) }));
  if (kind === 'cr' && s.lambda > 0) attachDreg(model, { variant: 'frobenius', lambda: scheduleSpec(s) });
  model.setUserDefinedMetadata({
    chainzPlayground: {
      model: MODEL_LABELS[kind],
      dataset: ds.name,
      source: ds.source,
      featureNames: ds.featureNames,
      classNames: ds.classNames,
      // inputs of predict() are standardised raw features: (x − mean) / std
      inputMeans: ds.means,
      inputStds: ds.stds,
      ...(kind === 'cr' ? { degree: s.degree, guard: s.guard, dreg: s.lambda > 0 ? { variant: 'frobenius', lambda: scheduleSpec(s) } : null } : {}),
    },
  });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const run: Run = {
    kind,
    label: MODEL_LABELS[kind],
    model,
    optimizer: tf.train.adam(s.lr),
    vars,
    step: 0,
    history: [],
    pending: [],
    initialCoeffs: [],
    polyConfig,
  };
  return run;
}

/** Current coefficients of every PolyDense layer, `[layer][row][K+1]` (row: one per unit, or one for the layer). */
export async function polyCoefficients(run: Run): Promise<number[][][]> {
  if (run.kind !== 'cr') return [];
  return Promise.all(
    run.model.layers
    .filter((l) => l instanceof PolyDense)
    .map(async (l) => {
      const v = l.weights.find((w) => /(^|\/)coeffs(_\d+)?$/.test(w.originalName));
      if (!v) throw new Error(`layer ${l.name} has no coeffs weight`);
      const t = v.read();
      const [rows, k1] = t.shape as [number, number];
      const flat = (await t.data()) as Float32Array;
      return Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * k1, (r + 1) * k1)));
    }),
  );
}

/** Tensors of a dataset on the active backend. */
export interface DataTensors {
  xTrain: tf.Tensor2D;
  yTrain: tf.Tensor2D;
  xTest: tf.Tensor2D;
  yTest: tf.Tensor2D;
}

export function dataTensors(ds: Dataset): DataTensors {
  const c = ds.classNames.length;
  return tf.tidy(() => ({
    xTrain: tf.tensor2d(ds.xTrain, [ds.yTrain.length, ds.d]),
    yTrain: tf.cast(tf.oneHot(tf.tensor1d(ds.yTrain, 'int32'), c), 'float32') as tf.Tensor2D,
    xTest: tf.tensor2d(ds.xTest, [ds.yTest.length, ds.d]),
    yTest: tf.cast(tf.oneHot(tf.tensor1d(ds.yTest, 'int32'), c), 'float32') as tf.Tensor2D,
  }));
}

/** Training-mode forward pass: `[task loss, DREG penalty]` (penalty 0 without DREG) on the training set. */
function lossParts(run: Run, data: DataTensors): tf.Tensor1D {
  // layer by layer: Sequential.apply does not pass `training` on to its layers (model.fit does)
  let h: tf.Tensor = data.xTrain;
  for (const layer of run.model.layers) h = layer.apply(h, { training: true }) as tf.Tensor;
  const logits = h as tf.Tensor2D;
  const task = tf.losses.softmaxCrossEntropy(data.yTrain, logits) as tf.Scalar;
  // PolyDense layers with DREG attached report their penalty as layer losses (as model.fit sums them)
  const penalties = run.kind === 'cr' ? run.model.layers.flatMap((l) => l.calculateLosses()) : [];
  const penalty = penalties.length > 0 ? (tf.addN(penalties) as tf.Scalar) : tf.scalar(0);
  return tf.stack([task, penalty]) as tf.Tensor1D;
}

/**
 * One full-batch Adam step. The task loss and the DREG penalty of the step are
 * kept (not read back) in `run.pending`; {@link record} reads them.
 */
export function trainStep(run: Run, data: DataTensors): void {
  let parts: tf.Tensor | undefined;
  run.optimizer.minimize(
    () => {
      const p = lossParts(run, data);
      parts = tf.keep(p);
      return tf.sum(p) as tf.Scalar;
    },
    false,
    run.vars,
  );
  run.pending.push(parts!);
  run.step++;
}

/**
 * Records the state before training (step 0): the loss of a forward pass; the
 * DREG schedule is re-attached afterwards so that its step count starts at 0.
 */
export async function recordInitial(run: Run, data: DataTensors, s: ModelSettings): Promise<HistoryPoint | undefined> {
  run.pending.push(tf.tidy(() => lossParts(run, data)));
  const point = await record(run, data, true);
  if (run.kind === 'cr' && s.lambda > 0) attachDreg(run.model, { variant: 'frobenius', lambda: scheduleSpec(s) });
  return point;
}

function accuracy(logits: tf.Tensor2D, yOneHot: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(yOneHot, 1)), 'float32')) as tf.Scalar;
}

/**
 * Reads the pending step losses and evaluates the model (train/test accuracy,
 * test loss, and τ when `withTau`); appends one history point.
 */
export async function record(run: Run, data: DataTensors, withTau: boolean): Promise<HistoryPoint | undefined> {
  if (run.pending.length === 0) return undefined;
  const stacked = tf.stack(run.pending);
  tf.dispose(run.pending);
  run.pending = [];
  const evals = tf.tidy(() => {
    const trainLogits = run.model.apply(data.xTrain) as tf.Tensor2D;
    const testLogits = run.model.apply(data.xTest) as tf.Tensor2D;
    return tf.stack([accuracy(trainLogits, data.yTrain), accuracy(testLogits, data.yTest), tf.losses.softmaxCrossEntropy(data.yTest, testLogits) as tf.Scalar]);
  });
  const [parts, ev] = await Promise.all([stacked.data(), evals.data()]);
  tf.dispose([stacked, evals]);
  let task = 0;
  let pen = 0;
  const n = parts.length / 2;
  for (let i = 0; i < n; i++) {
    task += parts[2 * i];
    pen += parts[2 * i + 1];
  }
  const loss = (task + pen) / n;
  const point: HistoryPoint = { step: run.step, loss, dregShare: loss > 0 ? pen / n / loss : 0, trainAcc: ev[0], testAcc: ev[1], testLoss: ev[2] };
  if (withTau) point.tau = await tailRatio(run, data);
  run.history.push(point);
  return point;
}

/** τ = p99/mean of the per-sample input-gradient norms ‖∂ℓ_i/∂x_i‖₂ of the test loss. */
export async function tailRatio(run: Run, data: DataTensors): Promise<number> {
  const norms = await inputGradientNormsAsync(
    (x: tf.Tensor2D, start: number) => {
      const y = tf.slice(data.yTest, [start, 0], [x.shape[0], data.yTest.shape[1]]);
      const logits = run.model.apply(x) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
    },
    data.xTest,
    { batchSize: 256 },
  );
  return gradientTailRatio(norms);
}

/** Class probabilities `[n, C]` for row-major standardised inputs `[n, d]`. */
export async function predictProba(run: Run, x: Float32Array, d: number): Promise<Float32Array> {
  const p = tf.tidy(() => tf.softmax(run.model.apply(tf.tensor2d(x, [x.length / d, d])) as tf.Tensor2D));
  const out = (await p.data()) as Float32Array;
  p.dispose();
  return out;
}

/** σ(z) and σ′(z) (central difference of σ, h = 1e-4, in float64) of each unit's coefficients on a grid of z. */
export function activationCurves(coeffs: number[][], config: PolyConfig, z: number[]): { y: number[][]; dy: number[][] } {
  // layer norm normalises across the layer: the curve is the polynomial of the normalised u
  const cfg = { basis: config.basis, guard: config.guard, scale: config.scale };
  const h = 1e-4;
  return {
    y: coeffs.map((c) => z.map((v) => polyValue(c, cfg, v))),
    dy: coeffs.map((c) => z.map((v) => (polyValue(c, cfg, v + h) - polyValue(c, cfg, v - h)) / (2 * h))),
  };
}

/** Disposes a run's model, optimiser and pending tensors. */
export function disposeRun(run: Run): void {
  tf.dispose(run.pending);
  run.pending = [];
  run.optimizer.dispose();
  run.model.dispose();
}
