import { ConfigError, DataError } from '@chainz/core';
import type { EncodeOptions, TextEncoder } from './encoder';
import { hashTexts } from './cache';
import { nodeApi } from './node';
import { parseNpy } from '../npy/npy';

/** Options of {@link createPrecomputedEncoder}. */
export interface PrecomputedEncoderOptions {
  /**
   * Row order: `texts[i]` is the text of row i. Required for row-order files
   * (`.npy`, a JSON matrix); not allowed with keyed records.
   */
  texts?: string[];
  /** Description for logs (default: the file name and shape). */
  description?: string;
}

/**
 * An encoder that looks up precomputed sentence vectors in a file.
 *
 * Formats (by extension):
 * - `.npy`: a 2-D `[N, d]` array, `<f4` (float32) or `<f8` (converted to
 *   float32), C order; row i is the vector of `options.texts[i]` (row order).
 * - `.json`: either a matrix `number[][]` (row order, with `options.texts`)
 *   or an array of keyed records (below).
 * - `.jsonl`: one keyed record per line.
 *
 * A keyed record is `{"text": "...", "embedding": [...]}` or
 * `{"sha256": "<hex sha256 of the UTF-8 text>", "embedding": [...]}`.
 * Texts are matched exactly (no normalisation). A text present twice must
 * have the same vector. `pooling` is ignored: the vectors are whatever was
 * computed. The id is `precomputed:<sha256 of the file and the row texts, 16 hex>`.
 *
 * @param file path of the `.npy`, `.json` or `.jsonl` file.
 * @throws DataError naming the file (and row) for an unreadable or malformed
 *   file, inconsistent dimensions or conflicting duplicates; from `encode`,
 *   naming the file, when a text has no vector.
 * @throws ConfigError (option `texts`) when row order needs `texts` and it is
 *   missing or has the wrong length, or keyed records get `texts`.
 */
export async function createPrecomputedEncoder(file: string, options: PrecomputedEncoderOptions = {}): Promise<TextEncoder> {
  const { fsp, path, crypto } = await nodeApi();
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(abs);
  } catch (e) {
    throw new DataError(`cannot read precomputed embeddings: ${(e as Error).message}`, { file: abs }, undefined, { cause: e });
  }
  const sha = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
  const ext = path.extname(abs).toLowerCase();

  let matrix: Float32Array;
  let n: number;
  let d: number;
  const rowOf = new Map<string, number>(); // sha256(text) → row
  let keys: string[] | undefined; // sha256 per row (keyed records)

  if (ext === '.npy') {
    ({ data: matrix, n, d } = await parseNpyMatrix(bytes, abs));
  } else if (ext === '.json' || ext === '.jsonl') {
    let items: unknown[];
    try {
      items = ext === '.json' ? JSON.parse(bytes.toString('utf8')) : parseJsonl(bytes.toString('utf8'), abs);
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`invalid JSON: ${(e as Error).message}`, { file: abs });
    }
    if (!Array.isArray(items) || items.length === 0) throw new DataError('expected a non-empty array (a matrix or keyed records)', { file: abs });
    const isMatrix = Array.isArray(items[0]);
    n = items.length;
    d = -1;
    const vecs: ArrayLike<unknown>[] = [];
    if (!isMatrix) keys = [];
    for (let i = 0; i < n; i++) {
      const it = items[i] as { text?: unknown; sha256?: unknown; embedding?: unknown } | unknown[];
      const row = ext === '.jsonl' ? i + 1 : i;
      const where = { file: abs, row: ext === '.jsonl' ? row : undefined };
      const label = ext === '.jsonl' ? '' : `item ${i}: `;
      let v: unknown;
      if (isMatrix) v = it;
      else {
        const rec = it as { text?: unknown; sha256?: unknown; embedding?: unknown };
        if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new DataError(`${label}expected a record {text|sha256, embedding}`, where);
        if (typeof rec.text === 'string') keys!.push(sha(rec.text));
        else if (typeof rec.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(rec.sha256)) keys!.push(rec.sha256.toLowerCase());
        else throw new DataError(`${label}a record needs "text" (string) or "sha256" (64 hex digits)`, where);
        v = rec.embedding;
      }
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new DataError(`${label}embedding must be a non-empty array of finite numbers`, where);
      }
      if (d === -1) d = v.length;
      else if (v.length !== d) throw new DataError(`${label}embedding has ${v.length} values, earlier ones ${d}`, where);
      vecs.push(v);
    }
    matrix = new Float32Array(n * d);
    vecs.forEach((v, i) => matrix.set(v as number[], i * d));
  } else {
    throw new DataError(`unsupported precomputed embeddings format '${ext}' (expected .npy, .json or .jsonl)`, { file: abs });
  }

  if (keys) {
    if (options.texts) throw new ConfigError('texts (row order) is not used with keyed records: they carry their own text or sha256', { option: 'texts' });
  } else {
    if (!options.texts) throw new ConfigError(`${path.basename(abs)} is a row-order matrix: pass texts (row i = texts[i])`, { option: 'texts' });
    if (options.texts.length !== n) throw new ConfigError(`texts has ${options.texts.length} entries but the file has ${n} rows`, { option: 'texts' });
    keys = options.texts.map(sha);
  }
  for (let i = 0; i < n; i++) {
    const prev = rowOf.get(keys[i]);
    if (prev === undefined) rowOf.set(keys[i], i);
    else if (!sameRow(matrix, prev, i, d)) {
      throw new DataError(`row ${i} repeats the text of row ${prev} with a different vector`, { file: abs });
    }
  }

  const idHash = crypto.createHash('sha256').update(bytes);
  if (options.texts) idHash.update(await hashTexts(options.texts));
  return {
    id: `precomputed:${idHash.digest('hex').slice(0, 16)}`,
    dimension: d,
    description: options.description ?? `precomputed embeddings ${path.basename(abs)} [${n}, ${d}]`,
    async encode(texts: string[], _opts: EncodeOptions): Promise<Float32Array> {
      const out = new Float32Array(texts.length * d);
      const missing: number[] = [];
      texts.forEach((t, i) => {
        const r = rowOf.get(sha(t));
        if (r === undefined) missing.push(i);
        else out.set(matrix.subarray(r * d, (r + 1) * d), i * d);
      });
      if (missing.length > 0) {
        const first = texts[missing[0]];
        throw new DataError(
          `no precomputed embedding for ${missing.length} of ${texts.length} texts (first: "${first.length > 60 ? `${first.slice(0, 60)}…` : first}")`,
          { file: abs },
        );
      }
      return out;
    },
  };
}

function sameRow(m: Float32Array, a: number, b: number, d: number): boolean {
  for (let k = 0; k < d; k++) if (m[a * d + k] !== m[b * d + k]) return false;
  return true;
}

function parseJsonl(text: string, file: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    try {
      out.push(JSON.parse(lines[i]));
    } catch (e) {
      throw new DataError(`invalid JSON: ${(e as Error).message}`, { file, row: i + 1 });
    }
  }
  return out;
}

/** A 2-D float `.npy` as float32 `[n, d]` (our own reader, npy/npy.ts). */
async function parseNpyMatrix(bytes: Buffer, file: string): Promise<{ data: Float32Array; n: number; d: number }> {
  const arr = parseNpy(bytes, file); // throws DataError for bad magic, byte order, Fortran order, truncation
  if (arr.shape.length !== 2 || arr.shape[0] < 1 || arr.shape[1] < 1) throw new DataError(`expected a 2-D [N, d] array, got shape [${arr.shape}]`, { file });
  if (arr.header.dtype !== 'float32' && arr.header.dtype !== 'float64') throw new DataError(`expected float32 or float64 data, got dtype '${arr.header.dtype}'`, { file });
  const [n, d] = arr.shape;
  const data = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data as Float64Array);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new DataError(`non-finite value ${data[i]} at row ${Math.floor(i / d)}`, { file });
  }
  return { data, n, d };
}
