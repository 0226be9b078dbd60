export * from './adapter';
export * from './sst5/ptb';
export * from './sst5/adapter';
export * from './yelp/adapter';
export * from './text/encoder';
export * from './text/extract';
export {
  defaultEmbeddingCacheDir,
  embeddingCacheFile,
  hashTexts,
  readEmbeddingCache,
  writeEmbeddingCache,
  EMBEDDING_CACHE_MAGIC,
  type EmbeddingCacheHeader,
  type EmbeddingCacheRead,
} from './text/cache';
export { createTransformersEncoder, type TransformersEncoderOptions } from './text/transformers';
export { createUseLiteEncoder, type UseLiteEncoderOptions } from './text/use-lite';
export { createPrecomputedEncoder, type PrecomputedEncoderOptions } from './text/precomputed';
export { UnigramTokenizer } from './text/sentencepiece';
