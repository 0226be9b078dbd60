import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NumericError, ShapeError } from '@chainz/core';
import { defaultEmbeddingCacheDir, embeddingCacheFile, hashTexts, readEmbeddingCache, writeEmbeddingCache } from './cache';
import { POOLINGS, type Pooling, type TextEncoder } from './encoder';

/** What happened with the embedding cache during one {@link extractEmbeddings} call. */
export interface EmbeddingCacheEvent {
  /**
   * `hit`: read from the cache; `miss`: no cache file, computing;
   * `corrupt`: a cache file failed verification and is being rebuilt;
   * `write`: the cache file was written; `write-failed`: writing it failed
   * (the embeddings are still returned).
   */
  type: 'hit' | 'miss' | 'corrupt' | 'write' | 'write-failed';
  file: string;
  /** Why the file was corrupt / the write failed. */
  reason?: string;
}

/** Options of {@link extractEmbeddings}. */
export interface ExtractEmbeddingsOptions {
  /** The sentence encoder (see {@link TextEncoder}). */
  encoder: TextEncoder;
  /** Pooling of token states into a sentence vector. Default `'mean'`. */
  pooling?: Pooling;
  /** Texts per `encoder.encode` call. Default 32. */
  batchSize?: number;
  /**
   * Cache folder. Default `$CHAINZ_CACHE_DIR/embeddings`, else
   * `~/.cache/chainz/embeddings` ({@link defaultEmbeddingCacheDir}).
   */
  cacheDir?: string;
  /** Read and write the on-disk cache. Default true. */
  cache?: boolean;
  /**
   * Encode texts in order of length (stable, then restored to the input
   * order), so batches need less padding — several times faster on real
   * corpora. The output order is always the input order. Default true.
   */
  sortByLength?: boolean;
  /** Called after each batch (and once on a cache hit) with texts done and total. */
  onProgress?: (done: number, total: number) => void;
  /** Show a progress bar on stderr (cli-progress), only if stderr is a terminal. Default false. */
  progress?: boolean;
  /**
   * Cache events (hit, miss, corrupt, write, write-failed). Without a
   * handler, `corrupt` and `write-failed` are reported with `process.emitWarning`.
   */
  onCacheEvent?: (event: EmbeddingCacheEvent) => void;
}

/**
 * Sentence embeddings of `texts` with a {@link TextEncoder}, cached on disk.
 *
 * The cache key is the encoder id, the pooling and {@link hashTexts} of the
 * whole text list (order matters); the file is verified (header and sha256
 * of the data) before use and rebuilt when corrupt or truncated; it is
 * written atomically (temporary file + rename). See `docs/text.md`.
 *
 * @param texts N texts.
 * @returns `[N, d]` float32 tensor, `d = encoder.dimension`, row i = texts[i].
 *   The caller owns (and disposes) it.
 * @throws ConfigError (option `texts`, `pooling`, `batchSize` or `encoder`) for invalid options.
 * @throws ShapeError (tensor `embeddings`) if the encoder returns the wrong number of values.
 * @throws NumericError (tensor `embeddings`) if the encoder returns NaN or ±Infinity.
 */
export async function extractEmbeddings(texts: string[], opts: ExtractEmbeddingsOptions): Promise<tf.Tensor2D> {
  const { encoder } = opts;
  if (!encoder || typeof encoder.encode !== 'function' || typeof encoder.id !== 'string') {
    throw new ConfigError('encoder must be a TextEncoder (createTransformersEncoder, createUseLiteEncoder, createPrecomputedEncoder)', { option: 'encoder' });
  }
  const d = encoder.dimension;
  if (!(Number.isInteger(d) && d > 0)) throw new ConfigError(`encoder '${encoder.id}' has an invalid dimension ${d}`, { option: 'encoder' });
  if (!Array.isArray(texts)) throw new ConfigError('texts must be an array of strings', { option: 'texts' });
  const bad = texts.findIndex((t) => typeof t !== 'string');
  if (bad >= 0) throw new ConfigError(`texts[${bad}] is not a string (${typeof texts[bad]})`, { option: 'texts' });
  const pooling = opts.pooling ?? 'mean';
  if (!POOLINGS.includes(pooling)) throw new ConfigError(`pooling must be one of ${POOLINGS.join(', ')}, got '${pooling}'`, { option: 'pooling' });
  const batchSize = opts.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`, { option: 'batchSize' });

  const n = texts.length;
  if (n === 0) return tf.tensor2d(new Float32Array(0), [0, d], 'float32');

  const report = (e: EmbeddingCacheEvent) => {
    if (opts.onCacheEvent) opts.onCacheEvent(e);
    else if (e.type === 'corrupt' || e.type === 'write-failed') {
      process.emitWarning(`embedding cache ${e.type === 'corrupt' ? 'file corrupt, rebuilding' : 'write failed'}: ${e.file}: ${e.reason}`);
    }
  };

  let cacheFile: string | undefined;
  let key: { encoderId: string; pooling: Pooling; n: number; d: number; textsSha256: string } | undefined;
  if (opts.cache !== false) {
    const dir = opts.cacheDir ?? (await defaultEmbeddingCacheDir());
    key = { encoderId: encoder.id, pooling, n, d, textsSha256: await hashTexts(texts) };
    cacheFile = await embeddingCacheFile(dir, encoder.id, pooling, key.textsSha256);
    const got = await readEmbeddingCache(cacheFile, key);
    if (got.status === 'hit') {
      report({ type: 'hit', file: cacheFile });
      opts.onProgress?.(n, n);
      return tf.tensor2d(got.data, [n, d], 'float32');
    }
    report(got.status === 'corrupt' ? { type: 'corrupt', file: cacheFile, reason: got.reason } : { type: 'miss', file: cacheFile });
  }

  const order = Array.from({ length: n }, (_, i) => i);
  if (opts.sortByLength !== false) order.sort((a, b) => texts[a].length - texts[b].length || a - b);

  const out = new Float32Array(n * d);
  const bar = opts.progress ? await makeBar(n, encoder.id) : undefined;
  try {
    for (let s = 0; s < n; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const vec = await encoder.encode(
        idx.map((i) => texts[i]),
        { pooling },
      );
      if (!(vec instanceof Float32Array) || vec.length !== idx.length * d) {
        throw new ShapeError(
          `encoder '${encoder.id}' returned ${vec?.length} values for ${idx.length} texts, expected ${idx.length}×${d}`,
          { tensor: 'embeddings' },
        );
      }
      for (let r = 0; r < idx.length; r++) {
        const row = vec.subarray(r * d, (r + 1) * d);
        for (let k = 0; k < d; k++) {
          if (!Number.isFinite(row[k])) {
            throw new NumericError(`encoder '${encoder.id}' produced ${row[k]} for text ${idx[r]}`, { tensor: 'embeddings' });
          }
        }
        out.set(row, idx[r] * d);
      }
      const done = Math.min(s + batchSize, n);
      opts.onProgress?.(done, n);
      bar?.update(done);
    }
  } finally {
    bar?.stop();
  }

  if (cacheFile && key) {
    try {
      await writeEmbeddingCache(cacheFile, key, out);
      report({ type: 'write', file: cacheFile });
    } catch (e) {
      report({ type: 'write-failed', file: cacheFile, reason: (e as Error).message });
    }
  }
  return tf.tensor2d(out, [n, d], 'float32');
}

/** A cli-progress bar on stderr, or undefined when stderr is not a terminal. */
async function makeBar(total: number, label: string): Promise<{ update(v: number): void; stop(): void } | undefined> {
  if (!process.stderr.isTTY) return undefined;
  const mod = await import('cli-progress');
  const cp = (mod as unknown as { default?: typeof mod }).default ?? mod;
  const bar = new cp.SingleBar(
    { format: `embeddings ${label.slice(0, 40)} [{bar}] {value}/{total} texts | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cp.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
