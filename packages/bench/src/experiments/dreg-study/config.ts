/**
 * Every setting of `chainz bench dreg-study`, in one place: the grid
 * (activations × regularisers), the network and training configuration shared
 * by every model, the protocols (`default`: a reduced grid that fits in about
 * 20 minutes on a 2-core machine; `full`: the whole grid), the noise strengths,
 * and the paper's claims the report prints beside ours.
 *
 * Nothing here was tuned on any test fold. The network, optimiser, batch size,
 * epochs and validation hold-out are the tabular experiments' (`tabular/config.ts`,
 * chosen for Pima before looking at any test fold); the regularisers'
 * coefficients are the library defaults of `createRegularizer` (`@chainz/dreg`),
 * fixed a priori, and DREG's λ is the paper's 10^-2.5.
 */
import { DEFAULT_DREG_LAMBDA, DEFAULT_JACOBIAN_LAMBDA, DEFAULT_WEIGHT_DECAY, type RegularizerSpec } from '@chainz/dreg';
import type { PolyConfig, TargetActivation } from '@chainz/poly-layer';
import { TABULAR_MODELS, TABULAR_TRAINING } from '../tabular/config';

/** Hidden activations of the study: `cr` = the ChainzRule polynomial layer; the others standard ones. */
export const STUDY_ACTIVATIONS = ['cr', 'relu', 'gelu', 'tanh'] as const;
export type StudyActivation = (typeof STUDY_ACTIVATIONS)[number];

/** Short ids of the six regularisers (used in model names `<activation>-<id>` and in `--regularizers`). */
export const STUDY_REGULARIZERS = ['none', 'wd', 'igp', 'sn', 'jrp', 'dreg'] as const;
export type StudyRegularizer = (typeof STUDY_REGULARIZERS)[number];

/**
 * What each regulariser id means: the `createRegularizer` spec (every
 * coefficient the library default, never tuned) and a label for tables.
 * `seed` of spectral-norm and jacobian-projection is set per run (the unit's seed).
 */
export const STUDY_REGULARIZER_SPECS: Readonly<Record<StudyRegularizer, { spec: RegularizerSpec; label: string }>> = {
  none: { spec: { kind: 'none' }, label: 'no penalty' },
  /** Coupled L2 in the loss, c·Σ‖W‖² over every kernel (gradient 2cW), c = 1e-4 (library default). */
  wd: { spec: { kind: 'weight-decay', coefficient: DEFAULT_WEIGHT_DECAY, decoupled: false }, label: `weight decay (L2 in the loss, c = ${DEFAULT_WEIGHT_DECAY})` },
  /** Double backpropagation, λ·mean_i ‖∂ℓ_i/∂x_i‖², λ = 1e-2 (library default). */
  igp: { spec: { kind: 'input-gradient', lambda: DEFAULT_JACOBIAN_LAMBDA }, label: `input-gradient penalty (double backprop, λ = ${DEFAULT_JACOBIAN_LAMBDA})` },
  /** Every kernel (hidden and output) used as W/σ_max(W), one power iteration per step (Miyato et al. 2018). */
  sn: { spec: { kind: 'spectral-norm', iterations: 1 }, label: 'spectral normalisation (every kernel, 1 power iteration per step)' },
  /** λ·mean_i of the one-projection estimate of ‖∂logits/∂x_i‖_F² (Hoffman et al. 2019), λ = 1e-2 (library default). */
  jrp: { spec: { kind: 'jacobian-projection', lambda: DEFAULT_JACOBIAN_LAMBDA, projections: 1 }, label: `Jacobian random projections (1 projection, λ = ${DEFAULT_JACOBIAN_LAMBDA})` },
  /** DREG frobenius on every hidden layer, λ = 10^-2.5 (the paper's). */
  dreg: { spec: { kind: 'dreg', dreg: { variant: 'frobenius', lambda: DEFAULT_DREG_LAMBDA } }, label: 'DREG (frobenius, λ = 10^-2.5, every hidden layer)' },
};

/** The network and training configuration of one protocol (shared by all 24 models). */
export interface StudyNetworkConfig {
  /** Hidden widths. */
  hidden: number[];
  /** The polynomial activation of `cr` (cubic, monomial basis, tanh guard; as the tabular `cr`). */
  poly: Partial<PolyConfig>;
  /** Activation the polynomial is initialised to (least-squares fit). */
  polyInit: TargetActivation;
  /** Passes over the training part. */
  epochs: number;
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /**
   * Share of the training part (stratified, seeded) held out to pick the epoch
   * with the lowest validation cross-entropy; the test fold is never used.
   */
  validationFraction: number;
}

/** The tabular experiments' training settings (Adam 3e-3, batch 64, 15% validation hold-out). */
const TRAINING = {
  batchSize: TABULAR_TRAINING.batchSize,
  learningRate: TABULAR_TRAINING.learningRate,
  validationFraction: TABULAR_TRAINING.validationFraction,
} as const;

const POLY = { poly: { ...TABULAR_MODELS.cr.poly }, polyInit: TABULAR_MODELS.cr.polyInit } as const;

/**
 * `--protocol full`: the tabular experiments' MLP (32-32, 60 epochs) on every
 * row of every data set, five cells per data set (one complete stratified
 * 5-fold partition: every row is tested once).
 */
export const FULL_NETWORK: StudyNetworkConfig = { hidden: [32, 32], ...POLY, epochs: TABULAR_TRAINING.epochs, ...TRAINING };

/**
 * `--protocol default`: a smaller network (16-16) trained for 30 epochs, so
 * that 24 models × every data set fit in about 20 minutes on 2 cores. Same
 * optimiser, batch size and hold-out as the full protocol.
 */
export const DEFAULT_NETWORK: StudyNetworkConfig = { hidden: [16, 16], ...POLY, epochs: 30, ...TRAINING };

/** The data side of a protocol. */
export interface StudyProtocolConfig {
  /** Cells per data set: the first `seeds` folds of repeated stratified 5-fold (5 = one complete partition). */
  seeds: number;
  /** Row cap per data set (a seeded stratified sample, at least 5 rows of each class kept), or null for all rows. */
  maxRows: number | null;
  network: StudyNetworkConfig;
}

/** Folds of the stratified partition the cells are drawn from (test part = 1/5 of the rows). */
export const STUDY_FOLDS = 5;

export const STUDY_PROTOCOLS: Readonly<Record<'default' | 'full', StudyProtocolConfig>> = {
  default: { seeds: 1, maxRows: 500, network: DEFAULT_NETWORK },
  full: { seeds: 5, maxRows: null, network: FULL_NETWORK },
};

/**
 * Additive Gaussian input noise: x̃ = x + σ·ε, ε ~ N(0, I), on the test rows
 * after standardisation (so σ is in units of each feature's training-fold
 * standard deviation). Each strength is drawn `NOISE_DRAWS` times, seeded per
 * cell (every model sees the same noisy copies), and the accuracies averaged.
 */
export const NOISE_SIGMAS = [0.1, 0.3, 0.5] as const;
export const NOISE_DRAWS = 5;

/** The paper's claims (arXiv 2606.23942), printed beside ours. */
export const DREG_STUDY_PAPER = {
  source: 'arXiv 2606.23942, "DREG: A Layer-Wise Jacobian Regularization as a General-Purpose Penalty"',
  clean:
    'with λ = 10^-2.5, DREG gives the best clean accuracy (Wilcoxon p ≤ 0.031 vs no penalty, weight decay and the input-gradient penalty), on GELU/ReLU networks as well as polynomial ones',
  cleanP: 0.031,
  cleanVersus: ['none', 'wd', 'igp'] as StudyRegularizer[],
  cleanActivations: ['cr', 'relu', 'gelu'] as StudyActivation[],
  noise: 'DREG is second only to spectral normalisation on noise robustness',
  grid: { runs: 960, activations: 4, regularizers: 6, datasets: 8, seeds: 5 },
} as const;
