import type { MlpActivation, MlpConfig } from '../../models/mlp';
import { TABULAR_MODELS, TABULAR_TRAINING } from '../tabular/config';
import { SST5_HIDDEN, SST5_MODELS, SST5_TRAINING } from '../sst5/config';
import { YELP_HIDDEN, YELP_MODELS, YELP_TRAINING } from '../yelp/config';

/**
 * Every hyper-parameter of `chainz bench efficiency`, in one place.
 *
 * Each data set reuses its own benchmark's training configuration (width,
 * optimiser, batch size, epochs, epoch selection: sst5/config.ts,
 * tabular/config.ts for every tabular set, yelp/config.ts) unchanged, plus one rule for small
 * fractions: at least `minSteps` optimiser steps (the epochs are raised to
 * ⌈minSteps / batches per epoch⌉ when a subsample is small), so a 1% model is
 * not stopped after a handful of updates. Fixed before any result was seen.
 */
export const EFFICIENCY_FRACTIONS = [0.01, 0.05, 0.1, 0.25, 0.5, 1] as const;

/** Default seeds per (fraction, model). */
export const EFFICIENCY_DEFAULT_SEEDS = 3;

/** Lower bound on optimiser steps per training run (see `MlpConfig.minSteps`). */
export const EFFICIENCY_MIN_STEPS = 300;

/** Data sets the sweep runs on: sst5, yelp, or the name of a registered tabular data set (pima, sonar, …). */
export type EfficiencyDataset = string;

/** The configuration family of a data set: its own for sst5 and yelp, the tabular one (tabular/config.ts) for every tabular set. */
export function efficiencyFamily(dataset: EfficiencyDataset): 'sst5' | 'yelp' | 'tabular' {
  return dataset === 'sst5' || dataset === 'yelp' ? dataset : 'tabular';
}

/** Folds used to draw a test split on data sets without one (tabular sets, the yelp sample): seed i uses fold i mod k. */
export const EFFICIENCY_FOLDS = 5;

/** Model ids of the sweep, in table order (`cr` is the reference). */
export const EFFICIENCY_MODEL_NAMES = ['cr', 'cr-nodreg', 'relu-mlp', 'gelu-mlp', 'silu-mlp', 'tanh-mlp', 'logreg'] as const;

const base = {
  sst5: { cr: SST5_MODELS.cr, logreg: SST5_MODELS.logreg, training: SST5_TRAINING, hidden: SST5_HIDDEN, head: 'softmax' as const },
  tabular: { cr: TABULAR_MODELS.cr, logreg: TABULAR_MODELS.logreg, training: TABULAR_TRAINING, hidden: TABULAR_MODELS.cr.hidden, head: 'softmax' as const },
  yelp: { cr: YELP_MODELS.cr, logreg: YELP_MODELS.logreg, training: YELP_TRAINING, hidden: YELP_HIDDEN, head: 'ordinal' as const },
};

/**
 * The sweep's model configurations for a dataset: `cr` exactly as in that
 * dataset's benchmark, `cr-nodreg`, MLPs with ReLU / GELU / SiLU / tanh of the
 * same width, and `logreg` (with its benchmark's own schedule); the head is the data set's (softmax for sst5 and
 * the tabular sets, the ordinal head for yelp); all with `minSteps`.
 */
export function efficiencyConfigs(dataset: EfficiencyDataset): Record<(typeof EFFICIENCY_MODEL_NAMES)[number], MlpConfig> {
  const b = base[efficiencyFamily(dataset)];
  const t = { ...b.training, head: b.head, minSteps: EFFICIENCY_MIN_STEPS };
  const mlp = (activation: MlpActivation): MlpConfig => ({ hidden: [...b.hidden], activation, dreg: null, ...t });
  return {
    cr: { ...b.cr, ...t, hidden: [...b.hidden] },
    'cr-nodreg': { ...b.cr, ...t, hidden: [...b.hidden], dreg: null },
    'relu-mlp': mlp('relu'),
    'gelu-mlp': mlp('gelu'),
    'silu-mlp': mlp('silu'),
    'tanh-mlp': mlp('tanh'),
    logreg: { ...b.logreg, head: b.head, minSteps: EFFICIENCY_MIN_STEPS },
  };
}

/** The paper's claims this sweep measures (arXiv 2605.24340). */
export const EFFICIENCY_PAPER = {
  tau: { chainzRule: [1.01, 1.02], standard: [1.07, 1.09], text: 'τ (gradient tail ratio) 1.01–1.02 for ChainzRule vs 1.07–1.09 for standard activations, across every data fraction' },
  rntn: { text: 'beating RNTN with about 5% of its training data', fraction: 0.05, rntnAccuracy: 45.7, source: 'RNTN: Socher et al. 2013 (SST-5 test, trained on all phrases)' },
  source: 'arXiv 2605.24340',
};
