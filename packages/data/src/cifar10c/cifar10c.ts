import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, optionRef } from '@chainz/core';
import { defineAdapter, type BaseLoadOptions, type DatasetSplit, type LoadedDataset } from '../adapter';
import { CIFAR10_CLASS_NAMES, CIFAR10_IMAGE_BYTES } from '../cifar10/cifar10';
import { dataRoot, pathKind, sha256File } from '../files';
import { readNpy, readNpyHeader, type NpyHeader } from '../npy/npy';
import { CORRUPTIONS, type Severity } from '../corruptions/params';

/**
 * CIFAR-10-C (Hendrycks & Dietterich 2019) in its official layout: a folder
 * of `<corruption>.npy` files, each uint8 `[5·B, 32, 32, 3]` HWC holding the
 * 10,000 test images (B = 10000) at severity 1, then 2, … 5, and `labels.npy`
 * (`[5·B]`, the test labels repeated five times). B is detected as rows / 5,
 * so reduced copies of the same layout (such as the 100-image golden set) read
 * the same way. One corruption/severity block is read with positioned reads,
 * never the whole file.
 */

/** Images and labels of one corruption at one severity. */
export interface Cifar10CBlock {
  /** `[n, 32, 32, 3]` uint8 HWC. */
  images: Uint8Array;
  /** Label (0–9) per image. */
  labels: Int32Array;
  n: number;
  /** Images per severity in the file (10000 for the official set). */
  blockSize: number;
  /** The `.npy` file read. */
  file: string;
}

/** Options of {@link readCifar10C}. */
export interface ReadCifar10COptions {
  /** First image within the severity block; default 0. */
  offset?: number;
  /** Maximum number of images; default the rest of the block. */
  limit?: number;
}

async function checkedHeader(file: string): Promise<NpyHeader> {
  if ((await pathKind(file)) !== 'file') {
    throw new DataError(
      'file not found',
      { file },
      `CIFAR-10-C: the folder must hold the official <corruption>.npy files and labels.npy (CIFAR-10-C.tar from https://zenodo.org/record/2535967, extracted); pass ${optionRef('path')} pointing at it.`,
    );
  }
  return readNpyHeader(file);
}

/**
 * Read one corruption at one severity from a CIFAR-10-C folder.
 *
 * @param dir folder holding `<corruption>.npy` and `labels.npy`.
 * @param corruption file stem, e.g. `gaussian_noise` (any present file, including
 *   the four extra official ones such as `speckle_noise`).
 * @param severity 1 … 5.
 * @param options `offset`/`limit` within the severity block.
 * @returns images `[n, 32, 32, 3]` uint8 HWC, labels, and the detected block size.
 * @throws DataError naming the file if it is missing, not uint8
 *   `[5·B, 32, 32, 3]`, or if `labels.npy` does not match it; ConfigError for
 *   a bad severity, offset or limit.
 */
export async function readCifar10C(dir: string, corruption: string, severity: Severity, options: ReadCifar10COptions = {}): Promise<Cifar10CBlock> {
  if (!/^[a-z0-9_]+$/.test(corruption)) {
    throw new ConfigError(`invalid corruption name '${corruption}'`, { option: 'corruption' });
  }
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) {
    throw new ConfigError(`severity must be an integer 1…5, got ${severity}`, { option: 'severity' });
  }
  const file = path.join(dir, `${corruption}.npy`);
  const labelsFile = path.join(dir, 'labels.npy');
  const h = await checkedHeader(file);
  const [rows] = h.shape;
  if (h.dtype !== 'uint8' || h.shape.length !== 4 || h.shape[1] !== 32 || h.shape[2] !== 32 || h.shape[3] !== 3) {
    throw new DataError(`expected uint8 [5·B, 32, 32, 3], got ${h.dtype} [${h.shape.join(', ')}]`, { file });
  }
  if (rows === 0 || rows % 5 !== 0) {
    throw new DataError(`${rows} rows is not 5 severity blocks of equal size`, { file });
  }
  const blockSize = rows / 5;
  const lh = await checkedHeader(labelsFile);
  if (!['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'].includes(lh.dtype) || lh.shape.length !== 1 || lh.shape[0] !== rows) {
    throw new DataError(`expected integer labels of shape [${rows}] to match ${corruption}.npy, got ${lh.dtype} [${lh.shape.join(', ')}]`, {
      file: labelsFile,
    });
  }
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > blockSize) {
    throw new ConfigError(`offset must be an integer in [0, ${blockSize}], got ${offset}`, { option: 'offset' });
  }
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw new ConfigError(`limit must be a non-negative integer, got ${options.limit}`, { option: 'limit' });
  }
  const n = Math.min(blockSize - offset, options.limit ?? Infinity);
  const rowStart = (severity - 1) * blockSize + offset;
  const img = await readNpy(file, { rowStart, rowCount: n });
  const lab = await readNpy(labelsFile, { rowStart, rowCount: n });
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(lab.data[i]);
    if (!(v >= 0 && v <= 9)) throw new DataError(`label ${v} is outside 0..9`, { file: labelsFile, row: rowStart + i + 1 });
    labels[i] = v;
  }
  return { images: img.data as Uint8Array, labels, n, blockSize, file };
}

/** Split name used by the `cifar10c` adapter, e.g. `gaussian_noise-3`. */
export function cifar10cSplitName(corruption: string, severity: Severity): string {
  return `${corruption}-${severity}`;
}

/** Options of the `cifar10c` adapter. */
export interface Cifar10CLoadOptions extends BaseLoadOptions {
  /**
   * Folder in the official layout. Default: the first of
   * `<dataDir ?? CHAINZ_DATA_DIR>/cifar10c/CIFAR-10-C`, `…/CIFAR-10-C`,
   * `…/cifar10c` that holds `labels.npy`.
   */
  path?: string;
  /** One corruption (shorthand for `corruptions: [corruption]`). */
  corruption?: string;
  /** Corruptions to load; default every one of the 15 standard ones present. */
  corruptions?: string[];
  /** One severity (shorthand for `severities: [severity]`). */
  severity?: Severity;
  /** Severities to load; default 1…5. */
  severities?: Severity[];
  /** true (default): float32 in [0, 1]; false: int32 0–255. */
  normalize?: boolean;
  /** At most this many images per split (the first of each block). */
  limit?: number;
  /** Compute sha256 of every file read for the provenance (default true; the official files are 150 MB each). */
  checksum?: boolean;
}

async function findDefaultDir(root: string): Promise<string | undefined> {
  for (const d of [path.join(root, 'cifar10c', 'CIFAR-10-C'), path.join(root, 'CIFAR-10-C'), path.join(root, 'cifar10c')]) {
    if ((await pathKind(path.join(d, 'labels.npy'))) === 'file') return d;
  }
  return undefined;
}

/**
 * The `cifar10c` dataset adapter: CIFAR-10-C from the official `.npy` files.
 * One split per corruption × severity, named `<corruption>-<severity>`
 * (features `[N, 32, 32, 3]`, float32 in [0, 1] by default; labels 0–9).
 *
 * Memory: each official split is 10,000 images (123 MB as float32); pass
 * `corruptions`, `severities` or `limit` to load fewer. Errors: DataError
 * naming the file for a missing or malformed file; ConfigError for bad
 * options.
 */
export const cifar10cAdapter = defineAdapter<Cifar10CLoadOptions>({
  name: 'cifar10c',
  describe: () => ({
    name: 'cifar10c',
    title: 'CIFAR-10-C (Hendrycks & Dietterich 2019): CIFAR-10 test images under 15 corruptions × 5 severities',
    task: 'classification',
    modality: 'image',
    source: 'Official .npy files (<corruption>.npy, labels.npy); default <CHAINZ_DATA_DIR>/cifar10c/CIFAR-10-C or <CHAINZ_DATA_DIR>/CIFAR-10-C',
    builtIn: false,
  }),
  async load(options: Cifar10CLoadOptions = {}): Promise<LoadedDataset> {
    const normalize = options.normalize ?? true;
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
      throw new ConfigError(`limit must be a positive integer, got ${options.limit}`, { option: 'limit' });
    }
    let dir: string;
    if (options.path) {
      dir = path.resolve(options.path);
      if ((await pathKind(dir)) !== 'dir') throw new DataError('CIFAR-10-C folder not found', { file: dir });
    } else {
      const root = await dataRoot(options.dataDir);
      if (!root) {
        throw new DataError(`no CIFAR-10-C location: set CHAINZ_DATA_DIR or pass ${optionRef('path', 'dataDir')}`, { option: 'path' }, 'Download https://zenodo.org/record/2535967 and extract CIFAR-10-C.tar.');
      }
      const found = await findDefaultDir(root);
      if (!found) {
        throw new DataError(
          'CIFAR-10-C not found: no labels.npy in cifar10c/CIFAR-10-C, CIFAR-10-C or cifar10c',
          { file: root },
          'Download https://zenodo.org/record/2535967 (CIFAR-10-C.tar) and extract it into <data dir>/cifar10c/, ' +
            `pass ${optionRef('path')} pointing at a folder of the same layout (e.g. cifar10c/golden-first100, a 100-image reference set), ` +
            'or generate corruptions of the CIFAR-10 test images with `corrupt()`.',
        );
      }
      dir = found;
    }
    let corruptions = options.corruptions ?? (options.corruption ? [options.corruption] : undefined);
    if (!corruptions) {
      const present = await Promise.all(CORRUPTIONS.map((c) => pathKind(path.join(dir, `${c}.npy`))));
      corruptions = CORRUPTIONS.filter((_, i) => present[i] === 'file');
      if (corruptions.length === 0) throw new DataError(`no <corruption>.npy files (${CORRUPTIONS.join(', ')})`, { file: dir });
    }
    const severities: Severity[] = options.severities ?? (options.severity ? [options.severity] : [1, 2, 3, 4, 5]);
    for (const s of severities) {
      if (!Number.isInteger(s) || s < 1 || s > 5) throw new ConfigError(`severity must be an integer 1…5, got ${s}`, { option: 'severities' });
    }

    const splits: Record<string, DatasetSplit> = {};
    const files = new Set<string>();
    let blockSize = 0;
    try {
      for (const c of corruptions) {
        for (const s of severities) {
          const block = await readCifar10C(dir, c, s, { limit: options.limit });
          blockSize = block.blockSize;
          files.add(block.file);
          const shape: [number, number, number, number] = [block.n, 32, 32, 3];
          let features: tf.Tensor4D;
          if (normalize) {
            const f = new Float32Array(block.n * CIFAR10_IMAGE_BYTES);
            for (let i = 0; i < f.length; i++) f[i] = block.images[i] / 255;
            features = tf.tensor4d(f, shape, 'float32');
          } else {
            features = tf.tensor4d(Int32Array.from(block.images), shape, 'int32');
          }
          splits[cifar10cSplitName(c, s)] = { features, labels: block.labels };
        }
      }
    } catch (e) {
      for (const sp of Object.values(splits)) sp.features?.dispose();
      throw e;
    }
    files.add(path.join(dir, 'labels.npy'));
    const fileList = [...files];
    const checksum = options.checksum ?? true;
    const sha256 = checksum ? await Promise.all(fileList.map(sha256File)) : fileList.map(() => '');
    const notes: string[] = [];
    if (blockSize !== 10000) notes.push(`not the official CIFAR-10-C size: ${blockSize} images per severity in ${dir}`);
    if (options.limit !== undefined) notes.push(`limited to the first ${options.limit} images per split`);
    if (!checksum) notes.push('sha256 not computed (checksum: false)');
    return {
      name: 'cifar10c',
      task: 'classification',
      splits,
      classNames: [...CIFAR10_CLASS_NAMES],
      provenance: {
        files: fileList,
        sha256,
        source: 'CIFAR-10-C, https://zenodo.org/record/2535967 (generated from the CIFAR-10 test set)',
        licence: 'CC BY 4.0 (CIFAR-10-C); CIFAR-10 itself: no formal licence, cite Krizhevsky 2009.',
        citation:
          'D. Hendrycks and T. Dietterich. Benchmarking Neural Network Robustness to Common Corruptions and Perturbations. ICLR 2019.',
        notes,
        rows: Object.fromEntries(Object.entries(splits).map(([k, sp]) => [k, sp.labels.length])),
      },
      dispose() {
        for (const sp of Object.values(splits)) sp.features?.dispose();
      },
    };
  },
});
