import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError } from '@chainz/core';
import { conv2d, conv2dGeometry, inBoundsTapMask, type Conv2dPadding } from './conv2d';

function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => rng.normal()), shape);
}

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) s = Math.max(s, Math.abs(y[i]));
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m / Math.max(s, 1e-12);
}

describe('conv2d (forward-conv backward pass)', () => {
  // [B, H, W, C_in, C_out, kh, kw, stride, padding]
  const cases: Array<[number, number, number, number, number, number, number, number | [number, number], Conv2dPadding]> = [
    [2, 6, 6, 3, 4, 3, 3, 1, 'same'],
    [2, 7, 7, 2, 3, 3, 3, 2, 'same'],
    [1, 8, 8, 2, 3, 3, 3, 2, 'same'],
    [2, 9, 8, 3, 2, 3, 3, 2, 'valid'],
    [1, 8, 7, 2, 3, 4, 4, 2, 'same'],
    [1, 10, 9, 2, 3, 2, 2, 3, 'valid'],
    [2, 7, 7, 2, 3, 3, 3, 1, 'valid'],
    [1, 9, 11, 2, 2, 3, 2, [2, 3], 'same'],
    [3, 5, 5, 1, 1, 5, 5, 1, 'same'],
  ];
  for (const [B, H, W, ci, co, kh, kw, s, pad] of cases) {
    it(`value and gradients equal tf.conv2d's for x [${B},${H},${W},${ci}], K [${kh},${kw},${ci},${co}], strides ${JSON.stringify(s)}, ${pad}`, () => {
      const rng = new Rng(H * 31 + W * 7 + kh + ci);
      const x = randn(rng, [B, H, W, ci]) as tf.Tensor4D;
      const k = randn(rng, [kh, kw, ci, co]) as tf.Tensor4D;
      const b = randn(rng, [co]) as tf.Tensor1D;
      const before = tf.memory().numTensors;
      const ref = tf.tidy(() => tf.add(tf.conv2d(x, k, s, pad), b));
      const ours = conv2d(x, k, b, { strides: s, padding: pad });
      expect(ours.shape).toEqual(ref.shape);
      expect(maxRel(ours, ref)).toBeLessThan(1e-6);
      const c = randn(rng, ref.shape); // a random cotangent, so every gradient entry matters
      const g1 = tf.grads((xx: tf.Tensor, kk: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, bb as tf.Tensor1D, { strides: s, padding: pad }), c)))([x, k, b]);
      const g2 = tf.grads((xx: tf.Tensor, kk: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, s, pad), bb), c)))([x, k, b]);
      for (let i = 0; i < 3; i++) {
        expect(g1[i].shape).toEqual(g2[i].shape);
        expect(maxRel(g1[i], g2[i])).toBeLessThan(1e-5);
      }
      tf.dispose([ref, ours, c, ...g1, ...g2]);
      expect(tf.memory().numTensors).toBe(before); // no leaks from forward or backward
      tf.dispose([x, k, b]);
    });
  }

  it('the in-bounds tap mask times S equals conv2d(ones[1, H, W, 1], S) (border-aware tap sums)', () => {
    const rng = new Rng(5);
    for (const [H, W, kh, kw, s, pad] of [
      [6, 6, 3, 3, 1, 'same'],
      [7, 8, 3, 3, 2, 'same'],
      [8, 8, 4, 3, 2, 'same'],
      [9, 7, 3, 3, 2, 'valid'],
      [5, 5, 5, 5, 1, 'same'],
    ] as Array<[number, number, number, number, number, Conv2dPadding]>) {
      const g = conv2dGeometry([H, W], [kh, kw], s, pad);
      const S = tf.abs(randn(rng, [kh * kw, 4])) as tf.Tensor2D;
      const viaMask = tf.matMul(tf.tensor2d(inBoundsTapMask(g), [g.h.out * g.w.out, kh * kw]), S);
      const viaConv = tf.reshape(tf.conv2d(tf.ones([1, H, W, 1]) as tf.Tensor4D, tf.reshape(S, [kh, kw, 1, 4]) as tf.Tensor4D, s, pad), [g.h.out * g.w.out, 4]);
      expect(maxRel(viaMask, viaConv)).toBeLessThan(1e-6);
      tf.dispose([S, viaMask, viaConv]);
    }
  });

  it('geometry follows TensorFlow (SAME: ⌈H/s⌉, smaller half of the padding first)', () => {
    const g = conv2dGeometry([32, 32], [3, 3], 2, 'same');
    expect(g.h).toEqual({ in: 32, out: 16, padBefore: 0, padAfter: 1 });
    expect(conv2dGeometry([7, 7], [3, 3], 1, 'valid').w).toEqual({ in: 7, out: 5, padBefore: 0, padAfter: 0 });
    expect(conv2dGeometry([8, 8], [4, 4], 1, 'same').h).toEqual({ in: 8, out: 8, padBefore: 1, padAfter: 2 });
  });

  it('names the tensor or option at fault', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 1]) as tf.Tensor4D)).toThrow(ShapeError);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 1]) as tf.Tensor4D)).toThrow(/input channels/);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, tf.zeros([2]) as tf.Tensor1D)).toThrow(/bias/);
    expect(() => conv2d(x, tf.zeros([5, 5, 2, 1]) as tf.Tensor4D, undefined, { padding: 'valid' })).toThrow(/smaller than the kernel/);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, undefined, { strides: 0 })).toThrow(ConfigError);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, undefined, { padding: 'full' as never })).toThrow(/option padding/);
  });
});
