import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError } from '@chainz/core';
import { readCifar10Binary } from '../cifar10/cifar10';
import { testDataDir } from '../cifar10/test-data';
import { corrupt } from './corrupt';
import { CORRUPTIONS, type CorruptionName } from './params';

const root = testDataDir('cifar10/test_first1000.bin', 'cifar10c/frost/frost5.jpg');
const frostDir = path.join(root, 'cifar10c/frost');
const tmp = mkdtempSync(path.join(tmpdir(), 'corrupt-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const RANDOM: CorruptionName[] = [
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'glass_blur',
  'motion_blur',
  'snow',
  'frost',
  'fog',
  'elastic_transform',
];

describe('corrupt', () => {
  it('lists the 15 corruptions in the official order', () => {
    expect(CORRUPTIONS).toEqual([
      'gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur', 'snow',
      'frost', 'fog', 'brightness', 'contrast', 'elastic_transform', 'pixelate', 'jpeg_compression',
    ]);
  });

  it('is reproducible per seed, differs across seeds for random corruptions, and leaves the input untouched', async () => {
    const { images } = await readCifar10Binary(path.join(root, 'cifar10/test_first1000.bin'), { limit: 4 });
    const copy = images.slice();
    for (const name of CORRUPTIONS) {
      const a = await corrupt(images, 4, name, 3, { seed: 5, frostDir });
      const b = await corrupt(images, 4, name, 3, { seed: 5, frostDir });
      const c = await corrupt(images, 4, name, 3, { seed: 6, frostDir });
      expect(a.length).toBe(4 * 3072);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(a).equals(Buffer.from(c))).toBe(!RANDOM.includes(name));
      expect(Buffer.from(a).equals(Buffer.from(images))).toBe(false);
    }
    expect(Buffer.from(images).equals(Buffer.from(copy))).toBe(true);
  });

  it('severity 5 changes images more than severity 1 (mean absolute difference, 4 images)', async () => {
    const { images } = await readCifar10Binary(path.join(root, 'cifar10/test_first1000.bin'), { limit: 4 });
    // Not elastic_transform: in the original parameters its severity 1 has the
    // largest affine jitter (0.08·32 px), and it changes images the most (the
    // golden files agree: std of the difference 36.8 at severity 1, 23.2 at 5).
    for (const name of CORRUPTIONS.filter((c) => c !== 'elastic_transform')) {
      const m1 = mad(await corrupt(images, 4, name, 1, { frostDir }), images);
      const m5 = mad(await corrupt(images, 4, name, 5, { frostDir }), images);
      expect(m5, name).toBeGreaterThan(m1);
    }
  });

  it('rejects bad shapes, names and severities with typed errors', async () => {
    const img = new Uint8Array(3072);
    await expect(corrupt(img, 2, 'fog', 1)).rejects.toBeInstanceOf(ShapeError);
    const e = await corrupt(img, 1, 'spatter' as CorruptionName, 1).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/unknown corruption 'spatter' \(valid: gaussian_noise, shot_noise/);
    await expect(corrupt(img, 1, 'fog', 0 as 1)).rejects.toThrow(/severity must be an integer 1…5, got 0/);
  });

  it('fails clearly, naming the file, when a frost texture is missing', async () => {
    for (const f of ['frost1.png', 'frost2.png', 'frost4.jpg', 'frost5.jpg']) copyFileSync(path.join(frostDir, f), path.join(tmp, f));
    const e = await corrupt(new Uint8Array(3072), 1, 'frost', 2, { frostDir: tmp }).catch((x) => x);
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain(path.join(tmp, 'frost3.png'));
    expect(e.message).toMatch(/frost texture not found/);
    const saved = process.env.CHAINZ_DATA_DIR;
    delete process.env.CHAINZ_DATA_DIR;
    try {
      await expect(corrupt(new Uint8Array(3072), 1, 'frost', 2)).rejects.toThrow(/pass opts\.frostDir or set CHAINZ_DATA_DIR/);
    } finally {
      if (saved !== undefined) process.env.CHAINZ_DATA_DIR = saved;
    }
  });
});

function mad(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}
