import { ConfigError } from '@chainz/core';
import type { ModelRunner } from '../models/types';
import { buildPimaModels } from './pima.models';
import { buildSst5Models } from './sst5.models';
import { buildYelpModels } from './yelp.models';
import { buildEfficiencyModels } from './efficiency.models';
import { buildCifar10cModels } from './cifar10c.models';

/** Model runners of an experiment, by experiment id (used by worker threads). */
export function modelsFor(experiment: string, options: Record<string, unknown> = {}): ModelRunner[] {
  switch (experiment) {
    case 'pima':
      return buildPimaModels(options);
    case 'sst5':
      return buildSst5Models(options);
    case 'yelp':
      return buildYelpModels(options);
    case 'efficiency':
      return buildEfficiencyModels(options as { dataset: 'sst5' | 'pima' | 'yelp'; lambda?: number });
    case 'cifar10c':
      return buildCifar10cModels(options);
    default:
      throw new ConfigError(`no models registered for experiment '${experiment}'`);
  }
}
