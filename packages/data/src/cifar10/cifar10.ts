import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, optionRef } from '@chainz/core';
import { defineAdapter, type BaseLoadOptions, type DatasetSplit, type LoadedDataset } from '../adapter';
import { dataRoot, fileSizeOrThrow, pathKind, sha256File } from '../files';

/**
 * CIFAR-10 (Krizhevsky 2009) in the official binary layout: records of
 * 3073 bytes, one label byte (0–9) then 1024 red, 1024 green and 1024 blue
 * bytes, each plane row-major 32×32.
 */

/** Bytes per CIFAR-10 binary record: 1 label + 3 × 32 × 32 pixels. */
export const CIFAR10_RECORD_BYTES = 3073;
/** Pixels per image side. */
export const CIFAR10_SIZE = 32;
/** Bytes per decoded image, HWC: 32 × 32 × 3. */
export const CIFAR10_IMAGE_BYTES = 3072;

/** The ten CIFAR-10 classes in label order (as in `batches.meta.txt`). */
export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);

/** Official training batch file names, in order. */
export const CIFAR10_TRAIN_FILES: readonly string[] = Object.freeze([1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`));
/** Official test batch file name. */
export const CIFAR10_TEST_FILE = 'test_batch.bin';
/** Names of the reduced copies shipped in the project's shared data folder (fallback). */
export const CIFAR10_SHARED_FILES = Object.freeze({ train: 'train_first4000.bin', test: 'test_first1000.bin' });

/** Images and labels decoded from CIFAR-10 binary records. */
export interface Cifar10Images {
  /** Pixels `[n, 32, 32, 3]`, HWC, uint8 (0–255). */
  images: Uint8Array;
  /** Label (0–9) per image, length n. */
  labels: Int32Array;
  /** Number of images. */
  n: number;
}

/** Options of {@link readCifar10Binary}. */
export interface ReadCifar10Options {
  /** First record to read (0-based); default 0. */
  offset?: number;
  /** Maximum number of records to read; default all from `offset`. */
  limit?: number;
}

/**
 * Read CIFAR-10 binary records from one file with positioned reads (only the
 * requested records are read) and convert them to HWC.
 *
 * @param file a file of 3073-byte records (`data_batch_N.bin`, `test_batch.bin`
 *   or any file of that layout).
 * @param options `offset` and `limit` in records.
 * @returns `images` `[n, 32, 32, 3]` uint8 HWC and `labels` (length n).
 * @throws DataError naming the file if it is missing, empty, not a multiple of
 *   3073 bytes (truncated or another layout) or holds a label byte above 9
 *   (with the record number as `row`); ConfigError for a bad offset/limit.
 */
export async function readCifar10Binary(file: string, options: ReadCifar10Options = {}): Promise<Cifar10Images> {
  const size = await fileSizeOrThrow(file);
  if (size === 0 || size % CIFAR10_RECORD_BYTES !== 0) {
    throw new DataError(
      `size ${size} bytes is not a positive multiple of the ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 record ` +
        `(1 label byte + 3072 pixel bytes): the file is truncated or not in the CIFAR-10 binary layout` +
        (size % 3074 === 0 && size > 0 ? ' (its size fits 3074-byte CIFAR-100 records)' : ''),
      { file },
    );
  }
  const records = size / CIFAR10_RECORD_BYTES;
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > records) {
    throw new ConfigError(`offset must be an integer in [0, ${records}], got ${offset}`, { file, option: 'offset' });
  }
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw new ConfigError(`limit must be a non-negative integer, got ${options.limit}`, { option: 'limit' });
  }
  const n = Math.min(records - offset, options.limit ?? Infinity);
  const raw = new Uint8Array(n * CIFAR10_RECORD_BYTES);
  const fh = await open(file, 'r');
  try {
    let done = 0;
    while (done < raw.length) {
      const { bytesRead } = await fh.read(raw, done, raw.length - done, offset * CIFAR10_RECORD_BYTES + done);
      if (bytesRead === 0) throw new DataError(`unexpected end of file at byte ${offset * CIFAR10_RECORD_BYTES + done}`, { file });
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return decodeCifar10Records(raw, file, offset);
}

/**
 * Decode CIFAR-10 binary records held in memory.
 *
 * @param raw bytes of whole records (length a multiple of 3073).
 * @param file name used in error messages.
 * @param firstRecord index of the first record in its file (for error rows).
 * @returns `images` `[n, 32, 32, 3]` uint8 HWC and `labels`.
 * @throws DataError for a partial record or a label byte above 9.
 */
export function decodeCifar10Records(raw: Uint8Array, file = '<buffer>', firstRecord = 0): Cifar10Images {
  if (raw.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new DataError(`${raw.length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte records`, { file });
  }
  const n = raw.length / CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(n * CIFAR10_IMAGE_BYTES);
  const labels = new Int32Array(n);
  const plane = CIFAR10_SIZE * CIFAR10_SIZE;
  for (let r = 0; r < n; r++) {
    const base = r * CIFAR10_RECORD_BYTES;
    const label = raw[base];
    if (label > 9) {
      throw new DataError(`label byte ${label} is outside 0..9: not a CIFAR-10 record`, { file, row: firstRecord + r + 1 });
    }
    labels[r] = label;
    const out = r * CIFAR10_IMAGE_BYTES;
    for (let p = 0; p < plane; p++) {
      images[out + p * 3] = raw[base + 1 + p];
      images[out + p * 3 + 1] = raw[base + 1 + plane + p];
      images[out + p * 3 + 2] = raw[base + 1 + 2 * plane + p];
    }
  }
  return { images, labels, n };
}

/**
 * Read the class names from `batches.meta.txt` (one name per line, blank lines
 * ignored).
 *
 * @throws DataError naming the file if it cannot be read or does not hold 10 names.
 */
export async function readCifar10ClassNames(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DataError('cannot read the class-name file', { file }, undefined, { cause: e });
  }
  const names = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== 10) throw new DataError(`expected 10 class names, found ${names.length}`, { file });
  return names;
}

/** A CIFAR-10 split name. */
export type Cifar10Split = 'train' | 'test';

/** Options of the `cifar10` adapter. */
export interface Cifar10LoadOptions extends BaseLoadOptions {
  /**
   * `path`: a directory holding the batch files (official names
   * `data_batch_1..5.bin`, `test_batch.bin`, or the shared copies
   * `train_first4000.bin`, `test_first1000.bin`; also looked for in a
   * `cifar-10-batches-bin/` sub-folder), or a single file of the binary layout.
   * Default: `<dataDir ?? CHAINZ_DATA_DIR>/cifar10/`.
   */
  path?: string;
  /** One split to load (shorthand for `splits: [split]`). For a single-file `path`, the split's name. */
  split?: Cifar10Split;
  /** Splits to load; default `['train', 'test']` (a single-file `path` loads one split). */
  splits?: Cifar10Split[];
  /**
   * true (default): float32 features scaled to [0, 1] (x / 255); false: int32
   * features holding the raw 0–255 bytes (tfjs has no uint8 dtype).
   */
  normalize?: boolean;
  /** Read at most this many images per split (the first ones). */
  limit?: number;
}

interface SplitFiles {
  split: string;
  files: string[];
}

async function locateSplitFiles(dir: string, split: Cifar10Split): Promise<string[] | undefined> {
  for (const d of [dir, path.join(dir, 'cifar-10-batches-bin')]) {
    if (split === 'train') {
      const official = CIFAR10_TRAIN_FILES.map((f) => path.join(d, f));
      const present = await Promise.all(official.map(pathKind));
      if (present.every((k) => k === 'file')) return official;
      if (present.some((k) => k === 'file')) {
        const missing = official.filter((_, i) => present[i] !== 'file').map((f) => path.basename(f));
        throw new DataError(`incomplete CIFAR-10 training set: missing ${missing.join(', ')}`, { file: d });
      }
    } else if ((await pathKind(path.join(d, CIFAR10_TEST_FILE))) === 'file') {
      return [path.join(d, CIFAR10_TEST_FILE)];
    }
    const shared = path.join(d, CIFAR10_SHARED_FILES[split]);
    if ((await pathKind(shared)) === 'file') return [shared];
  }
  return undefined;
}

function toTensor(images: Uint8Array, n: number, normalize: boolean): tf.Tensor4D {
  const shape: [number, number, number, number] = [n, CIFAR10_SIZE, CIFAR10_SIZE, 3];
  if (normalize) {
    const f = new Float32Array(images.length);
    for (let i = 0; i < images.length; i++) f[i] = images[i] / 255;
    return tf.tensor4d(f, shape, 'float32');
  }
  return tf.tensor4d(Int32Array.from(images), shape, 'int32');
}

/**
 * The `cifar10` dataset adapter: CIFAR-10 from the official binary batches (or
 * any file of that layout). Features `[N, 32, 32, 3]` HWC, float32 in [0, 1]
 * (default) or int32 0–255; labels 0–9; class names from `batches.meta.txt`
 * beside the data (the standard names when that file is absent, noted in the
 * provenance).
 *
 * Errors: DataError naming the file for a missing, truncated or mis-sized file;
 * ConfigError for an unknown split or a bad limit.
 */
export const cifar10Adapter = defineAdapter<Cifar10LoadOptions>({
  name: 'cifar10',
  describe: () => ({
    name: 'cifar10',
    title: 'CIFAR-10 (Krizhevsky 2009), 32×32 colour images in 10 classes',
    task: 'classification',
    modality: 'image',
    source:
      'Official binary batches (data_batch_1..5.bin, test_batch.bin, batches.meta.txt) or single files of that layout; ' +
      'default <CHAINZ_DATA_DIR>/cifar10/ (falls back to train_first4000.bin / test_first1000.bin)',
    builtIn: false,
  }),
  async load(options: Cifar10LoadOptions = {}): Promise<LoadedDataset> {
    const normalize = options.normalize ?? true;
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
      throw new ConfigError(`limit must be a positive integer, got ${options.limit}`, { option: 'limit' });
    }
    const requested: Cifar10Split[] = options.splits ?? (options.split ? [options.split] : ['train', 'test']);
    for (const s of requested) {
      if (s !== 'train' && s !== 'test') {
        throw new ConfigError(`unknown CIFAR-10 split '${s}' (valid: train, test)`, { option: 'splits' });
      }
    }
    let base: string;
    if (options.path) {
      base = path.resolve(options.path);
    } else {
      const root = await dataRoot(options.dataDir);
      if (!root) {
        throw new DataError(
          `no CIFAR-10 location: set CHAINZ_DATA_DIR or pass ${optionRef('path', 'dataDir')}`,
          { option: 'path' },
          'Download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, extract it into <data dir>/cifar10/ and set CHAINZ_DATA_DIR=<data dir>.',
        );
      }
      base = path.join(root, 'cifar10');
    }
    const kind = await pathKind(base);
    if (!kind) {
      throw new DataError(
        'CIFAR-10 data not found',
        { file: base },
        `Download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and extract it there (or pass ${optionRef('path')} pointing at the batch files).`,
      );
    }
    const plan: SplitFiles[] = [];
    let metaDir: string;
    if (kind === 'file') {
      const split = options.split ?? (/test/i.test(path.basename(base)) ? 'test' : 'train');
      plan.push({ split, files: [base] });
      metaDir = path.dirname(base);
    } else {
      for (const split of requested) {
        const files = await locateSplitFiles(base, split);
        if (!files) {
          const expected = split === 'train' ? CIFAR10_TRAIN_FILES.join(', ') : CIFAR10_TEST_FILE;
          throw new DataError(
            `no CIFAR-10 ${split} files: expected ${expected} (or ${CIFAR10_SHARED_FILES[split]}) here or in cifar-10-batches-bin/`,
            { file: base },
            'Download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and extract it here.',
          );
        }
        plan.push({ split, files });
      }
      metaDir = path.dirname(plan[0].files[0]);
    }

    const notes: string[] = [];
    let classNames: string[] = [...CIFAR10_CLASS_NAMES];
    const metaFile = path.join(metaDir, 'batches.meta.txt');
    const provFiles: string[] = [];
    if ((await pathKind(metaFile)) === 'file') {
      classNames = await readCifar10ClassNames(metaFile);
      provFiles.push(metaFile);
    } else {
      notes.push(`no batches.meta.txt beside the data (${metaDir}); standard CIFAR-10 class names used`);
    }

    const splits: Record<string, DatasetSplit> = {};
    try {
      for (const { split, files } of plan) {
        const parts: Cifar10Images[] = [];
        let left = options.limit ?? Infinity;
        for (const f of files) {
          if (left <= 0) break;
          const part = await readCifar10Binary(f, { limit: Number.isFinite(left) ? left : undefined });
          parts.push(part);
          provFiles.push(f);
          left -= part.n;
        }
        const n = parts.reduce((a, p) => a + p.n, 0);
        const images = new Uint8Array(n * CIFAR10_IMAGE_BYTES);
        const labels = new Int32Array(n);
        let at = 0;
        for (const p of parts) {
          images.set(p.images, at * CIFAR10_IMAGE_BYTES);
          labels.set(p.labels, at);
          at += p.n;
        }
        if (files.some((f) => (Object.values(CIFAR10_SHARED_FILES) as string[]).includes(path.basename(f)))) {
          notes.push(`${split}: ${n} images from ${files.map((f) => path.basename(f)).join(', ')} (a reduced-scale subset of CIFAR-10)`);
        }
        splits[split] = { features: toTensor(images, n, normalize), labels };
      }
    } catch (e) {
      for (const s of Object.values(splits)) s.features?.dispose();
      throw e;
    }
    if (options.limit !== undefined) notes.push(`limited to the first ${options.limit} images per split`);
    const sha256 = await Promise.all(provFiles.map(sha256File));
    return {
      name: 'cifar10',
      task: 'classification',
      splits,
      classNames,
      provenance: {
        files: provFiles,
        sha256,
        source: 'CIFAR-10 binary version, https://www.cs.toronto.edu/~kriz/cifar.html',
        licence: 'No formal licence; cite Krizhevsky 2009.',
        citation: 'A. Krizhevsky. Learning Multiple Layers of Features from Tiny Images. Tech. report, University of Toronto, 2009.',
        notes,
        rows: Object.fromEntries(Object.entries(splits).map(([k, sp]) => [k, sp.labels.length])),
      },
      dispose() {
        for (const s of Object.values(splits)) s.features?.dispose();
      },
    };
  },
});
