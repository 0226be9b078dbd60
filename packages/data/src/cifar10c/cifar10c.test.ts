import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '@chainz/core';
import { readCifar10Binary } from '../cifar10/cifar10';
import { testDataDir } from '../cifar10/test-data';
import { readNpy } from '../npy/npy';
import { npyBytes, npyDict } from '../npy/test-npy';
import { cifar10cAdapter, readCifar10C } from './cifar10c';

const root = testDataDir('cifar10c/golden-first100/labels.npy', 'cifar10/test_first1000.bin');
const golden = path.join(root, 'cifar10c/golden-first100');
const tmp = mkdtempSync(path.join(tmpdir(), 'cifar10c-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A synthetic folder in the official layout with block size b; pixel = (row + channel) mod 256. */
function synthetic(dir: string, b: number, opts: { rows?: number; labelRows?: number; descr?: string } = {}): void {
  mkdirSync(dir, { recursive: true });
  const rows = opts.rows ?? 5 * b;
  const px = new Uint8Array(rows * 3072);
  for (let r = 0; r < rows; r++) for (let k = 0; k < 3072; k++) px[r * 3072 + k] = (r + (k % 3)) & 255;
  writeFileSync(path.join(dir, 'fog.npy'), npyBytes(npyDict(opts.descr ?? '|u1', [rows, 32, 32, 3]), px));
  const lr = opts.labelRows ?? rows;
  const labels = new Uint8Array(lr).map((_, i) => i % 10);
  writeFileSync(path.join(dir, 'labels.npy'), npyBytes(npyDict('|u1', [lr]), labels));
}

describe('readCifar10C', () => {
  it('reads one severity block of the golden set (block size 100), equal to the same rows of the file', async () => {
    const b = await readCifar10C(golden, 'contrast', 3, { offset: 10, limit: 20 });
    expect(b.blockSize).toBe(100);
    expect(b.n).toBe(20);
    const whole = await readNpy(path.join(golden, 'contrast.npy'));
    const start = (200 + 10) * 3072;
    expect(Buffer.from(b.images).equals(Buffer.from((whole.data as Uint8Array).subarray(start, start + 20 * 3072)))).toBe(true);
    const test = await readCifar10Binary(path.join(root, 'cifar10/test_first1000.bin'), { offset: 10, limit: 20 });
    expect(Array.from(b.labels)).toEqual(Array.from(test.labels));
  });

  it('detects the block size of the official layout and reads only the requested rows of a 150 MB file', async () => {
    // A sparse file of the official size (50000 × 3072 bytes): only the block asked for is read.
    const dir = path.join(tmp, 'sparse');
    mkdirSync(dir);
    const header = npyBytes(npyDict('|u1', [50000, 32, 32, 3]), new Uint8Array(0));
    const fd = openSync(path.join(dir, 'snow.npy'), 'w');
    writeSync(fd, header);
    ftruncateSync(fd, header.length + 50000 * 3072);
    const marker = new Uint8Array(3072).fill(7);
    writeSync(fd, marker, 0, 3072, header.length + 40000 * 3072); // first image of severity 5
    closeSync(fd);
    writeFileSync(path.join(dir, 'labels.npy'), npyBytes(npyDict('|u1', [50000]), new Uint8Array(50000).map((_, i) => i % 10)));
    const t0 = performance.now();
    const b = await readCifar10C(dir, 'snow', 5, { limit: 3 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(b.blockSize).toBe(10000);
    expect(Array.from(b.images.subarray(0, 3072)).every((v) => v === 7)).toBe(true);
    expect(Array.from(b.images.subarray(3072)).every((v) => v === 0)).toBe(true);
    expect(Array.from(b.labels)).toEqual([0, 1, 2]);
  });

  it('rejects malformed files with a DataError naming the file', async () => {
    const d1 = path.join(tmp, 'uneven');
    synthetic(d1, 2, { rows: 11 });
    const e1 = await readCifar10C(d1, 'fog', 1).catch((e) => e);
    expect(e1).toBeInstanceOf(DataError);
    expect(e1.message).toMatch(/fog\.npy: 11 rows is not 5 severity blocks/);
    const d2 = path.join(tmp, 'labels-mismatch');
    synthetic(d2, 2, { labelRows: 9 });
    await expect(readCifar10C(d2, 'fog', 1)).rejects.toThrow(/labels\.npy: expected integer labels of shape \[10\]/);
    const d3 = path.join(tmp, 'float');
    synthetic(d3, 2, { descr: '<f4' });
    await expect(readCifar10C(d3, 'fog', 1)).rejects.toThrow(/fog\.npy: expected uint8 \[5·B, 32, 32, 3\], got float32 \[10, 32, 32, 3\]/);
    await expect(readCifar10C(d1, 'snow', 1)).rejects.toThrow(/snow\.npy: file not found/);
    await expect(readCifar10C(d1, 'fog', 6 as 1)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('cifar10c adapter', () => {
  it('loads chosen corruptions and severities as <corruption>-<severity> splits, notes the non-official size, leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const ds = await cifar10cAdapter.load({ path: golden, corruptions: ['fog', 'pixelate'], severities: [2, 5], limit: 8 });
    expect(Object.keys(ds.splits).sort()).toEqual(['fog-2', 'fog-5', 'pixelate-2', 'pixelate-5']);
    expect(ds.splits['fog-5'].features!.shape).toEqual([8, 32, 32, 3]);
    const ref = await readCifar10C(golden, 'pixelate', 5, { limit: 8 });
    const vals = await ds.splits['pixelate-5'].features!.data();
    for (let i = 0; i < vals.length; i += 101) expect(vals[i]).toBe(Math.fround(ref.images[i] / 255));
    expect(Array.from(ds.splits['fog-2'].labels)).toEqual(Array.from(ref.labels));
    expect(ds.classNames[3]).toBe('cat');
    expect(ds.provenance.files.map((f) => path.basename(f)).sort()).toEqual(['fog.npy', 'labels.npy', 'pixelate.npy']);
    expect(ds.provenance.sha256.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(ds.provenance.notes!.join(' ')).toMatch(/not the official CIFAR-10-C size: 100 images per severity/);
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('finds the official layout under <dataDir>/cifar10c/CIFAR-10-C, raw int32 when normalize is false', async () => {
    const d = path.join(tmp, 'root', 'cifar10c', 'CIFAR-10-C');
    synthetic(d, 4);
    const ds = await cifar10cAdapter.load({ dataDir: path.join(tmp, 'root'), severity: 3, normalize: false, checksum: false });
    expect(Object.keys(ds.splits)).toEqual(['fog-3']);
    const t = ds.splits['fog-3'].features!;
    expect(t.dtype).toBe('int32');
    const v = await t.data();
    expect(v[0]).toBe(8); // row 8 = first image of severity 3, channel 0
    expect(v[1]).toBe(9);
    expect(Array.from(ds.splits['fog-3'].labels)).toEqual([8, 9, 0, 1]);
    expect(ds.provenance.notes!.join(' ')).toMatch(/sha256 not computed/);
    ds.dispose();
  });

  it('fails with a clear message when no CIFAR-10-C folder exists', async () => {
    const e = await cifar10cAdapter.load({ dataDir: root }).catch((x) => x);
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/CIFAR-10-C not found/);
    expect(e.hint).toMatch(/zenodo\.org\/record\/2535967.*golden-first100/);
    await expect(cifar10cAdapter.load({ path: golden, corruptions: ['nope'] })).rejects.toThrow(/nope\.npy: file not found/);
    expect(readFileSync(path.join(golden, 'labels.npy')).length).toBeGreaterThan(0);
  });
});
