import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '@chainz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextEncoder } from './encoder';
import { createUseLiteEncoder } from './use-lite';

// Runs on the cpu backend set up by scripts/vitest.setup.ts (slow, pure JS):
// keep the sentences few and short.
const S = [
  'The movie was wonderful.', // 0
  'The film was great.', // 1  paraphrase of 0
  'Stock prices fell sharply today.', // 2  unrelated
  'I hated this boring film.', // 3
  'What a dull and tedious movie.', // 4  paraphrase of 3
  'The cat sleeps on the sofa.', // 5  unrelated
  '', // 6  empty
];

let enc: TextEncoder;
let E: Float32Array;
beforeAll(async () => {
  enc = await createUseLiteEncoder();
  E = await enc.encode(S, { pooling: 'mean' });
});
afterAll(() => enc?.dispose?.());

const row = (v: Float32Array, i: number) => v.subarray(i * 512, (i + 1) * 512);
function cos(a: Float32Array, b: Float32Array): number {
  let s = 0;
  let x = 0;
  let y = 0;
  for (let k = 0; k < a.length; k++) {
    s += a[k] * b[k];
    x += a[k] * a[k];
    y += b[k] * b[k];
  }
  return s / Math.sqrt(x * y);
}

describe('createUseLiteEncoder (pretrained USE lite on tfjs 4.22)', () => {
  it('gives 512-d, L2-normalised, finite vectors', () => {
    expect(enc.dimension).toBe(512);
    expect(enc.id).toMatch(/^use-lite:[0-9a-f]{16}$/);
    expect(enc.description).toMatch(/not BERT/);
    expect(E).toBeInstanceOf(Float32Array);
    expect(E.length).toBe(S.length * 512);
    for (let i = 0; i < S.length; i++) {
      const r = row(E, i);
      expect(r.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...r)).toBeCloseTo(1, 5);
    }
  });

  it('ranks paraphrases above unrelated sentences', () => {
    expect(cos(row(E, 0), row(E, 1))).toBeGreaterThan(cos(row(E, 0), row(E, 2)) + 0.3);
    expect(cos(row(E, 0), row(E, 1))).toBeGreaterThan(cos(row(E, 0), row(E, 5)) + 0.3);
    expect(cos(row(E, 3), row(E, 4))).toBeGreaterThan(cos(row(E, 3), row(E, 2)) + 0.2);
    expect(cos(row(E, 3), row(E, 4))).toBeGreaterThan(cos(row(E, 3), row(E, 5)) + 0.2);
  });

  it('is deterministic and independent of batch composition (within 1e-5)', async () => {
    const before = tf.memory().numTensors;
    const again = await enc.encode([S[2], S[0]], { pooling: 'mean' });
    expect(tf.memory().numTensors).toBe(before);
    let m = 0;
    for (let k = 0; k < 512; k++) {
      m = Math.max(m, Math.abs(again[k] - E[2 * 512 + k]), Math.abs(again[512 + k] - E[k]));
    }
    expect(m).toBeLessThan(1e-5);
  });

  it("accepts only pooling 'mean' (the model pools internally)", async () => {
    await expect(enc.encode(['x'], { pooling: 'cls' })).rejects.toThrow(ConfigError);
  });

  it('names the missing file for a bad modelDir', async () => {
    const err = await createUseLiteEncoder({ modelDir: '/nonexistent-use-dir' }).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.location.file).toBe('/nonexistent-use-dir/model.json');
  });
});
