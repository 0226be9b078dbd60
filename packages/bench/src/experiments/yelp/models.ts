import { mlpModel, type MlpConfig } from '../../models/mlp';
import type { ModelRunner } from '../../models/types';
import { YELP_HIDDEN, YELP_MODELS } from './config';

/** Head ids of the Yelp benchmark, in table order (`cr` is the reference). */
export const YELP_MODEL_NAMES = ['cr', 'cr-nodreg', 'relu-mlp', 'gelu-mlp', 'logreg', 'cr-softmax', 'logreg-softmax'] as const;

/** Options that change the Yelp heads (CLI flags). */
export interface YelpModelOptions {
  /** DREG λ for `cr` and `cr-softmax` [--lambda]; default the paper's 10^-2.5. */
  lambda?: number;
  /** Library only (tests, ablations; no CLI flag): fields merged into every head's configuration; recorded in results.json. */
  overrides?: Partial<MlpConfig>;
}

/** The Yelp heads with the hyper-parameters of yelp.config.ts. */
export function buildYelpModels(options: YelpModelOptions = {}): ModelRunner[] {
  const lambda = options.lambda ?? YELP_MODELS.cr.dreg.lambda;
  const lambdaText = options.lambda === undefined ? '10^-2.5' : String(lambda);
  const o = options.overrides ?? {};
  const w = (o.hidden ?? YELP_HIDDEN).join('-');
  const lin = { ...o, hidden: [] };
  return [
    mlpModel('cr', `ChainzRule ${w}, cubic poly (tanh guard, GELU init) + DREG frobenius λ=${lambdaText}, ordinal head (K−1 ordered thresholds)`, { ...YELP_MODELS.cr, dreg: { ...YELP_MODELS.cr.dreg, lambda }, ...o }),
    mlpModel('cr-nodreg', 'same ChainzRule ordinal network without DREG (ablation)', { ...YELP_MODELS['cr-nodreg'], ...o }),
    mlpModel('relu-mlp', `MLP ${w}, ReLU, ordinal head`, { ...YELP_MODELS['relu-mlp'], ...o }),
    mlpModel('gelu-mlp', `MLP ${w}, GELU, ordinal head`, { ...YELP_MODELS['gelu-mlp'], ...o }),
    mlpModel('logreg', 'ordinal (proportional-odds) logistic regression, same loop', { ...YELP_MODELS.logreg, ...lin }),
    mlpModel('cr-softmax', `ChainzRule ${w} + DREG λ=${lambdaText} with a 5-way softmax head (head ablation)`, { ...YELP_MODELS['cr-softmax'], dreg: { ...YELP_MODELS['cr-softmax'].dreg, lambda }, ...o }),
    mlpModel('logreg-softmax', 'multinomial logistic regression, same loop', { ...YELP_MODELS['logreg-softmax'], ...lin }),
  ];
}
