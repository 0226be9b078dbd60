import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@chainz/core';
import { gradientTailRatio, inputGradientNorms } from '@chainz/metrics';
import { Mlp, type MlpConfig } from '../../models/mlp';
import { Cnn, type CnnConfig } from '../../models/cnn';
import { predictClasses, trainClassifier, type TrainableClassifier, type TrainOptions } from '../../models/train';
import type { FitResult } from '../../models/types';
import type { UnitModel } from '../../runner/contract';
import type { ImageSet } from '@chainz/data';
import { CIFAR10C_CNNS, CIFAR10C_MLPS, CIFAR10C_TRAINING } from './config';

/** Model ids of the CIFAR-10-C benchmark, in table order. */
export const CIFAR10C_MODEL_NAMES = ['cr-mlp', 'gelu-mlp', 'relu-mlp', 'cr-cnn', 'relu-cnn'] as const;

/**
 * What one (model, seed) unit needs. Sent to worker threads (the image
 * buffers are SharedArrayBuffers, so they are shared, not copied).
 */
export interface CifarUnitInput {
  /** All training images (uint8 HWC) and labels; `trainIdx`/`valIdx` pick the parts. */
  train: ImageSet;
  /** Indices of the images to fit on and of the held-out images that choose the epoch. */
  trainIdx: Int32Array;
  valIdx: Int32Array;
  /** Clean test images and labels (the labels of every corrupted set, too). */
  test: ImageSet;
  /** Corrupted images, one buffer per set, in the order of the report. */
  sets: Uint8Array[];
  /** Per-channel mean and standard deviation of the training images (in [0, 1] units). */
  mean: [number, number, number];
  std: [number, number, number];
  nClasses: number;
  /** Training settings (epochs etc.); CLI flags may shorten them for smoke runs. */
  training: Omit<TrainOptions, 'dreg'>;
}

/** Standardised float32 images `[n, 32, 32, 3]` (or flattened `[n, 3072]`) from uint8 HWC rows `idx` (all rows if omitted). */
export function standardize(images: Uint8Array, mean: readonly number[], std: readonly number[], idx?: Int32Array, flat = false): tf.Tensor {
  const n = idx ? idx.length : images.length / 3072;
  const out = new Float32Array(n * 3072);
  // one 256-entry table per channel: (v/255 − mean_c)/std_c
  const lut = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - mean[c]) / std[c]));
  const [l0, l1, l2] = lut;
  for (let i = 0; i < n; i++) {
    const src = (idx ? idx[i] : i) * 3072;
    const dst = i * 3072;
    for (let p = 0; p < 3072; p += 3) {
      out[dst + p] = l0[images[src + p]];
      out[dst + p + 1] = l1[images[src + p + 1]];
      out[dst + p + 2] = l2[images[src + p + 2]];
    }
  }
  return flat ? tf.tensor2d(out, [n, 3072]) : tf.tensor4d(out, [n, 32, 32, 3]);
}

interface BuiltModel extends TrainableClassifier {
  parameterCount(): number;
  dispose(): void;
}

function mlpClassifier(config: MlpConfig, seed: number): BuiltModel {
  const m = new Mlp(config, 3072, 10, seed);
  return {
    forward: (x) => m.forward(x as tf.Tensor2D),
    variables: () => m.variables(),
    kernels: () => m.layers.map((l) => l.kernel),
    parameterCount: () => m.parameterCount(),
    dispose: () => m.dispose(),
  };
}

/** Parameter count of a model configuration (builds and disposes it). */
export function cifarParameterCount(name: string): number {
  const m = build(name, 0);
  try {
    return m.parameterCount();
  } finally {
    m.dispose();
  }
}

function build(name: string, seed: number): BuiltModel & { flat: boolean } {
  if (name in CIFAR10C_MLPS) {
    const c = CIFAR10C_MLPS[name as keyof typeof CIFAR10C_MLPS];
    const config: MlpConfig = { ...c, ...CIFAR10C_TRAINING, validationFraction: 0 } as MlpConfig;
    return { ...mlpClassifier(config, seed), flat: true };
  }
  if (name in CIFAR10C_CNNS) {
    const c = CIFAR10C_CNNS[name as keyof typeof CIFAR10C_CNNS] as CnnConfig;
    const m = new Cnn(c, [32, 32, 3], 10, seed);
    return Object.assign(m, { flat: false });
  }
  throw new ConfigError(`unknown model '${name}'; choose from ${CIFAR10C_MODEL_NAMES.join(', ')}`, { option: '--models' });
}

function describe(name: string): string {
  switch (name) {
    case 'cr-mlp':
      return 'ChainzRule MLP 3072-96-96-10, cubic poly (tanh guard, GELU init) + DREG frobenius λ=10^-2.5';
    case 'gelu-mlp':
      return 'MLP 3072-96-103-10, GELU (parameter-matched)';
    case 'relu-mlp':
      return 'MLP 3072-96-103-10, ReLU (parameter-matched)';
    case 'cr-cnn':
      return 'ChainzRule CNN, conv 4×4 s4 ×16 → conv 3×3 s2 ×32, per-channel poly (polyConv2d) + conv DREG frobenius λ=10^-2.5, dense 512→10';
    case 'relu-cnn':
      return 'CNN, conv 4×4 s4 ×16 → conv 3×3 s2 ×33, ReLU, dense 528→10 (parameter-matched)';
    default:
      return name;
  }
}

/** Options that change the models (CLI flags), sent to worker threads as JSON. */
export interface Cifar10cModelOptions {
  [key: string]: unknown;
  /** DREG λ of the ChainzRule models [--lambda]; default the paper's 10^-2.5. For ablations (0 = no penalty). */
  lambda?: number;
}

function dregOf(name: string, options: Cifar10cModelOptions): TrainOptions['dreg'] {
  const c = (CIFAR10C_MLPS as Record<string, { dreg: TrainOptions['dreg'] }>)[name] ?? (CIFAR10C_CNNS as Record<string, { dreg: TrainOptions['dreg'] }>)[name];
  if (!c.dreg) return null;
  return options.lambda === undefined ? { ...c.dreg } : { ...c.dreg, lambda: options.lambda };
}

/**
 * Train one model on the unit's training images (epoch chosen on the held-out
 * part) and predict the clean test set and every corrupted set.
 * @returns predictions concatenated as [clean, set 0, set 1, …] (n each), τ of the
 *   per-sample input-gradient norms on the clean test set, timings and diagnostics.
 */
async function runUnit(name: string, input: CifarUnitInput, seed: number, options: Cifar10cModelOptions): Promise<FitResult> {
  const model = build(name, seed);
  const { flat } = model;
  const xTrain = standardize(input.train.images, input.mean, input.std, input.trainIdx, flat);
  const yTrain = Int32Array.from(input.trainIdx, (i) => input.train.labels[i]);
  const xVal = standardize(input.train.images, input.mean, input.std, input.valIdx, flat);
  const yVal = Int32Array.from(input.valIdx, (i) => input.train.labels[i]);
  try {
    const t0 = performance.now();
    const stats = trainClassifier(model, { ...input.training, dreg: dregOf(name, options) }, xTrain, yTrain, input.nClasses, seed, input.valIdx.length > 0 ? { x: xVal, y: yVal } : undefined);
    const trainSeconds = (performance.now() - t0) / 1000;
    xTrain.dispose();
    xVal.dispose();
    const t1 = performance.now();
    const n = input.test.n;
    const predictions = new Int32Array(n * (1 + input.sets.length));
    const xTest = standardize(input.test.images, input.mean, input.std, undefined, flat);
    let tau: number;
    try {
      predictions.set(predictClasses(model, xTest), 0);
      // τ (input source): per-sample ‖∂ℓ_i/∂x_i‖₂ on the clean test images, same code for every model.
      const yOh = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(input.test.labels, 'int32'), input.nClasses), 'float32') as tf.Tensor2D);
      try {
        const norms = inputGradientNorms(
          (xb: tf.Tensor, start: number) =>
            tf.losses.softmaxCrossEntropy(tf.slice(yOh, [start, 0], [xb.shape[0], input.nClasses]), model.forward(xb).logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D,
          xTest as tf.Tensor2D,
        );
        tau = gradientTailRatio(norms);
      } finally {
        yOh.dispose();
      }
    } finally {
      xTest.dispose();
    }
    input.sets.forEach((images, s) => {
      const x = standardize(images, input.mean, input.std, undefined, flat);
      try {
        predictions.set(predictClasses(model, x), n * (s + 1));
      } finally {
        x.dispose();
      }
    });
    const evalSeconds = (performance.now() - t1) / 1000;
    return {
      predictions,
      tau,
      trainSeconds,
      info: {
        parameters: model.parameterCount(),
        steps: stats.steps,
        bestEpoch: stats.bestEpoch,
        bestValidationLoss: stats.bestValidationLoss,
        finalTaskLoss: stats.finalTaskLoss,
        finalPenalty: stats.finalPenalty,
        evalSeconds,
        epochsRun: stats.epochsRun,
      },
    };
  } finally {
    model.dispose();
    if (!xTrain.isDisposed) xTrain.dispose();
    if (!xVal.isDisposed) xVal.dispose();
  }
}

/** The benchmark's models (for the executor and worker threads). */
export function buildCifar10cModels(options: Cifar10cModelOptions = {}): UnitModel<CifarUnitInput, FitResult>[] {
  if (options.lambda !== undefined && !(Number.isFinite(options.lambda) && options.lambda >= 0)) {
    throw new ConfigError(`must be a number ≥ 0, got ${options.lambda}`, { option: '--lambda' });
  }
  return CIFAR10C_MODEL_NAMES.map((name) => {
    const dreg = dregOf(name, options);
    const base = ((CIFAR10C_MLPS as Record<string, unknown>)[name] ?? (CIFAR10C_CNNS as Record<string, unknown>)[name]) as object;
    let description = describe(name);
    if (dreg && options.lambda !== undefined) description = description.replace('λ=10^-2.5', `λ=${options.lambda}`);
    return {
      name,
      description,
      config: { ...base, dreg, training: { ...CIFAR10C_TRAINING } },
      run: (input: CifarUnitInput, seed: number): Promise<FitResult> => runUnit(name, input, seed, options),
    };
  });
}
