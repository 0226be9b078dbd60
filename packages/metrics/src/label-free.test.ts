import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NumericError, Rng, ShapeError } from '@chainz/core';
import { labelFreeGradientNorms, labelFreeSignals, maxSoftmaxConfidence } from './label-free';

// A 4 → 6 → 3 tanh MLP (no biases): z = tanh(x W1) W2.
const rng = new Rng(5);
const N = 17;
const D = 4;
const H = 6;
const K = 3;
const xs = Float64Array.from({ length: N * D }, () => 1.5 * rng.normal());
const w1 = Float64Array.from({ length: D * H }, () => 0.8 * rng.normal());
const w2 = Float64Array.from({ length: H * K }, () => 1.2 * rng.normal());
const X = tf.tensor2d(Float32Array.from(xs), [N, D]);
const W1 = tf.tensor2d(Float32Array.from(w1), [D, H]);
const W2 = tf.tensor2d(Float32Array.from(w2), [H, K]);
const model = (x: tf.Tensor2D) => tf.matMul(tf.tanh(tf.matMul(x, W1)), W2) as tf.Tensor2D;

/** float64 reference: logits, softmax, and ∂s/∂x = W1 diag(1 − h²) W2 v for a direction v over the logits. */
function reference(i: number) {
  const x = xs.subarray(i * D, (i + 1) * D);
  const h = Array.from({ length: H }, (_, j) => Math.tanh(x.reduce((s, xd, d) => s + xd * w1[d * H + j], 0)));
  const z = Array.from({ length: K }, (_, k) => h.reduce((s, hj, j) => s + hj * w2[j * K + k], 0));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
  const order = z.map((_, k) => k).sort((a, b) => z[b] - z[a]);
  const gradNorm = (v: number[]) => {
    const dh = h.map((hj, j) => (1 - hj * hj) * v.reduce((s, vk, k) => s + vk * w2[j * K + k], 0));
    return Math.hypot(...Array.from({ length: D }, (_, d) => dh.reduce((s, g, j) => s + g * w1[d * H + j], 0)));
  };
  const yhat = order[0];
  const onehot = (k: number) => z.map((_, c) => (c === k ? 1 : 0));
  return {
    yhat,
    confidence: p[yhat],
    ce: gradNorm(p.map((pk, k) => pk - onehot(yhat)[k])), // ∂(logsumexp(z) − z_ŷ)/∂z = p − e_ŷ
    margin: gradNorm(onehot(yhat).map((v, k) => v - onehot(order[1])[k])), // ∂(z_ŷ − z_ŷ₂)/∂z = e_ŷ − e_ŷ₂
  };
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6));
  return m;
}

describe('labelFreeSignals', () => {
  const ref = Array.from({ length: N }, (_, i) => reference(i));

  it('predicted-ce: ‖∂(−log softmax(z)_ŷ)/∂x‖ with ŷ = argmax, against a float64 analytic gradient', () => {
    const before = tf.memory().numTensors;
    const s = labelFreeSignals(model, X, { batchSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(s.predicted)).toEqual(ref.map((r) => r.yhat));
    expect(maxRelDiff(s.confidence, ref.map((r) => r.confidence))).toBeLessThan(1e-5);
    expect(maxRelDiff(s.gradNorms, ref.map((r) => r.ce))).toBeLessThan(1e-4);
  });

  it('logit-margin: ‖∂(z_ŷ − max_{k≠ŷ} z_k)/∂x‖ against a float64 analytic gradient', () => {
    const before = tf.memory().numTensors;
    const g = labelFreeGradientNorms(model, X, { target: 'logit-margin' });
    expect(tf.memory().numTensors).toBe(before);
    expect(maxRelDiff(g, ref.map((r) => r.margin))).toBeLessThan(1e-4);
  });

  it('does not depend on the batch size', () => {
    const a = labelFreeSignals(model, X, { batchSize: 1 });
    const b = labelFreeSignals(model, X, { batchSize: 256 });
    expect(maxRelDiff(a.gradNorms, b.gradNorms)).toBeLessThan(1e-6);
    expect(a.predicted).toEqual(b.predicted);
  });

  it('maxSoftmaxConfidence equals the signals’ confidence and needs no gradient', () => {
    const before = tf.memory().numTensors;
    const c = maxSoftmaxConfidence(model, X, { batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(c)).toEqual(Array.from(labelFreeSignals(model, X).confidence));
  });

  it('takes image-shaped inputs (the norm is over all non-batch axes)', () => {
    const img = tf.reshape(X, [N, 2, 2, 1]) as tf.Tensor4D;
    const g = labelFreeGradientNorms((x: tf.Tensor4D) => model(tf.reshape(x, [x.shape[0], D]) as tf.Tensor2D), img);
    expect(maxRelDiff(g, ref.map((r) => r.ce))).toBeLessThan(1e-4);
    img.dispose();
  });

  it('names the option, tensor or row at fault, and leaks nothing on error', () => {
    const before = tf.memory().numTensors;
    expect(() => labelFreeSignals(model, X, { target: 'entropy' as 'predicted-ce' })).toThrow(/option target: target must be one of predicted-ce, logit-margin, got 'entropy'/);
    expect(() => labelFreeSignals(model, X, { batchSize: 0 })).toThrow(ConfigError);
    const oneLogit = (x: tf.Tensor2D) => tf.slice(model(x), [0, 0], [x.shape[0], 1]) as tf.Tensor2D;
    const e = (() => {
      try {
        labelFreeSignals(oneLogit, X);
      } catch (err) {
        return err as ShapeError;
      }
    })()!;
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/tensor logits: logits must have shape \[17, K\] with K >= 2, got \[17, 1\]/);
    expect(e.hint).toMatch(/\[0, z\]/);
    const xi = tf.cast(X, 'int32') as unknown as tf.Tensor2D;
    expect(() => labelFreeSignals(model, xi)).toThrow(/x must be float32/);
    xi.dispose();
    const nan = (x: tf.Tensor2D) => tf.mul(model(x), tf.scalar(Number.NaN)) as tf.Tensor2D;
    expect(() => labelFreeSignals(nan, X)).toThrow(NumericError);
    expect(() => maxSoftmaxConfidence(nan, X)).toThrow(/logits of row 0 are not finite/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
