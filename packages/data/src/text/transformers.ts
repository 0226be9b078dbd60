import { ConfigError, DataError, ShapeError } from '@chainz/core';
import { POOLINGS, type EncodeOptions, type TextEncoder } from './encoder';
import { nodeApi } from './node';
import { importOptional } from './optional';

/** Options of {@link createTransformersEncoder}. */
export interface TransformersEncoderOptions {
  /**
   * A local model folder (Hugging Face layout: `config.json`,
   * `tokenizer.json`, `onnx/model.onnx`), or a model id resolved inside
   * `localModelPath` (and, with `allowRemote`, on the Hugging Face Hub).
   */
  model: string;
  /** Folder holding model folders; default: the folder containing `model` when that is a path. */
  localModelPath?: string;
  /** Allow downloading from the Hugging Face Hub. Default false (offline). */
  allowRemote?: boolean;
  /** ONNX weights variant (`onnx/model.onnx` for fp32). Default `'fp32'`. */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
  /**
   * Truncate inputs to this many tokens, special tokens included. Default:
   * the tokenizer's `model_max_length`, capped at the model's
   * `max_position_embeddings`.
   */
  maxLength?: number;
}

// Structural types of the few transformers.js objects used here.
interface HfTensor {
  data: ArrayLike<number | bigint>;
  dims: number[];
  dispose?(): void;
}
type HfTokenizer = ((texts: string[], o: { padding: boolean; truncation: boolean; max_length?: number }) => Record<string, HfTensor>) & {
  model_max_length?: number;
};
interface HfModel {
  (inputs: Record<string, HfTensor>): Promise<Record<string, HfTensor>>;
  config?: { hidden_size?: number; max_position_embeddings?: number };
  dispose?(): Promise<unknown>;
}

const INSTALL = 'pnpm add @huggingface/transformers@^4.3.2 (it pulls onnxruntime-node, ~470 MB; its install script may stay skipped: the CPU binaries ship in the package)';

/**
 * A BERT-family sentence encoder run by `@huggingface/transformers` 4.x on
 * ONNX Runtime (CPU), offline by default (`env.allowRemoteModels = false`,
 * `env.localModelPath`). The package is an optional peer dependency loaded
 * with `import()` on the first call.
 *
 * Pooling of the last hidden state `[L, d]`: `cls` takes token 0 (`[CLS]`);
 * `mean` averages the tokens with attention mask 1 (special tokens
 * included, padding excluded). Computed in float64, returned as float32.
 *
 * The id is `transformers:<model>:<dtype>:<fingerprint>`, the fingerprint a
 * sha256 over the config and tokenizer files and, for each ONNX file, its
 * size and first and last MiB (so a changed model invalidates cached embeddings).
 *
 * @returns an encoder with `dimension = config.hidden_size`.
 * @throws BackendError with the install command if `@huggingface/transformers` is missing.
 * @throws ConfigError (option `model`) if the model folder does not exist and
 *   remote loading is off, or `maxLength` is invalid.
 */
export async function createTransformersEncoder(options: TransformersEncoderOptions): Promise<TextEncoder> {
  const { path, fsp } = await nodeApi();
  if (!options || typeof options.model !== 'string' || options.model === '') {
    throw new ConfigError('model must be a model folder or a model id', { option: 'model' });
  }
  if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength > 1)) {
    throw new ConfigError(`maxLength must be an integer > 1, got ${options.maxLength}`, { option: 'maxLength' });
  }
  const dtype = options.dtype ?? 'fp32';
  const allowRemote = options.allowRemote ?? false;

  // Resolve a folder path into (localModelPath, id) as transformers.js expects.
  let localModelPath = options.localModelPath ? path.resolve(options.localModelPath) : undefined;
  let modelId = options.model;
  const asPath = path.resolve(options.model);
  if (!options.localModelPath && (await isDir(asPath))) {
    localModelPath = path.dirname(asPath);
    modelId = path.basename(asPath);
  }
  const folder = localModelPath ? path.join(localModelPath, modelId) : undefined;
  const haveLocal = folder !== undefined && (await isDir(folder));
  if (!haveLocal && !allowRemote) {
    throw new ConfigError(
      `model folder not found: ${folder ?? options.model} (remote loading is off)`,
      { option: 'model' },
      'pass a local folder with config.json, tokenizer.json and onnx/model.onnx, or allowRemote: true where the network is reachable',
    );
  }

  const hf = await importOptional('@huggingface/transformers', () => import('@huggingface/transformers'), 'createTransformersEncoder', INSTALL);
  hf.env.allowRemoteModels = allowRemote;
  hf.env.allowLocalModels = true;
  if (localModelPath) hf.env.localModelPath = localModelPath.endsWith(path.sep) ? localModelPath : localModelPath + path.sep;

  let tokenizer: HfTokenizer;
  let model: HfModel;
  try {
    tokenizer = (await hf.AutoTokenizer.from_pretrained(modelId, { local_files_only: !allowRemote })) as unknown as HfTokenizer;
    model = (await hf.AutoModel.from_pretrained(modelId, { local_files_only: !allowRemote, dtype, device: 'cpu' })) as unknown as HfModel;
  } catch (e) {
    throw new DataError(`cannot load model '${modelId}': ${(e as Error).message}`, { file: folder }, undefined, { cause: e });
  }

  let config: { hidden_size?: number; max_position_embeddings?: number } = model.config ?? {};
  if (haveLocal && !config.hidden_size) {
    config = JSON.parse(await fsp.readFile(path.join(folder!, 'config.json'), 'utf8'));
  }
  const d = config.hidden_size;
  if (!(Number.isInteger(d) && d! > 0)) throw new DataError(`model '${modelId}' has no hidden_size in its config`, { file: folder });
  const maxPos = config.max_position_embeddings ?? 512;
  const tokMax = Number(tokenizer.model_max_length);
  const maxLength = options.maxLength ?? Math.min(Number.isFinite(tokMax) && tokMax > 0 ? tokMax : maxPos, maxPos);

  const fingerprint = haveLocal ? await fingerprintFolder(folder!) : `remote`;
  const id = `transformers:${modelId}:${dtype}:${fingerprint}`;

  return {
    id,
    dimension: d!,
    description: `${modelId} (${dtype}) via @huggingface/transformers on ONNX Runtime (cpu), hidden size ${d}, max ${maxLength} tokens`,
    async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array> {
      if (!POOLINGS.includes(opts.pooling)) throw new ConfigError(`pooling must be 'cls' or 'mean', got '${opts.pooling}'`, { option: 'pooling' });
      const n = texts.length;
      if (n === 0) return new Float32Array(0);
      const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: maxLength });
      let outputs: Record<string, HfTensor> | undefined;
      try {
        outputs = await model(inputs);
        const h = outputs.last_hidden_state;
        if (!h) throw new ShapeError(`model '${modelId}' has no last_hidden_state output (outputs: ${Object.keys(outputs).join(', ')})`, { tensor: 'last_hidden_state' });
        const [b, L, dd] = h.dims;
        if (b !== n || dd !== d) throw new ShapeError(`last_hidden_state has shape [${h.dims}], expected [${n}, L, ${d}]`, { tensor: 'last_hidden_state' });
        return pool(h.data as Float32Array, inputs.attention_mask.data, n, L, d!, opts.pooling);
      } finally {
        for (const t of Object.values(inputs)) t.dispose?.();
        for (const t of Object.values(outputs ?? {})) t.dispose?.();
      }
    },
    dispose() {
      void model.dispose?.()?.catch(() => undefined);
    },
  };
}

/**
 * Pool hidden states `[n, L, d]` into `[n, d]`: `cls` = position 0, `mean` =
 * average over positions with `mask = 1` (float64 accumulation).
 * @internal
 */
export function pool(h: ArrayLike<number>, mask: ArrayLike<number | bigint>, n: number, L: number, d: number, pooling: 'cls' | 'mean'): Float32Array {
  const out = new Float32Array(n * d);
  const acc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const base = i * L * d;
    if (pooling === 'cls') {
      for (let k = 0; k < d; k++) out[i * d + k] = h[base + k];
      continue;
    }
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < L; t++) {
      if (Number(mask[i * L + t]) === 0) continue;
      count++;
      for (let k = 0; k < d; k++) acc[k] += h[base + t * d + k];
    }
    for (let k = 0; k < d; k++) out[i * d + k] = count > 0 ? acc[k] / count : 0;
  }
  return out;
}

async function isDir(p: string): Promise<boolean> {
  const { fsp } = await nodeApi();
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** sha256 over config/tokenizer files and each ONNX file's size, first and last MiB; 16 hex chars. */
async function fingerprintFolder(folder: string): Promise<string> {
  const { fsp, path, crypto } = await nodeApi();
  const h = crypto.createHash('sha256');
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
    try {
      h.update(`${f}\0`).update(await fsp.readFile(path.join(folder, f)));
    } catch {
      // optional file
    }
  }
  const onnxDir = path.join(folder, 'onnx');
  const names = (await fsp.readdir(onnxDir).catch(() => [] as string[])).filter((f) => f.endsWith('.onnx') || f.endsWith('.onnx_data')).sort();
  const MiB = 1 << 20;
  for (const f of names) {
    const fh = await fsp.open(path.join(onnxDir, f), 'r');
    try {
      const { size } = await fh.stat();
      h.update(`${f}\0${size}\0`);
      for (const pos of size > 2 * MiB ? [0, size - MiB] : [0]) {
        const buf = Buffer.alloc(Math.min(size, size > 2 * MiB ? MiB : size));
        await fh.read(buf, 0, buf.length, pos);
        h.update(buf);
      }
    } finally {
      await fh.close();
    }
  }
  return h.digest('hex').slice(0, 16);
}
