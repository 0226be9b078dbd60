import { mlpModel } from '../models/mlp';
import { majorityModel } from '../models/majority';
import { svmRbfModel } from '../models/svm';
import { xgboostModel } from '../models/xgboost';
import type { ModelRunner } from '../models/types';
import { PIMA_MODELS, PIMA_SVM, PIMA_XGBOOST } from './pima.config';

/** Model ids of the Pima benchmark, in table order (`cr` is the reference). */
export const PIMA_MODEL_NAMES = ['cr', 'cr-nodreg', 'relu-mlp', 'gelu-mlp', 'logreg', 'svm-rbf', 'xgboost', 'majority'] as const;

/** Options that change the Pima models (CLI flags). */
export interface PimaModelOptions {
  /** DREG λ for `cr` [--lambda]; default the paper's 10^-2.5. For ablations; recorded in results.json. */
  lambda?: number;
}

/** The Pima benchmark's models with the hyper-parameters of pima.config.ts. */
export function buildPimaModels(options: PimaModelOptions = {}): ModelRunner[] {
  const lambda = options.lambda ?? PIMA_MODELS.cr.dreg.lambda;
  const lambdaText = options.lambda === undefined ? '10^-2.5' : String(lambda);
  return [
    mlpModel('cr', `ChainzRule MLP 32-32, cubic poly (tanh guard, GELU init) + DREG frobenius λ=${lambdaText}`, { ...PIMA_MODELS.cr, dreg: { ...PIMA_MODELS.cr.dreg, lambda } }),
    mlpModel('cr-nodreg', 'same ChainzRule MLP without DREG (ablation)', PIMA_MODELS['cr-nodreg']),
    mlpModel('relu-mlp', 'MLP 32-32, ReLU', PIMA_MODELS['relu-mlp']),
    mlpModel('gelu-mlp', 'MLP 32-32, GELU', PIMA_MODELS['gelu-mlp']),
    mlpModel('logreg', 'logistic regression (same Adam loop, no hidden layer)', PIMA_MODELS.logreg),
    svmRbfModel(PIMA_SVM),
    xgboostModel(PIMA_XGBOOST),
    majorityModel(),
  ];
}
