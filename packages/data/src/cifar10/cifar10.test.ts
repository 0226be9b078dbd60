import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '@chainz/core';
import { readNpy } from '../npy/npy';
import { CIFAR10_CLASS_NAMES, cifar10Adapter, readCifar10Binary } from './cifar10';
import { testDataDir } from './test-data';

const root = testDataDir('cifar10/test_first1000.bin', 'cifar10/train_first4000.bin', 'cifar10c/golden-first100/clean.npy');
const testFile = path.join(root, 'cifar10/test_first1000.bin');
const tmp = mkdtempSync(path.join(tmpdir(), 'cifar10-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readCifar10Binary', () => {
  it('decodes the shared test file: labels, class counts, HWC pixels equal to the golden clean images', async () => {
    const { images, labels, n } = await readCifar10Binary(testFile);
    expect(n).toBe(1000);
    expect(images.length).toBe(1000 * 3072);
    expect(Array.from(labels.subarray(0, 5))).toEqual([3, 8, 8, 0, 6]);
    const counts = new Array(10).fill(0);
    for (const l of labels) counts[l]++;
    expect(counts).toEqual([103, 89, 100, 103, 90, 86, 112, 102, 106, 109]);
    const clean = await readNpy(path.join(root, 'cifar10c/golden-first100/clean.npy'));
    expect(Buffer.from(images.subarray(0, 100 * 3072)).equals(Buffer.from(clean.data as Uint8Array))).toBe(true);
  });

  it('reads a record range with offset/limit', async () => {
    const all = await readCifar10Binary(testFile, { limit: 20 });
    const part = await readCifar10Binary(testFile, { offset: 7, limit: 5 });
    expect(part.n).toBe(5);
    expect(Array.from(part.labels)).toEqual(Array.from(all.labels.subarray(7, 12)));
    expect(Buffer.from(part.images).equals(Buffer.from(all.images.subarray(7 * 3072, 12 * 3072)))).toBe(true);
  });

  it('rejects truncated, mis-sized and non-CIFAR files with a DataError naming the file', async () => {
    const bytes = readFileSync(testFile);
    const trunc = path.join(tmp, 'trunc.bin');
    writeFileSync(trunc, bytes.subarray(0, 3 * 3073 - 100));
    const e1 = await readCifar10Binary(trunc).catch((e) => e);
    expect(e1).toBeInstanceOf(DataError);
    expect(e1.message).toContain(trunc);
    expect(e1.message).toMatch(/not a positive multiple of the 3073-byte CIFAR-10 record/);
    const c100 = path.join(tmp, 'c100.bin');
    writeFileSync(c100, new Uint8Array(2 * 3074));
    await expect(readCifar10Binary(c100)).rejects.toThrow(/fits 3074-byte CIFAR-100 records/);
    const badLabel = path.join(tmp, 'badlabel.bin');
    const b = Buffer.from(bytes.subarray(0, 3 * 3073));
    b[2 * 3073] = 17;
    writeFileSync(badLabel, b);
    const e2 = await readCifar10Binary(badLabel).catch((e) => e);
    expect(e2).toBeInstanceOf(DataError);
    expect(e2.location).toMatchObject({ file: badLabel, row: 3 });
    await expect(readCifar10Binary(path.join(tmp, 'missing.bin'))).rejects.toThrow(/missing\.bin: file not found/);
  });
});

describe('cifar10 adapter', () => {
  it('loads the shared files through CHAINZ_DATA_DIR layout, float32 in [0,1], without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const ds = await cifar10Adapter.load({ dataDir: root });
    expect(ds.classNames).toEqual([...CIFAR10_CLASS_NAMES]);
    expect(ds.splits.train.features!.shape).toEqual([4000, 32, 32, 3]);
    expect(ds.splits.test.features!.shape).toEqual([1000, 32, 32, 3]);
    expect(ds.splits.test.features!.dtype).toBe('float32');
    expect(Array.from(ds.splits.train.labels.subarray(0, 5))).toEqual([6, 9, 9, 4, 1]);
    const raw = await readCifar10Binary(testFile, { limit: 1 });
    const first = tf.slice(ds.splits.test.features!, [0, 0, 0, 0], [1, 32, 32, 3]);
    const px = await first.data();
    first.dispose();
    for (let i = 0; i < 3072; i++) expect(px[i]).toBe(Math.fround(raw.images[i] / 255));
    expect(ds.provenance.sha256).toContain('8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5');
    expect(ds.provenance.notes!.join(' ')).toMatch(/reduced-scale subset/);
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads a single file as one split, raw int32 bytes, with a limit', async () => {
    const ds = await cifar10Adapter.load({ path: testFile, normalize: false, limit: 10 });
    expect(Object.keys(ds.splits)).toEqual(['test']);
    const t = ds.splits.test.features!;
    expect(t.shape).toEqual([10, 32, 32, 3]);
    expect(t.dtype).toBe('int32');
    const raw = await readCifar10Binary(testFile, { limit: 10 });
    expect(Array.from(await t.data())).toEqual(Array.from(raw.images));
    ds.dispose();
  });

  it('reads the official layout (data_batch_1..5, test_batch, batches.meta.txt) in order', async () => {
    const dir = path.join(tmp, 'official', 'cifar-10-batches-bin');
    mkdirSync(dir, { recursive: true });
    const bytes = readFileSync(testFile);
    for (let i = 1; i <= 5; i++) writeFileSync(path.join(dir, `data_batch_${i}.bin`), bytes.subarray((i - 1) * 2 * 3073, i * 2 * 3073));
    writeFileSync(path.join(dir, 'test_batch.bin'), bytes.subarray(10 * 3073, 13 * 3073));
    writeFileSync(path.join(dir, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    const ds = await cifar10Adapter.load({ path: path.join(tmp, 'official'), limit: 7 });
    expect(ds.classNames).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    const all = await readCifar10Binary(testFile, { limit: 13 });
    expect(Array.from(ds.splits.train.labels)).toEqual(Array.from(all.labels.subarray(0, 7)));
    expect(Array.from(ds.splits.test.labels)).toEqual(Array.from(all.labels.subarray(10, 13)));
    expect(ds.splits.train.features!.shape[0]).toBe(7);
    ds.dispose();
    rmSync(path.join(dir, 'data_batch_3.bin'));
    await expect(cifar10Adapter.load({ path: path.join(tmp, 'official'), split: 'train' })).rejects.toThrow(
      /incomplete CIFAR-10 training set: missing data_batch_3\.bin/,
    );
  });

  it('fails clearly for a missing folder, a bad split and a bad limit', async () => {
    const e = await cifar10Adapter.load({ dataDir: path.join(tmp, 'nowhere') }).catch((x) => x);
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/nowhere.*CIFAR-10 data not found/);
    expect(e.hint).toMatch(/cifar-10-binary\.tar\.gz.*\(or pass `path` pointing at the batch files\)/);
    await expect(cifar10Adapter.load({ dataDir: root, splits: ['dev' as 'test'] })).rejects.toBeInstanceOf(ConfigError);
    await expect(cifar10Adapter.load({ dataDir: root, limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
  });
});
