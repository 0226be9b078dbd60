/**
 * CIFAR-10-C evaluation data: the clean CIFAR-10 training and test images and
 * every corruption × severity set, regenerated from the test images by our
 * port of the generator (`corrupt`, seeded) with an on-disk cache, or read
 * from the official CIFAR-10-C files. Node only (files, worker threads).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DataError, optionRef, renameOptions } from '@chainz/core';
import { CORRUPTIONS, type CorruptionName, type Severity } from '../corruptions/params';
import { corrupt } from '../corruptions/corrupt';
import { cifar10Adapter } from '../cifar10/cifar10';
import { readCifar10C } from './cifar10c';
import { writeFileAtomic } from '../files';

/** Images of one evaluation set, uint8 HWC `[n, 32, 32, 3]`. */
export interface ImageSet {
  images: Uint8Array;
  labels: Int32Array;
  n: number;
}

/** One corrupted evaluation set. */
export interface CorruptedSet extends ImageSet {
  corruption: string;
  severity: Severity;
}

/** Everything a CIFAR-10-C robustness experiment trains and evaluates on. */
export interface CifarCorruptionData {
  train: ImageSet;
  test: ImageSet;
  /** Corruption × severity sets, corruption-major in the official order. */
  sets: CorruptedSet[];
  corruptions: string[];
  severities: Severity[];
  /** `regenerated`: our port of the generator applied to the test images; `official`: the published CIFAR-10-C files. */
  source: 'regenerated' | 'official';
  /** One line for the report, e.g. "regenerated subset, 1000 test images (our port of the CIFAR-10-C generator, seed 0)". */
  description: string;
  /** Files read and their sha256; for the regenerated sets, the cache files' keys. */
  provenance: Record<string, unknown>;
  /** Identifies the data for `--resume` (checksums, sizes, source, corruption seed). */
  fingerprint: string;
  /** Generation statistics (regenerated sets only). */
  generation?: { generated: number; fromCache: number; seconds: number; cacheDir: string | null };
}

/** Options of {@link loadCifarCorruptionData}. */
export interface CifarCorruptionDataOptions {
  /** CIFAR-10 binary batches: a folder of the official files or of train_first4000.bin/test_first1000.bin; default `<dataDir ?? CHAINZ_DATA_DIR>/cifar10`. */
  cifarDir?: string;
  /** Official CIFAR-10-C folder (`<corruption>.npy`, `labels.npy`); default: regenerate with our port. */
  cifar10cDir?: string;
  /** Data root instead of CHAINZ_DATA_DIR (also where the frost textures are found: `<dataDir>/cifar10c/frost`). */
  dataDir?: string;
  /** First N training images (≥ 10). */
  trainSize: number;
  /** First N test images (≥ 10). */
  testSize: number;
  /** Corruptions to evaluate (default all 15). */
  corruptions?: string[];
  /** Severities (default 1–5). */
  severities?: Severity[];
  /** Seed of `corrupt()`. */
  corruptionSeed: number;
  /** Cache folder for regenerated sets; `null` = no cache. Default `$CHAINZ_CACHE_DIR/cifar10c-generated` or `~/.cache/chainz/cifar10c-generated`. */
  cacheDir?: string | null;
  /** Progress messages (stderr). */
  log?: (message: string) => void;
  /** Called after each set is ready (for a progress bar). */
  onSet?: (done: number, total: number, set: CorruptedSet, fromCache: boolean) => void;
  /** Put the image buffers in SharedArrayBuffers (for worker threads). Default true. */
  shared?: boolean;
  /** Worker threads generating corrupted sets in parallel (built package only; default 1 = this thread). */
  workers?: number;
}

const require = createRequire(import.meta.url);

function dataPackageVersion(): string {
  try {
    return (require('@chainz/data/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Worker threads that run `corrupt()` (the built package's
 * `cifar10c-generate.worker.js`); null for one worker or when running
 * from sources (tests), where generation stays in this thread.
 */
async function generatorPool(workers: number): Promise<{ threads: number; run(task: unknown): Promise<Uint8Array>; close(): Promise<void> } | null> {
  if (!(workers > 1)) return null;
  const file = new URL('./cifar10c-generate.worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(file))) return null;
  const { default: Tinypool } = await import('tinypool');
  const pool = new Tinypool({ filename: file.href, minThreads: workers, maxThreads: workers, isolateWorkers: false });
  return { threads: workers, run: (task) => pool.run(task) as Promise<Uint8Array>, close: () => pool.destroy() };
}

/** Default folder of the generated-set cache. */
export function defaultCifar10cCacheDir(): string {
  const root = process.env.CHAINZ_CACHE_DIR ? path.resolve(process.env.CHAINZ_CACHE_DIR) : path.join(os.homedir(), '.cache', 'chainz');
  return path.join(root, 'cifar10c-generated');
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function toShared(a: Uint8Array, shared: boolean): Uint8Array {
  if (!shared) return a;
  const out = new Uint8Array(new SharedArrayBuffer(a.length));
  out.set(a);
  return out;
}

function tensorBytes(t: { dataSync(): ArrayLike<number> }, shared: boolean): Uint8Array {
  const v = t.dataSync();
  const out = shared ? new Uint8Array(new SharedArrayBuffer(v.length)) : new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i];
  return out;
}

async function loadSplit(dir: string, split: 'train' | 'test', n: number, option: string, shared: boolean): Promise<{ set: ImageSet; files: string[]; sha256: string[]; notes: string[] }> {
  let ds;
  try {
    ds = await cifar10Adapter.load({ path: dir, split, normalize: false, limit: n });
  } catch (e) {
    throw renameOptions(e, { path: 'cifarDir', dataDir: null, limit: option });
  }
  try {
    const sp = ds.splits[split];
    const got = sp.labels.length;
    if (got < n) throw new ConfigError(`asks for ${n} ${split} images but ${dir} holds only ${got}`, { option, file: dir });
    return {
      set: { images: tensorBytes(sp.features!, shared), labels: Int32Array.from(sp.labels), n },
      files: ds.provenance.files,
      sha256: ds.provenance.sha256,
      notes: ds.provenance.notes ?? [],
    };
  } finally {
    ds.dispose();
  }
}

/** Magic first line of a cache file. */
const CACHE_MAGIC = 'CHAINZ-CIFAR10C-SET v1\n';

/** What a cached set was made from (stored in its header and hashed into its file name). */
export interface CacheKey {
  format: 1;
  generator: string;
  /** sha256 of the clean test images the set was made from (uint8 HWC bytes). */
  source: string;
  n: number;
  corruption: string;
  severity: number;
  seed: number;
}

/** Cache file name for a key: readable prefix + a hash of the whole key. */
export function cacheFileName(key: CacheKey): string {
  return `${key.corruption}-s${key.severity}-${sha256(JSON.stringify(key)).slice(0, 20)}.bin`;
}

/**
 * Read a cached set; `null` if the file is absent, and also (with a message) if it
 * is damaged, truncated, of another key or fails its sha256 — it is then regenerated.
 */
export async function readCachedSet(file: string, key: CacheKey, log?: (m: string) => void): Promise<Uint8Array | null> {
  if (!existsSync(file)) return null;
  try {
    const buf = new Uint8Array(await readFile(file));
    const magic = new TextEncoder().encode(CACHE_MAGIC);
    if (buf.length < magic.length || !magic.every((b, i) => buf[i] === b)) throw new Error('not a cache file (bad magic)');
    const nl = buf.indexOf(10, magic.length);
    if (nl < 0) throw new Error('no header line');
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(magic.length, nl))) as { key: CacheKey; bytes: number; sha256: string };
    if (JSON.stringify(header.key) !== JSON.stringify(key)) throw new Error('written for another key');
    const payload = buf.subarray(nl + 1);
    if (payload.length !== header.bytes || header.bytes !== key.n * 3072) throw new Error(`truncated: ${payload.length} of ${header.bytes} bytes`);
    if (sha256(payload) !== header.sha256) throw new Error('sha256 mismatch');
    return payload;
  } catch (e) {
    log?.(`cache: ignoring ${file} (${(e as Error).message}); regenerating it`);
    return null;
  }
}

/** Write a set atomically (temp file + rename) with its key and sha256 in the header. */
export async function writeCachedSet(file: string, key: CacheKey, images: Uint8Array): Promise<void> {
  const header = new TextEncoder().encode(`${CACHE_MAGIC}${JSON.stringify({ key, bytes: images.length, sha256: sha256(images) })}\n`);
  await writeFileAtomic(file, [header, images]);
}

function checkNames(corruptions: string[] | undefined, official: boolean): string[] {
  const names = corruptions ?? [...CORRUPTIONS];
  if (names.length === 0) throw new ConfigError('needs at least one corruption', { option: 'corruptions' });
  const bad = names.filter((c) => !(CORRUPTIONS as readonly string[]).includes(c) && !(official && /^[a-z0-9_]+$/.test(c)));
  if (bad.length > 0) throw new ConfigError(`unknown corruption(s) ${bad.join(', ')}; choose from ${CORRUPTIONS.join(', ')}`, { option: 'corruptions' });
  if (new Set(names).size !== names.length) throw new ConfigError('lists a corruption twice', { option: 'corruptions' });
  return names;
}

/**
 * Load the clean training and test images and build every corruption × severity
 * evaluation set: regenerated from the test images by `corrupt()` (seeded), with an
 * on-disk cache keyed by the test images' sha256, corruption, severity, seed and
 * generator version (atomic writes, verified on read), or read from an official
 * CIFAR-10-C folder (`cifar10cDir`, first `testSize` images of each block, whose
 * labels must equal the clean test labels).
 *
 * Image buffers are uint8 HWC `[n, 32, 32, 3]`.
 *
 * @throws DataError naming the file for missing/malformed data; ConfigError naming
 *   the option (`trainSize`, `testSize`, `corruptions`, `severities`,
 *   `corruptionSeed`, `cifarDir`, `cifar10cDir`) for bad sizes, names or severities.
 */
export async function loadCifarCorruptionData(opts: CifarCorruptionDataOptions): Promise<CifarCorruptionData> {
  const shared = opts.shared ?? true;
  for (const [opt, v] of [['trainSize', opts.trainSize], ['testSize', opts.testSize]] as const) {
    if (!Number.isInteger(v) || v < 10) throw new ConfigError(`must be an integer ≥ 10, got ${v}`, { option: opt });
  }
  const severities = opts.severities ?? ([1, 2, 3, 4, 5] as Severity[]);
  if (severities.length === 0 || severities.some((s) => !Number.isInteger(s) || s < 1 || s > 5) || new Set(severities).size !== severities.length) {
    throw new ConfigError(`must be distinct integers in 1…5, got ${JSON.stringify(severities)}`, { option: 'severities' });
  }
  if (!Number.isInteger(opts.corruptionSeed)) throw new ConfigError(`must be an integer, got ${opts.corruptionSeed}`, { option: 'corruptionSeed' });
  const official = opts.cifar10cDir !== undefined;
  const corruptions = checkNames(opts.corruptions, official);

  let cifarDir: string;
  if (opts.cifarDir) cifarDir = path.resolve(opts.cifarDir);
  else {
    const root = opts.dataDir ?? process.env.CHAINZ_DATA_DIR;
    if (!root) {
      throw new DataError(
        `no CIFAR-10 location: pass ${optionRef('cifarDir')} or set CHAINZ_DATA_DIR`,
        { option: 'cifarDir' },
        'The reduced copies train_first4000.bin / test_first1000.bin are in <data dir>/cifar10/; the official batches: https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
      );
    }
    cifarDir = path.resolve(root, 'cifar10');
  }
  const train = await loadSplit(cifarDir, 'train', opts.trainSize, 'trainSize', shared);
  const test = await loadSplit(cifarDir, 'test', opts.testSize, 'testSize', shared);
  const testSha = sha256(test.set.images);
  const total = corruptions.length * severities.length;
  const sets: CorruptedSet[] = [];
  const provenance: Record<string, unknown> = {
    cifar10: { dir: cifarDir, train: { files: train.files, sha256: train.sha256, images: opts.trainSize }, test: { files: test.files, sha256: test.sha256, images: opts.testSize }, notes: [...train.notes, ...test.notes] },
  };

  if (official) {
    const dir = path.resolve(opts.cifar10cDir!);
    for (const c of corruptions) {
      for (const s of severities) {
        let block;
        try {
          block = await readCifar10C(dir, c, s, { limit: opts.testSize });
        } catch (e) {
          throw renameOptions(e, { path: 'cifar10cDir', dataDir: null, limit: 'testSize' });
        }
        if (block.n < opts.testSize) throw new ConfigError(`asks for ${opts.testSize} test images but ${block.file} holds ${block.n} per severity`, { option: 'testSize', file: block.file });
        for (let i = 0; i < block.n; i++) {
          if (block.labels[i] !== test.set.labels[i]) {
            throw new DataError(
              `label of image ${i} (severity ${s}) is ${block.labels[i]} but the clean test image ${i} has label ${test.set.labels[i]}: these corrupted images were not made from the test images used here`,
              { file: path.join(dir, 'labels.npy'), row: (s - 1) * block.blockSize + i + 1 },
              `Use the official test batch (or test_first1000.bin) with ${optionRef('cifarDir')}.`,
            );
          }
        }
        const set: CorruptedSet = { corruption: c, severity: s, images: toShared(block.images, shared), labels: test.set.labels, n: block.n };
        sets.push(set);
        opts.onSet?.(sets.length, total, set, false);
      }
    }
    provenance.cifar10c = { dir, official: true };
    const fingerprint = sha256(JSON.stringify({ train: train.sha256, test: test.sha256, n: [opts.trainSize, opts.testSize], source: 'official', dir, corruptions, severities }));
    return {
      train: train.set,
      test: test.set,
      sets,
      corruptions,
      severities,
      source: 'official',
      description: `official CIFAR-10-C (${dir}), first ${opts.testSize} images of each corruption × severity`,
      provenance,
      fingerprint,
    };
  }

  const cacheDir = opts.cacheDir === null ? null : path.resolve(opts.cacheDir ?? defaultCifar10cCacheDir());
  const frostDir = opts.dataDir ? path.resolve(opts.dataDir, 'cifar10c', 'frost') : undefined;
  const generator = `@chainz/data@${dataPackageVersion()}`;
  const t0 = performance.now();
  let generated = 0;
  let fromCache = 0;
  const jobs = corruptions.flatMap((c) => severities.map((s) => ({ c, s })));
  const results: (CorruptedSet | undefined)[] = new Array(jobs.length);
  const cacheFiles: string[] = new Array(jobs.length);
  const pool = await generatorPool(opts.workers ?? 1);
  let done = 0;
  let next = 0;
  const work = async () => {
    while (next < jobs.length) {
      const j = next++;
      const { c, s } = jobs[j];
      const key: CacheKey = { format: 1, generator, source: testSha, n: opts.testSize, corruption: c, severity: s, seed: opts.corruptionSeed };
      const file = cacheDir ? path.join(cacheDir, cacheFileName(key)) : null;
      const cached = file ? await readCachedSet(file, key, opts.log) : null;
      let images: Uint8Array;
      if (cached === null) {
        const task = { images: test.set.images, n: opts.testSize, corruption: c as CorruptionName, severity: s, seed: opts.corruptionSeed, frostDir };
        images = pool ? await pool.run(task) : await corrupt(task.images, task.n, task.corruption, task.severity, { seed: task.seed, frostDir });
        if (file) await writeCachedSet(file, key, images);
        generated++;
      } else {
        images = cached;
        fromCache++;
      }
      if (file) cacheFiles[j] = path.basename(file);
      const set: CorruptedSet = { corruption: c, severity: s, images: toShared(images, shared), labels: test.set.labels, n: opts.testSize };
      results[j] = set;
      opts.onSet?.(++done, total, set, cached !== null);
    }
  };
  try {
    await Promise.all(Array.from({ length: pool ? pool.threads : 1 }, work));
  } finally {
    await pool?.close();
  }
  sets.push(...(results as CorruptedSet[]));
  const seconds = (performance.now() - t0) / 1000;
  provenance.cifar10c = { regenerated: true, generator, corruptionSeed: opts.corruptionSeed, testImagesSha256: testSha, cacheDir, cacheFiles: cacheDir ? cacheFiles : [] };
  const fingerprint = sha256(JSON.stringify({ train: train.sha256, test: test.sha256, n: [opts.trainSize, opts.testSize], source: 'regenerated', generator, seed: opts.corruptionSeed, corruptions, severities }));
  return {
    train: train.set,
    test: test.set,
    sets,
    corruptions,
    severities,
    source: 'regenerated',
    description: `regenerated subset, ${opts.testSize} test images (our port of the CIFAR-10-C generator, ${generator}, seed ${opts.corruptionSeed})`,
    provenance,
    fingerprint,
    generation: { generated, fromCache, seconds, cacheDir },
  };
}
