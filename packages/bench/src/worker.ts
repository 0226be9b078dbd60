// Worker-thread entry: initialise the backend once, then run (model, fold) units.
import { useBackend } from './backend';
import { modelsFor } from './experiments/registry';
import type { WorkerTask } from './executor';
import type { FitResult } from './models/types';

let ready: Promise<unknown> | undefined;

export default async function runUnit(task: WorkerTask): Promise<FitResult> {
  ready ??= useBackend(task.backend);
  await ready;
  const model = modelsFor(task.experiment, task.experimentOptions).find((m) => m.name === task.model);
  if (!model) throw new Error(`worker: experiment ${task.experiment} has no model ${task.model}`);
  return model.run(task.fold, task.seed);
}
