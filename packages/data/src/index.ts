export * from './adapter';
// The error helpers an adapter needs, so a plugin can depend on @chainz/data alone.
export { ChainzError, ConfigError, DataError, ShapeError, isChainzError, optionRef } from '@chainz/core';
export * from './csv/io';
export * from './csv/parse';
export * from './csv/adapter';
export * from './csv/tabular';
export * from './csv/checks';
export * from './location';
export * from './uci/specs';
export * from './uci/adapter';
export * from './pima/adapter';
export { PIMA_CSV, PIMA_CSV_SHA256 } from './pima/pima-csv.generated';
export * from './splits';
export * from './preprocess';
export * from './builtins';
export * from './npy/npy';
export * from './cifar10/cifar10';
export * from './cifar10c/cifar10c';
export {
  loadCifarCorruptionData,
  defaultCifar10cCacheDir,
  cacheFileName as cifar10cCacheFileName,
  readCachedSet as readCifar10cCachedSet,
  writeCachedSet as writeCifar10cCachedSet,
  type CifarCorruptionData,
  type CifarCorruptionDataOptions,
  type ImageSet,
  type CorruptedSet,
  type CacheKey as Cifar10cCacheKey,
} from './cifar10c/corrupted-sets';
export { corrupt, type CorruptOptions } from './corruptions/corrupt';
export { CORRUPTIONS, type CorruptionName, type Severity } from './corruptions/params';
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
export { createGloveEncoder, type GloveEncoder, type GloveEncoderOptions, type WordWeighting } from './text/glove';
export {
  loadWordVectors,
  defaultWordVectorsCacheDir,
  WORD_VECTORS_CACHE_MAGIC,
  type WordVectors,
  type WordVectorsFormat,
  type WordVectorsLoadInfo,
  type WordVectorsCacheHeader,
  type LoadWordVectorsOptions,
} from './text/word-vectors';
export { wordTokens, resolveTokens, WORD_TOKENIZER_VERSION, type ResolvedToken } from './text/word-tokenizer';
