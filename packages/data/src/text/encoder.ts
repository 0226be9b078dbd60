/**
 * How a token-level encoder turns its hidden states `[L, d]` into one
 * sentence vector `[d]`:
 * - `cls`: the hidden state of the first token (`[CLS]` in BERT);
 * - `mean`: the mean over the tokens whose attention mask is 1 (padding excluded).
 * Sentence-level encoders (USE-lite, precomputed vectors) have their own pooling.
 */
export type Pooling = 'cls' | 'mean';

/** Options passed to {@link TextEncoder.encode}. */
export interface EncodeOptions {
  pooling: Pooling;
}

/**
 * A sentence encoder: texts in, one float32 vector of length `dimension` per
 * text out. Implementations: {@link createTransformersEncoder} (BERT family,
 * ONNX Runtime), {@link createUseLiteEncoder} (Universal Sentence Encoder
 * lite, tfjs), {@link createGloveEncoder} (averaged GloVe word vectors),
 * {@link createPrecomputedEncoder} (vectors from a file).
 */
export interface TextEncoder {
  /**
   * Stable identifier of the encoder *and its weights*; part of the embedding
   * cache key, so two encoders with the same id must give the same vectors.
   */
  id: string;
  /** Output dimension d. */
  dimension: number;
  /** One line for logs and results files (model, runtime, pooling notes). */
  description: string;
  /**
   * Encode a batch.
   * @param texts n texts.
   * @returns row-major `[n, d]` float32 (`n * dimension` values).
   */
  encode(texts: string[], opts: EncodeOptions): Promise<Float32Array>;
  /**
   * Vocabulary coverage of `texts` (optional; encoders with a fixed word
   * vocabulary, such as {@link createGloveEncoder}, have it). Computed from
   * the tokens alone, so it is available when the embeddings come from the
   * cache.
   */
  coverage?(texts: readonly string[]): TextCoverage;
  /** Free the model (optional). */
  dispose?(): void;
}

/** How much of a text collection a word-vector vocabulary covers (see {@link TextEncoder.coverage}). */
export interface TextCoverage {
  /** Number of texts. */
  texts: number;
  /** Number of tokens in all texts. */
  tokens: number;
  /** Tokens with no vector (out of vocabulary). */
  oovTokens: number;
  /** oovTokens / tokens (0 when there are no tokens). */
  oovRate: number;
  /** Texts in which no token has a vector (their embedding is the zero vector). */
  emptyTexts: number;
  /** The most frequent out-of-vocabulary tokens (at most 20), most frequent first, ties in first-seen order. */
  topOov: { token: string; count: number }[];
}

/** The valid {@link Pooling} values. */
export const POOLINGS: readonly Pooling[] = Object.freeze(['cls', 'mean']);
