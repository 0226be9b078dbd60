import { mlpModel } from '../../models/mlp';
import { majorityModel } from '../../models/majority';
import { svmRbfModel } from '../../models/svm';
import { xgboostModel } from '../../models/xgboost';
import type { ModelRunner } from '../../models/types';
import { TABULAR_MODELS, TABULAR_SVM, TABULAR_XGBOOST } from './config';

/** Model ids of the tabular experiments, in table order (`cr` is the reference). */
export const TABULAR_MODEL_NAMES = ['cr', 'cr-nodreg', 'relu-mlp', 'gelu-mlp', 'logreg', 'svm-rbf', 'xgboost', 'majority'] as const;

/** Options that change the tabular models (CLI flags), JSON for worker threads. */
export interface TabularModelOptions {
  /** DREG λ for `cr` [--lambda]; default the paper's 10^-2.5. For ablations; recorded in results.json. */
  lambda?: number;
  [key: string]: unknown;
}

/** The tabular experiments' models with the hyper-parameters of tabular/config.ts. */
export function buildTabularModels(options: TabularModelOptions = {}): ModelRunner[] {
  const lambda = options.lambda ?? TABULAR_MODELS.cr.dreg.lambda;
  const lambdaText = options.lambda === undefined ? '10^-2.5' : String(lambda);
  return [
    mlpModel('cr', `ChainzRule MLP 32-32, cubic poly (tanh guard, GELU init) + DREG frobenius λ=${lambdaText}`, { ...TABULAR_MODELS.cr, dreg: { ...TABULAR_MODELS.cr.dreg, lambda } }),
    mlpModel('cr-nodreg', 'same ChainzRule MLP without DREG (ablation)', TABULAR_MODELS['cr-nodreg']),
    mlpModel('relu-mlp', 'MLP 32-32, ReLU', TABULAR_MODELS['relu-mlp']),
    mlpModel('gelu-mlp', 'MLP 32-32, GELU', TABULAR_MODELS['gelu-mlp']),
    mlpModel('logreg', 'logistic regression (same Adam loop, no hidden layer)', TABULAR_MODELS.logreg),
    svmRbfModel(TABULAR_SVM),
    xgboostModel(TABULAR_XGBOOST),
    majorityModel(),
  ];
}
