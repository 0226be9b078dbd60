import { mlpModel } from '../../models/mlp';
import type { ModelRunner } from '../../models/types';
import { efficiencyConfigs, type EfficiencyDataset } from './config';

/** Options that change the sweep's models. */
export interface EfficiencyModelOptions {
  dataset: EfficiencyDataset;
  [key: string]: unknown;
  /** DREG λ for `cr` [--lambda]; default the dataset benchmark's (10^-2.5). */
  lambda?: number;
}

/** The sweep's models for a data set (see efficiency/config.ts). */
export function buildEfficiencyModels(options: EfficiencyModelOptions): ModelRunner[] {
  const c = efficiencyConfigs(options.dataset);
  const cr = options.lambda === undefined ? c.cr : { ...c.cr, dreg: { ...c.cr.dreg!, lambda: options.lambda } };
  const w = c.cr.hidden.join('-');
  const head = c.cr.head === 'ordinal' ? ', ordinal head' : '';
  return [
    mlpModel('cr', `ChainzRule ${w}, cubic poly + DREG λ=${options.lambda ?? '10^-2.5'}${head}`, cr),
    mlpModel('cr-nodreg', `ChainzRule ${w} without DREG${head}`, c['cr-nodreg']),
    mlpModel('relu-mlp', `MLP ${w}, ReLU${head}`, c['relu-mlp']),
    mlpModel('gelu-mlp', `MLP ${w}, GELU${head}`, c['gelu-mlp']),
    mlpModel('silu-mlp', `MLP ${w}, SiLU${head}`, c['silu-mlp']),
    mlpModel('tanh-mlp', `MLP ${w}, tanh${head}`, c['tanh-mlp']),
    mlpModel('logreg', `logistic regression${head}`, c.logreg),
  ];
}
