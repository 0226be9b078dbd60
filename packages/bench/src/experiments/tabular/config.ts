import type { MlpConfig } from '../../models/mlp';
import type { SvmConfig } from '../../models/svm';
import type { XgboostConfig } from '../../models/xgboost';

/**
 * Every hyper-parameter of the tabular experiments (`chainz bench pima`,
 * `chainz bench tabular`, `chainz bench suite`), in one place.
 *
 * Chosen for Pima before looking at any test fold and never tuned on them (nor
 * on the other tabular sets); the paper does not state its optimiser, widths
 * or epochs, so these are our documented choices. All MLPs (cr, cr-nodreg, relu-mlp, gelu-mlp) share width, depth,
 * optimiser, batch size and epochs; `logreg` is the same loop with no hidden
 * layer. λ = 10^-2.5 is the paper's DREG coefficient.
 */
export const TABULAR_TRAINING = {
  /** Maximum passes over the training part (Pima: ≈ 587 rows ⇒ 10 batches of 64 per epoch). */
  epochs: 60,
  batchSize: 64,
  /** Adam learning rate. */
  learningRate: 3e-3,
  weightDecay: 0,
  /** 15% of each training fold (stratified) is held out to pick the best epoch; the test fold is never used. */
  validationFraction: 0.15,
} as const;

const HIDDEN = [32, 32];

export const TABULAR_MODELS = {
  cr: {
    hidden: HIDDEN,
    activation: 'poly',
    poly: { degree: 3, basis: 'monomial', guard: 'tanh' },
    polyInit: 'gelu',
    dreg: { variant: 'frobenius', lambda: 10 ** -2.5 },
    ...TABULAR_TRAINING,
  },
  'cr-nodreg': {
    hidden: HIDDEN,
    activation: 'poly',
    poly: { degree: 3, basis: 'monomial', guard: 'tanh' },
    polyInit: 'gelu',
    dreg: null,
    ...TABULAR_TRAINING,
  },
  'relu-mlp': { hidden: HIDDEN, activation: 'relu', dreg: null, ...TABULAR_TRAINING },
  'gelu-mlp': { hidden: HIDDEN, activation: 'gelu', dreg: null, ...TABULAR_TRAINING },
  logreg: { hidden: [], activation: 'relu', dreg: null, ...TABULAR_TRAINING },
} satisfies Record<string, MlpConfig>;

export const TABULAR_SVM: SvmConfig = { cost: 1, gamma: null };
export const TABULAR_XGBOOST: XgboostConfig = { iterations: 100, maxDepth: 3, eta: 0.1, subsample: 0.8, colsampleBytree: 0.8 };
