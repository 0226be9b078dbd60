import { nodeApi } from './node';
import { writeFileAtomic } from '../files';
import type { Pooling } from './encoder';

/**
 * On-disk embedding cache, one file per (encoder id, pooling, text list).
 *
 * File layout (version 1, little-endian):
 * ```
 * bytes 0..7        magic "CHZEMB01"
 * bytes 8..11       uint32 H = byte length of the JSON header
 * bytes 12..12+H-1  UTF-8 JSON header {@link EmbeddingCacheHeader}
 * (0–3 zero bytes so the data starts at a multiple of 4)
 * n·d·4 bytes       float32 matrix [n, d], row-major
 * ```
 * A file is used only if the magic, header fields (encoder id, pooling,
 * text hash, n, d), exact file size and the sha256 of the data all match;
 * anything else counts as corrupt and the file is rebuilt.
 */
export const EMBEDDING_CACHE_MAGIC = 'CHZEMB01';

/** The JSON header of a cache file. */
export interface EmbeddingCacheHeader {
  format: 'chainz-embeddings';
  version: 1;
  encoderId: string;
  pooling: Pooling;
  /** Number of rows (texts). */
  n: number;
  /** Dimension (columns). */
  d: number;
  dtype: 'float32';
  /** {@link hashTexts} of the texts, in row order. */
  textsSha256: string;
  /** sha256 of the n·d·4 data bytes. */
  dataSha256: string;
}

/** Result of {@link readEmbeddingCache}. */
export type EmbeddingCacheRead =
  | { status: 'hit'; data: Float32Array }
  | { status: 'miss' }
  | { status: 'corrupt'; reason: string };

/**
 * Default cache folder: `$CHAINZ_CACHE_DIR/embeddings` if `CHAINZ_CACHE_DIR`
 * is set, else `~/.cache/chainz/embeddings`.
 */
export async function defaultEmbeddingCacheDir(): Promise<string> {
  const { path, os } = await nodeApi();
  const root = process.env.CHAINZ_CACHE_DIR ? path.resolve(process.env.CHAINZ_CACHE_DIR) : path.join(os.homedir(), '.cache', 'chainz');
  return path.join(root, 'embeddings');
}

/**
 * sha256 (hex) of a list of texts, order-sensitive and unambiguous: the
 * count, then each text's UTF-8 byte length (uint32 LE) and bytes.
 */
export async function hashTexts(texts: readonly string[]): Promise<string> {
  const { crypto } = await nodeApi();
  const h = crypto.createHash('sha256');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(texts.length >>> 0);
  h.update('chainz-texts-v1\0');
  h.update(len);
  for (const t of texts) {
    const b = Buffer.from(t, 'utf8');
    len.writeUInt32LE(b.length);
    h.update(len);
    h.update(b);
  }
  return h.digest('hex');
}

/**
 * Path of the cache file for (encoder id, pooling, texts hash) inside `dir`:
 * `<slug of id>-<pooling>-<first 32 hex of sha256(id, pooling, textsSha256)>.emb`.
 */
export async function embeddingCacheFile(dir: string, encoderId: string, pooling: Pooling, textsSha256: string): Promise<string> {
  const { path, crypto } = await nodeApi();
  const key = crypto.createHash('sha256').update(`${encoderId}\0${pooling}\0${textsSha256}`).digest('hex').slice(0, 32);
  const slug = encoderId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
  return path.join(dir, `${slug}-${pooling}-${key}.emb`);
}

/** A binary cache file (magic, header length, JSON header), read but not yet checked beyond its framing. */
export type FramedFileRead<H> = { status: 'framed'; buf: Buffer; header: H; headerEnd: number } | { status: 'miss' } | { status: 'corrupt'; reason: string };

/**
 * Read a cache file framed as the 8-byte `magic`, a little-endian uint32
 * header length and that many bytes of JSON: `miss` when there is no file,
 * `corrupt` (with the reason) when it is unreadable or the framing is wrong.
 * The caller checks the header's fields and the body that follows
 * `headerEnd` (12 + header length).
 * @param what what the file is, for the reason (`embedding cache`).
 */
export async function readFramedFile<H>(file: string, magic: string, what: string): Promise<FramedFileRead<H>> {
  const { fsp } = await nodeApi();
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'miss' };
    return { status: 'corrupt', reason: `unreadable: ${(e as Error).message}` };
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== magic) return { status: 'corrupt', reason: `bad magic (not a chainz ${what} file)` };
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) return { status: 'corrupt', reason: 'truncated header' };
  try {
    return { status: 'framed', buf, header: JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as H, headerEnd: 12 + hlen };
  } catch {
    return { status: 'corrupt', reason: 'header is not valid JSON' };
  }
}

/**
 * Read and verify a cache file.
 * @param expect the header fields the file must have (all but `dataSha256`).
 * @returns `hit` with the `[n, d]` float32 data, `miss` when there is no
 *   file, `corrupt` (with the reason) for a file that fails any check.
 */
export async function readEmbeddingCache(
  file: string,
  expect: Pick<EmbeddingCacheHeader, 'encoderId' | 'pooling' | 'n' | 'd' | 'textsSha256'>,
): Promise<EmbeddingCacheRead> {
  const { crypto } = await nodeApi();
  const framed = await readFramedFile<EmbeddingCacheHeader>(file, EMBEDDING_CACHE_MAGIC, 'embedding cache');
  if (framed.status !== 'framed') return framed;
  const { buf, header, headerEnd } = framed;
  if (header.format !== 'chainz-embeddings' || header.version !== 1 || header.dtype !== 'float32') {
    return { status: 'corrupt', reason: 'unsupported header format/version/dtype' };
  }
  for (const k of ['encoderId', 'pooling', 'n', 'd', 'textsSha256'] as const) {
    if (header[k] !== expect[k]) return { status: 'corrupt', reason: `header ${k} mismatch (${String(header[k])} ≠ ${String(expect[k])})` };
  }
  const offset = align4(headerEnd);
  const bytes = expect.n * expect.d * 4;
  if (buf.length !== offset + bytes) return { status: 'corrupt', reason: `size ${buf.length} bytes, expected ${offset + bytes} (truncated or padded)` };
  const body = buf.subarray(offset);
  if (crypto.createHash('sha256').update(body).digest('hex') !== header.dataSha256) return { status: 'corrupt', reason: 'data checksum mismatch' };
  const data = new Float32Array(expect.n * expect.d);
  new Uint8Array(data.buffer).set(body);
  return { status: 'hit', data };
}

/**
 * Write a cache file atomically: to a temporary file in the same folder,
 * then `rename` over the target (readers see the old file or the new one,
 * never half of one). Creates the folder if needed.
 * @param data `[n, d]` float32, row-major.
 * @throws the file-system error (the caller decides whether a failed cache
 *   write matters); the temporary file is removed.
 */
export async function writeEmbeddingCache(
  file: string,
  fields: Pick<EmbeddingCacheHeader, 'encoderId' | 'pooling' | 'n' | 'd' | 'textsSha256'>,
  data: Float32Array,
): Promise<void> {
  const { crypto, os } = await nodeApi();
  if (os.endianness() !== 'LE') throw new Error('embedding cache files are little-endian; this host is big-endian');
  if (data.length !== fields.n * fields.d) throw new Error(`cache data has ${data.length} values, expected n·d = ${fields.n * fields.d}`);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const header: EmbeddingCacheHeader = {
    format: 'chainz-embeddings',
    version: 1,
    ...fields,
    dtype: 'float32',
    dataSha256: crypto.createHash('sha256').update(body).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(align4(12 + json.length));
  head.write(EMBEDDING_CACHE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  await writeFileAtomic(file, [head, body]);
}

/** @internal */
export function align4(x: number): number {
  return (x + 3) & ~3;
}
