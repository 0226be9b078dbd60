import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dense } from './dense';
import { Rng } from '../rng';
import { ShapeError } from '../errors';

function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => rng.normal()), shape);
}

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]) / (1e-6 + Math.abs(y[i])));
  return m;
}

describe('dense (explicit-transpose customGrad)', () => {
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [5, 3, 4],
    [7, 16, 2],
    [32, 9, 11],
  ];

  for (const [B, din, dout] of shapes) {
    it(`value and gradients match tf.matMul autodiff for [${B},${din}]·[${din},${dout}]`, () => {
      const rng = new Rng(B * 100 + din * 10 + dout);
      const x = randn(rng, [B, din]) as tf.Tensor2D;
      const w = randn(rng, [din, dout]) as tf.Tensor2D;
      const b = randn(rng, [dout]) as tf.Tensor1D;
      const c = randn(rng, [B, dout]); // random cotangent so that every gradient entry matters
      const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), c));
      const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb), c));
      expect(maxRelDiff(dense(x, w, b), tf.add(tf.matMul(x, w), b))).toBeLessThan(1e-5);
      const g1 = tf.grads(ours)([x, w, b]);
      const g2 = tf.grads(ref)([x, w, b]);
      for (let i = 0; i < 3; i++) {
        expect(g1[i].shape).toEqual(g2[i].shape);
        expect(maxRelDiff(g1[i], g2[i])).toBeLessThan(1e-4);
      }
      // without bias
      const h1 = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D), c)))([x, w]);
      const h2 = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), c)))([x, w]);
      expect(maxRelDiff(h1[0], h2[0])).toBeLessThan(1e-4);
      expect(maxRelDiff(h1[1], h2[1])).toBeLessThan(1e-4);
      tf.dispose([x, w, b, c, ...g1, ...g2, ...h1, ...h2]);
    });
  }

  it('backward pass never runs a transposed MatMul', () => {
    const rng = new Rng(3);
    const x = randn(rng, [4, 3]) as tf.Tensor2D;
    const w = randn(rng, [3, 5]) as tf.Tensor2D;
    const b = randn(rng, [5]) as tf.Tensor1D;
    const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: unknown, attrs?: Record<string, unknown>) => unknown };
    const original = engine.runKernel;
    const seen: Array<Record<string, unknown>> = [];
    engine.runKernel = function (this: unknown, name: string, inputs: unknown, attrs?: Record<string, unknown>) {
      if (name === 'BatchMatMul') seen.push({ ...(attrs ?? {}) });
      return original.call(this, name, inputs, attrs);
    };
    try {
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)))([x, w, b]);
      tf.dispose(g);
      // a sanity check that the spy sees tfjs's own transposed gradient matmuls
      const h = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D)))([x, w]);
      tf.dispose(h);
    } finally {
      engine.runKernel = original;
    }
    // ours: 1 forward + 2 backward, all plain; then tfjs's: 1 forward + 2 transposed
    expect(seen.length).toBe(6);
    expect(seen.slice(0, 3).every((a) => !a.transposeA && !a.transposeB)).toBe(true);
    expect(seen.slice(3).some((a) => a.transposeA || a.transposeB)).toBe(true);
    tf.dispose([x, w, b]);
  });

  it('throws ShapeError naming the tensor at fault', () => {
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    const w = tf.zeros([4, 5]) as tf.Tensor2D;
    expect(() => dense(x, w)).toThrow(ShapeError);
    expect(() => dense(x, w)).toThrow(/tensor kernel/);
    const w2 = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(() => dense(x, w2, tf.zeros([4]) as tf.Tensor1D)).toThrow(/tensor bias/);
    expect(() => dense(tf.zeros([3]) as unknown as tf.Tensor2D, w2)).toThrow(/tensor x/);
    tf.dispose([x, w, w2]);
  });

  it('leaks no tensors through a gradient step', () => {
    const rng = new Rng(9);
    const x = randn(rng, [8, 4]) as tf.Tensor2D;
    const w = tf.variable(randn(rng, [4, 3])) as tf.Variable<tf.Rank.R2>;
    const b = tf.variable(tf.zeros([3])) as tf.Variable<tf.Rank.R1>;
    const opt = tf.train.sgd(0.1);
    const step = () => opt.minimize(() => tf.mean(tf.square(dense(x, w, b))), false, [w, b]);
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, b]);
    opt.dispose();
  });
});
