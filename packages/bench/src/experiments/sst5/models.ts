import { mlpModel, type MlpConfig } from '../../models/mlp';
import type { ModelRunner } from '../../models/types';
import { SST5_HIDDEN, SST5_MODELS } from './config';

/** Head ids of the SST-5 benchmark, in table order (`cr` is the reference). */
export const SST5_MODEL_NAMES = ['cr', 'cr-nodreg', 'relu-mlp', 'gelu-mlp', 'logreg'] as const;

/** Options that change the SST-5 heads (CLI flags). */
export interface Sst5ModelOptions {
  /** DREG λ for `cr` [--lambda]; default the paper's 10^-2.5. */
  lambda?: number;
  /**
   * Library only (tests, ablations; no CLI flag): fields merged into every
   * head's configuration after sst5.config.ts. Recorded in results.json and in
   * the resume fingerprint like every configuration.
   */
  overrides?: Partial<MlpConfig>;
}

/** The SST-5 heads with the hyper-parameters of sst5.config.ts. */
export function buildSst5Models(options: Sst5ModelOptions = {}): ModelRunner[] {
  const lambda = options.lambda ?? SST5_MODELS.cr.dreg.lambda;
  const lambdaText = options.lambda === undefined ? '10^-2.5' : String(lambda);
  const o = options.overrides ?? {};
  const w = (o.hidden ?? SST5_HIDDEN).join('-');
  return [
    mlpModel('cr', `ChainzRule head ${w}, cubic poly (tanh guard, GELU init) + DREG frobenius λ=${lambdaText}, softmax`, { ...SST5_MODELS.cr, dreg: { ...SST5_MODELS.cr.dreg, lambda }, ...o }),
    mlpModel('cr-nodreg', 'same ChainzRule head without DREG (ablation)', { ...SST5_MODELS['cr-nodreg'], ...o }),
    mlpModel('relu-mlp', `MLP head ${w}, ReLU`, { ...SST5_MODELS['relu-mlp'], ...o }),
    mlpModel('gelu-mlp', `MLP head ${w}, GELU`, { ...SST5_MODELS['gelu-mlp'], ...o }),
    mlpModel('logreg', 'logistic regression probe (same Adam loop, no hidden layer)', { ...SST5_MODELS.logreg, ...o, hidden: [] }),
  ];
}
