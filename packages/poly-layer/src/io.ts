import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ChainzError, DataError, importNodeBuiltin } from '@chainz/core';

/*
 * Saving a tfjs-layers model to a directory in Node without tfjs-node (which is
 * the only provider of tfjs's `file://` handler). The files use tfjs's standard
 * layout — `model.json` (topology + weights manifest) and a binary weights file —
 * so `tfjs-node`'s `file://` loader can read them too.
 *
 * Atomicity: the weights go to a new file named by their content hash
 * (`weights.<sha256-16>.bin`, temp file + fsync + rename), then `model.json` is
 * replaced the same way, and only then are the weights files the previous
 * `model.json` referred to removed. A reader therefore always sees a `model.json`
 * whose weights file is complete, whatever moment a crash happens.
 *
 * The Node built-ins are loaded on demand (`importNodeBuiltin`), out of sight of
 * bundlers, so the package bundles for browsers; there, these two functions
 * throw ChainzError `E_IO` and tfjs's own handlers apply (`model.save('downloads://m')`,
 * `tf.loadLayersModel(tf.io.browserFiles([json, weights]))`, `indexeddb://`).
 */

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type Crypto = typeof import('node:crypto');

const BROWSER_HINT =
  "in a browser, use tfjs's IO handlers: model.save('downloads://name') or 'indexeddb://name'; tf.loadLayersModel(tf.io.browserFiles([json, weights]))";
const node = <T>(id: `node:${string}`, feature: string) => importNodeBuiltin<T>(id, feature, BROWSER_HINT);

const WEIGHTS_RE = /^weights\.[0-9a-f]{16}\.bin$/;

async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const fs = await node<Fs>('node:fs/promises', 'saveModel');
  const tmp = `${file}.${process.pid}.${Date.now()}.${Math.floor(Math.random() * 1e9)}.tmp`;
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new ChainzError('E_IO', `could not write ${file}: ${(e as Error).message}`, { file }, undefined, { cause: e });
  }
}

/**
 * Saves a tfjs-layers model (architecture + weights) to a directory, atomically:
 * `<dir>/model.json` and `<dir>/weights.<hash>.bin` in tfjs's standard format.
 * Models with `PolyActivation`/`PolyDense` layers need this package imported when
 * loading (it registers the classes).
 *
 * @param model the model (`tf.sequential`, `tf.model` or `loadLayersModel` result).
 * @param dir target directory (created if missing); an existing model there is replaced.
 * @returns tfjs's save result (sizes of topology and weights).
 * @throws ChainzError `E_IO` (naming the file) on write failure, and outside Node
 *   (no file system: use tfjs's IO handlers there, e.g. `model.save('downloads://name')`).
 */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<tf.io.SaveResult> {
  const fs = await node<Fs>('node:fs/promises', 'saveModel');
  const path = await node<Path>('node:path', 'saveModel');
  const crypto = await node<Crypto>('node:crypto', 'saveModel');
  await fs.mkdir(dir, { recursive: true }).catch((e: Error) => {
    throw new ChainzError('E_IO', `could not create directory ${dir}: ${e.message}`, { file: dir }, undefined, { cause: e });
  });
  const modelPath = path.join(dir, 'model.json');
  const previous = await readPreviousWeightPaths(modelPath);
  return model.save(
    tf.io.withSaveHandler(async (artifacts: tf.io.ModelArtifacts) => {
      const weights = new Uint8Array(artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0));
      const hash = crypto.createHash('sha256').update(weights).digest('hex').slice(0, 16);
      const weightsName = `weights.${hash}.bin`;
      await writeAtomic(path.join(dir, weightsName), weights);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeAtomic(modelPath, JSON.stringify(modelJson));
      for (const old of previous) {
        if (old !== weightsName && WEIGHTS_RE.test(old)) await fs.rm(path.join(dir, old), { force: true }).catch(() => undefined);
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

async function readPreviousWeightPaths(modelPath: string): Promise<string[]> {
  const fs = await node<Fs>('node:fs/promises', 'saveModel');
  try {
    const json = JSON.parse(await fs.readFile(modelPath, 'utf8')) as tf.io.ModelJSON;
    return (json.weightsManifest ?? []).flatMap((g) => g.paths);
  } catch {
    return [];
  }
}

/**
 * Loads a model saved by {@link saveModel} (or any tfjs `model.json` + weights
 * files in one directory).
 *
 * @param dir the directory holding `model.json`.
 * @returns the model, with the same weights (identical predictions).
 * @throws ChainzError `E_IO` naming the file when a file is missing or unreadable,
 *   and outside Node (use `tf.loadLayersModel(tf.io.browserFiles(…))` there);
 *   DataError naming `model.json` when it is not valid JSON or lacks `modelTopology`.
 */
export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  const fs = await node<Fs>('node:fs/promises', 'loadModel');
  const path = await node<Path>('node:path', 'loadModel');
  const modelPath = path.join(dir, 'model.json');
  let text: string;
  try {
    text = await fs.readFile(modelPath, 'utf8');
  } catch (e) {
    throw new ChainzError('E_IO', `cannot read the model: ${(e as Error).message}`, { file: modelPath }, 'save one with saveModel(model, dir) first', { cause: e });
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (e) {
    throw new DataError(`not valid JSON: ${(e as Error).message}`, { file: modelPath }, undefined, { cause: e });
  }
  if (json === null || typeof json !== 'object' || json.modelTopology == null) {
    throw new DataError('missing "modelTopology"', { file: modelPath });
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const file = path.join(dir, p);
        try {
          const b = await fs.readFile(file);
          buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
        } catch (e) {
          throw new ChainzError('E_IO', `cannot read a weights file: ${(e as Error).message}`, { file }, undefined, { cause: e });
        }
      }
    }
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}
