/**
 * The four models of `chainz bench tau-shift` (ChainzRule + DREG, ChainzRule
 * without DREG, ReLU and GELU MLPs). One unit trains a model on a cell's
 * clean training data and, in the same thread, evaluates it on every shift
 * level of the cell: accuracy (with the labels), and without labels τ, the
 * mean gradient norm and the mean max-softmax confidence.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@chainz/core';
import { gradientTailRatio, LABEL_FREE_TARGETS, labelFreeSignals, type LabelFreeTarget } from '@chainz/metrics';
import { stratifiedSubsample, type ImageSet } from '@chainz/data';
import { Mlp, type MlpConfig } from '../../models/mlp';
import { trainClassifier, type TrainOptions } from '../../models/train';
import type { UnitModel } from '../../runner/contract';
import { standardize } from '../cifar10c/models';
import { TAU_SHIFT_FIXED, TAU_SHIFT_IMAGE_MODELS, TAU_SHIFT_IMAGE_TRAINING, TAU_SHIFT_MODEL_NAMES, TAU_SHIFT_TABULAR_MODELS, type TauShiftModelName } from './config';
import type { ShiftedSet, ShiftLevel } from './shifts';

/** A tabular cell: a standardised train/test split and the shifted copies of its test part. Plain arrays (sent to worker threads). */
export interface TabularShiftPayload {
  kind: 'tabular';
  /** `[nTrain, d]` standardised training features and their labels. */
  xTrain: Float32Array;
  yTrain: Int32Array;
  /** Labels of the test part (n rows); a shifted set with r copies has the labels repeated r times. */
  yTest: Int32Array;
  nFeatures: number;
  nClasses: number;
  /** The clean test part and its shifted copies (see `tabularShiftedSets`). */
  sets: ShiftedSet[];
  /** Epochs override (smoke runs); default the tabular configuration's. */
  epochs?: number;
}

/** A CIFAR-10 cell: training images (indices of the fitting and validation parts), the clean test images and the corrupted sets. */
export interface ImageShiftPayload {
  kind: 'image';
  /** Training images (uint8 HWC, shared buffers) and labels; `trainIdx`/`valIdx` pick the parts. */
  train: ImageSet;
  trainIdx: Int32Array;
  valIdx: Int32Array;
  /** Clean test images; their labels are the labels of every corrupted set. */
  test: ImageSet;
  /** Corrupted copies of the test images, one per corruption × severity. */
  sets: { level: ShiftLevel; images: Uint8Array }[];
  /** Per-channel mean and std of the training images ([0, 1] units). */
  mean: [number, number, number];
  std: [number, number, number];
  nClasses: number;
  training: Omit<TrainOptions, 'dreg'>;
}

/** The payload of one (data source, seed) cell. */
export type ShiftPayload = TabularShiftPayload | ImageShiftPayload;

/** The measurements of a model on one shift level. */
export interface LevelResult extends ShiftLevel {
  /** Rows evaluated (test rows × copies). */
  n: number;
  /** Accuracy in [0, 1] (uses the labels; everything else here does not). */
  accuracy: number;
  /** τ = Q_0.99(g)/mean(g) of the label-free gradient norms g_i; null when every g_i is 0. */
  tau: number | null;
  /** Mean of g_i (the level τ ignores). */
  meanGradNorm: number;
  /** Mean max-softmax confidence (the baseline signal). */
  confidence: number;
}

/** What one unit returns. */
export interface ShiftUnitOutput {
  /** One entry per shift level, clean first. */
  levels: LevelResult[];
  trainSeconds: number;
  /** Seconds spent on the label-free signals of every level. */
  evalSeconds: number;
  nTrain: number;
  info: Record<string, number | string>;
}

/** Options that change the models (CLI flags), JSON for worker threads. */
export interface TauShiftModelOptions {
  [key: string]: unknown;
  /** Scalar whose input gradient defines τ without labels [--tau-target]; default `predicted-ce`. */
  tauTarget?: LabelFreeTarget;
  /** DREG λ of `cr` [--lambda]; default the paper's 10^-2.5. */
  lambda?: number;
}

/**
 * Per-level measurements of a trained model on `x` (`[repeats·n, …]`) with
 * labels `labels` (`[n]`, repeated): accuracy, label-free τ, mean gradient
 * norm and mean max-softmax confidence.
 */
function measure(model: Mlp, x: tf.Tensor2D, labels: Int32Array, target: LabelFreeTarget): Omit<LevelResult, keyof ShiftLevel> {
  const s = labelFreeSignals((xb: tf.Tensor2D) => model.forward(xb).logits, x, { target });
  const n = s.predicted.length;
  let correct = 0;
  let conf = 0;
  let g = 0;
  for (let i = 0; i < n; i++) {
    if (s.predicted[i] === labels[i % labels.length]) correct++;
    conf += s.confidence[i];
    g += s.gradNorms[i];
  }
  const tau = gradientTailRatio(s.gradNorms, { q: TAU_SHIFT_FIXED.tauQuantile });
  return { n, accuracy: correct / n, tau: Number.isFinite(tau) ? tau : null, meanGradNorm: g / n, confidence: conf / n };
}

function dregOf(name: TauShiftModelName, config: Partial<MlpConfig>, options: TauShiftModelOptions): MlpConfig['dreg'] {
  if (!config.dreg) return null;
  return name === 'cr' && options.lambda !== undefined ? { ...config.dreg, lambda: options.lambda } : { ...config.dreg };
}

/** Train on a tabular cell (15% of the training part held out to pick the epoch when every class has ≥ 2 rows) and measure every level. */
function runTabular(name: TauShiftModelName, p: TabularShiftPayload, seed: number, options: TauShiftModelOptions): ShiftUnitOutput {
  const base = TAU_SHIFT_TABULAR_MODELS[name];
  const config: MlpConfig = { ...base, dreg: dregOf(name, base, options), epochs: p.epochs ?? base.epochs };
  const d = p.nFeatures;
  const counts = new Map<number, number>();
  for (const c of p.yTrain) counts.set(c, (counts.get(c) ?? 0) + 1);
  const canHoldOut = config.validationFraction > 0 && [...counts.values()].every((k) => k >= 2);
  let trainIdx: Int32Array | null = null;
  let valIdx: Int32Array | null = null;
  if (canHoldOut) {
    valIdx = stratifiedSubsample(p.yTrain, config.validationFraction, seed ^ 0x7a1d);
    const inVal = new Uint8Array(p.yTrain.length);
    for (const i of valIdx) inVal[i] = 1;
    trainIdx = Int32Array.from({ length: p.yTrain.length - valIdx.length });
    let k = 0;
    for (let i = 0; i < p.yTrain.length; i++) if (!inVal[i]) trainIdx[k++] = i;
  }
  const rows = (idx: Int32Array) => {
    const out = new Float32Array(idx.length * d);
    idx.forEach((r, i) => out.set(p.xTrain.subarray(r * d, (r + 1) * d), i * d));
    return out;
  };
  const yFit = trainIdx ? Int32Array.from(trainIdx, (i) => p.yTrain[i]) : p.yTrain;
  const xFit = tf.tensor2d(trainIdx ? rows(trainIdx) : p.xTrain, [yFit.length, d]);
  const xVal = valIdx ? tf.tensor2d(rows(valIdx), [valIdx.length, d]) : null;
  const yVal = valIdx ? Int32Array.from(valIdx, (i) => p.yTrain[i]) : null;
  const model = new Mlp(config, d, p.nClasses, seed);
  try {
    const t0 = performance.now();
    const stats = trainClassifier(model, config, xFit, yFit, p.nClasses, seed, xVal && yVal ? { x: xVal, y: yVal } : undefined);
    const trainSeconds = (performance.now() - t0) / 1000;
    xFit.dispose();
    xVal?.dispose();
    const t1 = performance.now();
    const target = options.tauTarget ?? 'predicted-ce';
    const levels = p.sets.map((s) => {
      const x = tf.tensor2d(s.x, [s.x.length / d, d]);
      try {
        return { ...s.level, ...measure(model, x, p.yTest, target) };
      } finally {
        x.dispose();
      }
    });
    return {
      levels,
      trainSeconds,
      evalSeconds: (performance.now() - t1) / 1000,
      nTrain: p.yTrain.length,
      info: {
        parameters: model.parameterCount(),
        steps: stats.steps,
        bestEpoch: stats.bestEpoch,
        epochsRun: stats.epochsRun,
        ...(canHoldOut ? {} : { validation: 'none: a class has < 2 training rows; last epoch kept' }),
      },
    };
  } finally {
    model.dispose();
    if (!xFit.isDisposed) xFit.dispose();
    if (xVal && !xVal.isDisposed) xVal.dispose();
  }
}

/** Train on the CIFAR-10 cell (epoch chosen on the held-out images) and measure the clean test images and every corrupted set. */
function runImage(name: TauShiftModelName, p: ImageShiftPayload, seed: number, options: TauShiftModelOptions): ShiftUnitOutput {
  const arch = TAU_SHIFT_IMAGE_MODELS[name];
  const dreg = dregOf(name, arch, options);
  const config = { ...arch, dreg, ...p.training, validationFraction: 0 } as MlpConfig;
  const model = new Mlp(config, 3072, p.nClasses, seed);
  const xTrain = standardize(p.train.images, p.mean, p.std, p.trainIdx, true);
  const yTrain = Int32Array.from(p.trainIdx, (i) => p.train.labels[i]);
  const xVal = standardize(p.train.images, p.mean, p.std, p.valIdx, true);
  const yVal = Int32Array.from(p.valIdx, (i) => p.train.labels[i]);
  try {
    const t0 = performance.now();
    const stats = trainClassifier(model, { ...p.training, dreg }, xTrain, yTrain, p.nClasses, seed, p.valIdx.length > 0 ? { x: xVal, y: yVal } : undefined);
    const trainSeconds = (performance.now() - t0) / 1000;
    xTrain.dispose();
    xVal.dispose();
    const t1 = performance.now();
    const target = options.tauTarget ?? 'predicted-ce';
    const sets: { level: ShiftLevel; images: Uint8Array }[] = [{ level: { family: 'clean', shift: 'none', strength: 0 }, images: p.test.images }, ...p.sets];
    const levels = sets.map((s) => {
      const x = standardize(s.images, p.mean, p.std, undefined, true) as tf.Tensor2D;
      try {
        return { ...s.level, ...measure(model, x, p.test.labels, target) };
      } finally {
        x.dispose();
      }
    });
    return {
      levels,
      trainSeconds,
      evalSeconds: (performance.now() - t1) / 1000,
      nTrain: p.trainIdx.length,
      info: { parameters: model.parameterCount(), steps: stats.steps, bestEpoch: stats.bestEpoch, epochsRun: stats.epochsRun },
    };
  } finally {
    model.dispose();
    if (!xTrain.isDisposed) xTrain.dispose();
    if (!xVal.isDisposed) xVal.dispose();
  }
}

const DESCRIPTIONS: Record<TauShiftModelName, string> = {
  cr: 'ChainzRule MLP (cubic poly, tanh guard, GELU init) + DREG frobenius λ=10^-2.5; tabular 32-32, CIFAR 3072-96-96',
  'cr-nodreg': 'the same ChainzRule MLP without DREG (ablation)',
  'relu-mlp': 'MLP, ReLU; tabular 32-32, CIFAR 3072-96-103 (parameter-matched)',
  'gelu-mlp': 'MLP, GELU; tabular 32-32, CIFAR 3072-96-103 (parameter-matched)',
};

/**
 * The four models for these options.
 * @throws ConfigError (option `--tau-target` or `--lambda`) for an unknown target or a negative λ.
 */
export function buildTauShiftModels(options: TauShiftModelOptions = {}): UnitModel<ShiftPayload, ShiftUnitOutput>[] {
  const target = options.tauTarget ?? 'predicted-ce';
  if (!LABEL_FREE_TARGETS.includes(target)) throw new ConfigError(`must be one of ${LABEL_FREE_TARGETS.join(', ')}, got '${String(target)}'`, { option: '--tau-target' });
  if (options.lambda !== undefined && !(Number.isFinite(options.lambda) && options.lambda >= 0)) throw new ConfigError(`must be a number ≥ 0, got ${options.lambda}`, { option: '--lambda' });
  return TAU_SHIFT_MODEL_NAMES.map((name) => {
    const tab = TAU_SHIFT_TABULAR_MODELS[name];
    const img = TAU_SHIFT_IMAGE_MODELS[name];
    let description = DESCRIPTIONS[name];
    if (name === 'cr' && options.lambda !== undefined) description = description.replace('λ=10^-2.5', `λ=${options.lambda}`);
    return {
      name,
      description,
      config: {
        tauTarget: target,
        tabular: { ...tab, dreg: dregOf(name, tab, options) },
        image: { ...img, dreg: dregOf(name, img, options), training: { ...TAU_SHIFT_IMAGE_TRAINING, validationFraction: TAU_SHIFT_FIXED.imageValidationFraction } },
      },
      run: async (payload: ShiftPayload, seed: number): Promise<ShiftUnitOutput> =>
        payload.kind === 'tabular' ? runTabular(name, payload, seed, options) : runImage(name, payload, seed, options),
    };
  });
}
