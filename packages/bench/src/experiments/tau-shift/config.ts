import type { MlpConfig } from '../../models/mlp';
import type { TrainOptions } from '../../models/train';
import { TABULAR_MODELS } from '../tabular/config';
import { CIFAR10C_MLPS, CIFAR10C_TRAINING } from '../cifar10c/config';

/**
 * Every setting of `chainz bench tau-shift`, in one place.
 *
 * The models and their training are those of the existing experiments
 * (tabular/config.ts and cifar10c/config.ts), fixed there before any shifted
 * accuracy was seen; nothing here was tuned on the correlations this
 * experiment reports. The shift strengths were chosen to span "barely
 * visible" to "most information gone" before the first run.
 */

/** Model ids of `chainz bench tau-shift`, in table order (`cr` is ChainzRule + DREG). */
export const TAU_SHIFT_MODEL_NAMES = ['cr', 'cr-nodreg', 'relu-mlp', 'gelu-mlp'] as const;
export type TauShiftModelName = (typeof TAU_SHIFT_MODEL_NAMES)[number];

/**
 * The tabular models: the four MLPs of `chainz bench tabular` (32-32, Adam
 * lr 3·10^-3, batch 64, 60 epochs, 15% of the training part held out to pick
 * the epoch), unchanged.
 */
export const TAU_SHIFT_TABULAR_MODELS: Record<TauShiftModelName, MlpConfig> = {
  cr: TABULAR_MODELS.cr,
  'cr-nodreg': TABULAR_MODELS['cr-nodreg'],
  'relu-mlp': TABULAR_MODELS['relu-mlp'],
  'gelu-mlp': TABULAR_MODELS['gelu-mlp'],
};

/**
 * The image models: the parameter-matched MLPs of `chainz bench cifar10c`
 * (flattened 32×32×3 input, ChainzRule 3072-96-96-10, GELU/ReLU 3072-96-103-10);
 * `cr-nodreg` is the ChainzRule MLP without the penalty. (The cifar10c CNNs
 * are left out: there is no ChainzRule CNN without DREG or GELU CNN to
 * complete the four-model set, and the MLPs are the paper's setting.)
 */
export const TAU_SHIFT_IMAGE_MODELS: Record<TauShiftModelName, Pick<MlpConfig, 'hidden' | 'activation' | 'poly' | 'polyInit' | 'dreg'>> = {
  cr: CIFAR10C_MLPS['cr-mlp'],
  'cr-nodreg': { ...CIFAR10C_MLPS['cr-mlp'], dreg: null },
  'relu-mlp': CIFAR10C_MLPS['relu-mlp'],
  'gelu-mlp': CIFAR10C_MLPS['gelu-mlp'],
};

/** Training of the image models: that of `chainz bench cifar10c` (Adam 10^-3, batch 128, ≤ 8 epochs, patience 3, best validation epoch kept). */
export const TAU_SHIFT_IMAGE_TRAINING: Omit<TrainOptions, 'dreg'> = { ...CIFAR10C_TRAINING };

/**
 * Shifts of the tabular data, applied to the standardised test features
 * (z-scores fitted on the training part, so one unit = one training standard
 * deviation of that feature). Each level is drawn independently for every
 * (data set, seed) cell from a seeded generator, and is the same for all four
 * models of the cell.
 */
export const TABULAR_SHIFTS = {
  /** Gaussian feature noise x' = x + σ·ε, ε ~ N(0, 1) per entry: the σ values. */
  gaussianNoise: [0.1, 0.25, 0.5, 1, 2],
  /**
   * Feature dropout: each entry is replaced, independently with probability
   * p, by the training mean of its feature (0 after standardisation), i.e.
   * missing completely at random with mean imputation: the p values.
   */
  featureDropout: [0.1, 0.25, 0.5, 0.75, 0.9],
  /**
   * Minimum rows of a shifted test set: when the test part is smaller, the
   * shift is drawn r = ⌈minRows / n_test⌉ times over the test rows (r
   * independent corrupted copies), so τ's 99th percentile rests on at least
   * ~5 samples above it and the accuracy on ≥ 512 predictions. The clean level is the test part itself.
   */
  minRows: 512,
} as const;

/** Protocols: `default` is the reduced scale that runs in ≤ 20 minutes here; `full` is everything. Flags override single settings. */
export const TAU_SHIFT_PROTOCOLS = {
  default: {
    /** Training seeds 0..n−1 (initialisation, batch order, splits, shift draws). */
    seeds: 2,
    /** Tabular data sets with more rows use a stratified random sample of this many (seeded by --seed). */
    maxRows: 1000 as number | null,
    /** CIFAR-10: the first N training / test images (train_first4000.bin holds 4000). */
    trainSize: 4000,
    testSize: 500,
    /** CIFAR-10-C: every corruption, at these severities. */
    severities: [1, 3, 5] as number[],
  },
  full: {
    seeds: 5,
    maxRows: null as number | null,
    trainSize: 4000,
    testSize: 1000,
    severities: [1, 2, 3, 4, 5] as number[],
  },
} as const;

/** Fixed parts of the protocol (the same for both protocols). */
export const TAU_SHIFT_FIXED = {
  /** Share of each tabular data set held out (stratified, per seed) as the test part that is then shifted. */
  testFraction: 0.3,
  /** CIFAR-10: share of the training images held out (stratified, per seed) to choose the epoch. */
  imageValidationFraction: 0.1,
  /** Seed of the CIFAR-10-C generator. */
  corruptionSeed: 0,
  /** τ = quantile_q / mean of the per-sample gradient norms. */
  tauQuantile: 0.99,
  /** Bootstrap resamples and coverage of the Spearman intervals (seeded by --seed). */
  bootstrapResamples: 2000,
  confidence: 0.95,
} as const;

/** The paper's claim about τ that this experiment tests (it reports no test of it). */
export const TAU_SHIFT_PAPER = {
  claim: 'τ (p99/mean of per-sample gradient norms) is "a deployment-time proxy for model reliability"',
  evidence: 'the paper gives no measurement of τ under distribution shift, nor a correlation with accuracy',
} as const;
