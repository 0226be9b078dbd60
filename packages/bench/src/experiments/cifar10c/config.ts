import type { MlpConfig } from '../../models/mlp';
import type { CnnConfig } from '../../models/cnn';
import type { TrainOptions } from '../../models/train';

/**
 * Every hyper-parameter of `chainz bench cifar10c`, in one place.
 *
 * Fixed before any test (clean or corrupted) accuracy was looked at, and never
 * tuned on them. The paper gives no optimiser, widths or epochs for its CIFAR-10-C
 * result ("+2.32% mCA", parameter-matched MLPs), so these are our documented
 * choices, sized so that the default run (3 seeds × 5 models, 75 corrupted sets
 * of 1000 images) finishes within 15 minutes on the project's shared 2-core
 * machine (see docs/experiments/cifar10c.md for the measured time).
 *
 * All models share the optimiser, batch size, epochs, data, input
 * standardisation, validation split and seeds; only the architecture and the
 * activation differ. λ = 10^-2.5 is the paper's DREG coefficient.
 */
export const CIFAR10C_TRAINING = {
  /** Passes over the training part (3600 images ⇒ 29 batches of 128 per epoch). */
  epochs: 8,
  batchSize: 128,
  /** Adam learning rate. */
  learningRate: 1e-3,
  weightDecay: 0,
  /**
   * Early stopping on the held-out validation part: stop after 3 epochs without a
   * lower validation cross-entropy (the best epoch's weights are restored in any
   * case, so this saves time and changes a result only if a later epoch would have
   * improved on the validation loss). Added after the first timing run, where the
   * MLPs' validation loss bottomed out at epochs 2–6 of 8; decided on validation
   * data only.
   */
  patience: 3,
} as const satisfies Omit<TrainOptions, 'dreg'>;

/** Data protocol defaults (CLI flags can change the sizes and seeds; the report states them). */
export const CIFAR10C_PROTOCOL = {
  /** The first N official training images (train_first4000.bin holds 0..3999). */
  trainSize: 4000,
  /** The first N official test images (test_first1000.bin holds 0..999); every corrupted set is made from these. */
  testSize: 1000,
  /**
   * Share of the training images held out (stratified, per seed) to choose the
   * epoch: after training, the weights of the epoch with the lowest validation
   * cross-entropy are restored. The test sets are never used for this.
   */
  validationFraction: 0.1,
  /** Training seeds (initialisation, batch order, validation split): seeds 0..n−1. */
  seeds: 3,
  /** Seed of the corruption generator (`corrupt()` of @chainz/data), the same for every corruption × severity. */
  corruptionSeed: 0,
} as const;

/** DREG as in the paper's DREG-only study: exact layer-wise Frobenius penalty, λ = 10^-2.5. */
const DREG = { variant: 'frobenius', lambda: 10 ** -2.5 } as const;
/** The ChainzRule activation: cubic, monomial basis, tanh guard (s = 3), per channel, initialised as GELU. */
const POLY = { degree: 3, basis: 'monomial', guard: 'tanh' } as const;

/**
 * The MLPs of the paper's setting (flattened 32×32×3 input, standardised per
 * channel), parameter-matched: the ChainzRule MLP's 4 coefficients per hidden
 * unit (768) are offset by 7 more units in the baselines' second layer
 * (306,058 vs 306,039 parameters, −0.006%).
 *
 * (The first timing runs used 3072-128-128 / 3072-128-135; narrowed to 96 for
 * time only, to keep the default run well inside 15 minutes on the loaded
 * machine. Those runs' results are kept in docs/experiments/cifar10c.md.)
 */
export const CIFAR10C_MLPS = {
  'cr-mlp': { hidden: [96, 96], activation: 'poly', poly: POLY, polyInit: 'gelu', dreg: DREG },
  'gelu-mlp': { hidden: [96, 103], activation: 'gelu', dreg: null },
  'relu-mlp': { hidden: [96, 103], activation: 'relu', dreg: null },
} satisfies Record<string, Pick<MlpConfig, 'hidden' | 'activation' | 'poly' | 'polyInit' | 'dreg'>>;

/**
 * Small CNNs: a 4×4 stride-4 convolution (32×32 → 8×8, "patchify"), a 3×3
 * stride-2 SAME convolution (→ 4×4), flatten, dense to the 10 classes.
 * Parameter-matched: the ChainzRule CNN's 4 coefficients per channel (192) are
 * offset by one more channel in the ReLU CNN's second layer (10,746 vs 10,859
 * parameters, +1.05%; one channel is the finest step here).
 *
 * (The first timing runs used three 3×3 stride-2 layers 8-16-32; the ChainzRule
 * CNN then took ~40% of the run's time, most of it in the polynomial activations
 * of the 16×16 first-layer maps, and the run needed 14–15 min under load. This
 * layout has 57% fewer activations per image. Changed for time only.)
 */
export const CIFAR10C_CNNS = {
  'cr-cnn': {
    convs: [
      { filters: 16, kernel: 4, stride: 4, padding: 'same' },
      { filters: 32, kernel: 3, stride: 2, padding: 'same' },
    ],
    activation: 'poly',
    poly: POLY,
    polyInit: 'gelu',
    dreg: DREG,
  },
  'relu-cnn': {
    convs: [
      { filters: 16, kernel: 4, stride: 4, padding: 'same' },
      { filters: 33, kernel: 3, stride: 2, padding: 'same' },
    ],
    activation: 'relu',
    dreg: null,
  },
} satisfies Record<string, CnnConfig & { dreg: TrainOptions['dreg'] }>;

/** Which baseline each model's CE/mCE is normalised by, and the pairs compared over seeds. */
export const CIFAR10C_BASELINES = { 'cr-mlp': 'relu-mlp', 'gelu-mlp': 'relu-mlp', 'relu-mlp': 'relu-mlp', 'cr-cnn': 'relu-cnn', 'relu-cnn': 'relu-cnn' } as const;
export const CIFAR10C_COMPARISONS: ReadonlyArray<readonly [string, string]> = [
  ['cr-mlp', 'gelu-mlp'],
  ['cr-mlp', 'relu-mlp'],
  ['cr-cnn', 'relu-cnn'],
];

/** The paper's figure (arXiv 2605.24340, abstract): "+2.32% mean corruption accuracy on CIFAR-10-C". */
export const CIFAR10C_PAPER = {
  claim: '+2.32% mCA',
  mcaGainPoints: 2.32,
  protocol: 'not stated in the paper (nor the baseline the gain is measured against)',
  source: 'arXiv 2605.24340, abstract',
  tau: '1.01–1.02 (claimed, all tasks)',
};

/** Reference points from the literature (not measured here), for the docs. */
export const CIFAR10C_ANCHORS = 'ResNet-18 without augmentation ≈ 74% mCA, AugMix ≈ 88.6% (full CIFAR-10, 50k training images)';
