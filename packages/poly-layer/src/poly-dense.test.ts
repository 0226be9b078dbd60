import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { polyDense } from './poly-dense';
import { resolvePolyConfig, type PolyGuard } from './config';
import { disposeTraces } from './trace';
import { refPolyDenseSample } from './testing';

describe('polyDense', () => {
  for (const guard of ['tanh', 'clip', 'none', 'layernorm'] as PolyGuard[]) {
    it(`${guard}: y and the trace match the float64 reference`, () => {
      const rng = new Rng(guard.length);
      const cfg = resolvePolyConfig({ guard, basis: 'chebyshev', degree: 3 });
      const B = 4;
      const dIn = 3;
      const dOut = 5;
      const f = () => Math.fround(rng.normal());
      const x = Array.from({ length: B }, () => Array.from({ length: dIn }, f));
      const kernel = Array.from({ length: dIn }, () => Array.from({ length: dOut }, f));
      const bias = Array.from({ length: dOut }, f);
      const coeffs = Array.from({ length: dOut }, () => Array.from({ length: 4 }, () => Math.fround(rng.normal() * 0.5)));
      const { y, trace } = polyDense(
        tf.tensor2d(x),
        { kernel: tf.tensor2d(kernel), bias: tf.tensor1d(bias), coeffs: tf.tensor2d(coeffs) },
        cfg,
        { name: 'd1', secondDerivative: true },
      );
      expect(trace.kind).toBe('dense');
      expect(trace.name).toBe('d1');
      expect(trace.guard).toBe(guard);
      expect(trace.z.shape).toEqual([B, dOut]);
      expect(trace.dy.shape).toEqual([B, dOut]);
      expect(trace.d2y!.shape).toEqual([B, dOut]);
      expect(trace.kernel.shape).toEqual([dIn, dOut]);
      if (guard === 'layernorm') expect(trace.layernorm!.invStd.shape).toEqual([B, 1]);
      else expect(trace.layernorm).toBeUndefined();
      const [yv, zv, dyv] = [y, trace.z, trace.dy].map((t) => t.arraySync() as number[][]);
      x.forEach((xb, b) => {
        const ref = refPolyDenseSample(xb, { kernel, bias, coeffs }, cfg);
        for (let j = 0; j < dOut; j++) {
          expect(yv[b][j]).toBeCloseTo(ref.y[j], 4);
          expect(zv[b][j]).toBeCloseTo(ref.z[j], 5);
          expect(dyv[b][j]).toBeCloseTo(ref.dy[j], 4);
        }
      });
      disposeTraces(trace);
      expect(trace.z.isDisposed && trace.dy.isDisposed).toBe(true);
      expect(trace.kernel.isDisposed).toBe(false);
    });
  }

  it('works without a bias and disposes z when the activation rejects its input', () => {
    const cfg = resolvePolyConfig();
    const x = tf.ones([2, 3]) as tf.Tensor2D;
    const kernel = tf.ones([3, 2]) as tf.Tensor2D;
    const { y } = polyDense(x, { kernel, coeffs: tf.zeros([2, 4]) as tf.Tensor2D }, cfg);
    expect(y.shape).toEqual([2, 2]);
    const before = tf.memory().numTensors;
    expect(() => polyDense(x, { kernel, coeffs: tf.zeros([3, 4]) as tf.Tensor2D }, cfg)).toThrow(/coeffs/);
    expect(tf.memory().numTensors).toBe(before + 1); // only the coeffs tensor made in the call above
  });
});
