import { ConfigError } from '@chainz/core';
import type { ModelRunner } from '../models/types';
import { buildPimaModels } from './pima.models';
import { buildCifar10cModels } from './cifar10c.models';

/** Model runners of an experiment, by experiment id (used by worker threads). */
export function modelsFor(experiment: string, options: Record<string, unknown> = {}): ModelRunner[] {
  switch (experiment) {
    case 'pima':
      return buildPimaModels(options);
    case 'cifar10c':
      return buildCifar10cModels(options);
    default:
      throw new ConfigError(`no models registered for experiment '${experiment}'`);
  }
}
