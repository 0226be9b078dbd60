/**
 * The built-in experiments, one folder each; `registerBuiltinExperiments()`
 * makes them available to `chainz bench <name>` and to worker threads.
 */
import type { Experiment } from '../runner/contract';
import { registerExperiment } from '../runner/registry';
import { pimaExperiment } from './pima';
import { tabularExperiment } from './tabular';
import { sst5Experiment } from './sst5';
import { yelpExperiment } from './yelp';
import { efficiencyExperiment } from './efficiency';
import { cifar10cExperiment } from './cifar10c';
import { suiteExperiment } from './suite';
import { dregStudyExperiment } from './dreg-study';
import { tauShiftExperiment } from './tau-shift';

/** The built-in experiments, in `chainz --help` order. */
export const BUILTIN_EXPERIMENTS: readonly Experiment<any, any, any, any>[] = [pimaExperiment, tabularExperiment, suiteExperiment, sst5Experiment, yelpExperiment, efficiencyExperiment, cifar10cExperiment, dregStudyExperiment, tauShiftExperiment];

/** Register every built-in experiment (idempotent). */
export function registerBuiltinExperiments(): void {
  for (const e of BUILTIN_EXPERIMENTS) registerExperiment(e);
}
