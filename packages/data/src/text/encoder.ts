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
 * lite, tfjs), {@link createPrecomputedEncoder} (vectors from a file).
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
  /** Free the model (optional). */
  dispose?(): void;
}

/** The valid {@link Pooling} values. */
export const POOLINGS: readonly Pooling[] = Object.freeze(['cls', 'mean']);
