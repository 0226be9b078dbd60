// Worker-thread entry: initialise the backend once, register the built-in
// experiments and the run's plugins, then run unit tasks.
import { useBackend } from '../backend';
import { registerBuiltinExperiments } from '../experiments';
import { loadPluginModules } from './plugins';
import { getExperiment } from './registry';
import { modelCache, runWithModel, serializeError, type WorkerReply, type WorkerTask } from './executor';

let ready: Promise<unknown> | undefined;
const modelOf = modelCache();

/**
 * Run a task; an error comes back as data ({@link WorkerReply}) so that a
 * ChainzError keeps its class name, code, location and hint across the
 * thread boundary (a thrown error would arrive as a plain Error).
 */
export default async function runTask(task: WorkerTask): Promise<WorkerReply> {
  try {
    return { outputs: await run(task) };
  } catch (e) {
    return { error: serializeError(e) };
  }
}

async function run(task: WorkerTask): Promise<unknown[]> {
  ready ??= (async () => {
    if (!process.env.CHAINZ_DEBUG) (await import('@tensorflow/tfjs-core')).env().set('PROD', true);
    registerBuiltinExperiments();
    await loadPluginModules(task.plugins);
    await useBackend(task.backend);
  })();
  await ready;
  return runWithModel(modelOf(getExperiment(task.experiment), task.modelOptions, task.model), task.payloads, task.seeds);
}
