import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Rng, ShapeError } from '@chainz/core';
import { inputGradientNorms, parameterGradientNorms, type ProbedForward } from './gradient-norms';

const rng = new Rng(11);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());

/** Max relative difference, with an absolute floor for tiny values. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6));
  return m;
}

// A 5 → 7 → 4 → 3 tanh MLP with per-sample softmax cross-entropy.
const N = 23;
const D = 5;
const WIDTHS = [7, 4, 3];
const X = tf.tensor2d(randn(N * D, 1.5), [N, D]);
const Y = Int32Array.from({ length: N }, () => rng.int(3));
const params = [
  tf.variable(tf.tensor2d(randn(D * 7, 0.6), [D, 7])),
  tf.variable(tf.tensor1d(randn(7, 0.1))),
  tf.variable(tf.tensor2d(randn(7 * 4, 0.6), [7, 4])),
  tf.variable(tf.tensor1d(randn(4, 0.1))),
  tf.variable(tf.tensor2d(randn(4 * 3, 0.6), [4, 3])),
  tf.variable(tf.tensor1d(randn(3, 0.1))),
];

function crossEntropy(logits: tf.Tensor2D, y: Int32Array): tf.Tensor1D {
  const onehot = tf.oneHot(tf.tensor1d(y, 'int32'), logits.shape[1]);
  return tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, onehot), 1)) as tf.Tensor1D;
}

function mlp(x: tf.Tensor2D, probes: tf.Tensor2D[] | null, y: Int32Array, bias = true) {
  const inputs: tf.Tensor2D[] = [];
  let a = x;
  for (let l = 0; l < 3; l++) {
    inputs.push(a);
    let z = tf.matMul(a, params[2 * l]) as tf.Tensor2D;
    if (bias) z = tf.add(z, params[2 * l + 1]);
    if (probes) z = tf.add(z, probes[l]);
    a = l < 2 ? tf.tanh(z) : z;
  }
  return { perSampleLoss: crossEntropy(a, y), layerInputs: inputs };
}

/** Reference: one tf.grads call per sample over the real parameters. */
function perSampleLoopNorms(bias: boolean): Float64Array {
  const used = bias ? params : [params[0], params[2], params[4]];
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const sq = tf.tidy(() => {
      const xi = tf.slice(X, [i, 0], [1, D]);
      const { grads } = tf.variableGrads(() => tf.sum(mlp(xi, null, Y.subarray(i, i + 1), bias).perSampleLoss) as tf.Scalar, used);
      return tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))));
    });
    out[i] = Math.sqrt(sq.dataSync()[0]);
    sq.dispose();
  }
  return out;
}

describe('inputGradientNorms', () => {
  it('equals ‖w‖ for a linear loss and ‖x_i‖ for ½‖x_i‖² (float64 references)', () => {
    const w = tf.tensor2d([[3], [0], [-4], [0], [0]]);
    const lin = inputGradientNorms((x) => tf.reshape(tf.matMul(x, w), [-1]) as tf.Tensor1D, X);
    for (const v of lin) expect(v).toBeCloseTo(5, 5);
    const quad = inputGradientNorms((x) => tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D, X, { batchSize: 4 });
    const xs = X.dataSync();
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += xs[i * D + j] ** 2;
      expect(quad[i]).toBeCloseTo(Math.sqrt(s), 5);
    }
    w.dispose();
  });

  it('matches an explicit per-sample loop with tf.grad, for any batch size', () => {
    // Batches are sliced in row order: track the offset to pick their labels.
    let offset = 0;
    const loss = (x: tf.Tensor2D) => {
      const y = Y.subarray(offset, offset + x.shape[0]);
      offset += x.shape[0];
      return mlp(x, null, y).perSampleLoss;
    };
    const before = tf.memory().numTensors;
    const batched = inputGradientNorms(loss, X, { batchSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(offset).toBe(N);
    offset = 0;
    const whole = inputGradientNorms(loss, X, { batchSize: 1000 });
    const ref = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const g = tf.tidy(() =>
        tf.grad((xi: tf.Tensor) => tf.sum(mlp(xi as tf.Tensor2D, null, Y.subarray(i, i + 1)).perSampleLoss))(tf.slice(X, [i, 0], [1, D])),
      );
      ref[i] = Math.hypot(...g.dataSync());
      g.dispose();
    }
    expect(maxRelDiff(batched, ref)).toBeLessThan(1e-5);
    expect(maxRelDiff(whole, ref)).toBeLessThan(1e-5);
  });

  it('takes the norm over all non-batch axes of image-shaped input', () => {
    const x4 = tf.tensor4d(randn(3 * 2 * 2 * 2), [3, 2, 2, 2]);
    const norms = inputGradientNorms((x) => tf.mul(0.5, tf.sum(tf.square(x), [1, 2, 3])) as tf.Tensor1D, x4);
    const xs = x4.dataSync();
    for (let i = 0; i < 3; i++) expect(norms[i]).toBeCloseTo(Math.hypot(...xs.subarray(i * 8, i * 8 + 8)), 5);
    x4.dispose();
  });

  it('rejects a loss of the wrong shape, a bad batch size and non-float input', () => {
    const before = tf.memory().numTensors;
    expect(() => inputGradientNorms((x) => tf.sum(x) as unknown as tf.Tensor1D, X)).toThrow(ShapeError);
    expect(() => inputGradientNorms((x) => tf.sum(x) as unknown as tf.Tensor1D, X)).toThrow(/tensor perSampleLoss: .*shape \[23\]/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => inputGradientNorms((x) => tf.sum(x, 1) as tf.Tensor1D, X, { batchSize: 0 })).toThrow(ConfigError);
    const xi = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    expect(() => inputGradientNorms((x) => tf.sum(x, 1) as tf.Tensor1D, xi)).toThrow(/must be float32/);
    xi.dispose();
  });
});

describe('parameterGradientNorms', () => {
  for (const bias of [true, false]) {
    it(`matches an explicit per-sample loop with tf.grads (bias ${bias})`, () => {
      const forward: ProbedForward = (x, probes) => {
        // Labels of the rows in this batch: rows are sliced in order, so track the offset.
        const y = Y.subarray(offset, offset + x.shape[0]);
        offset += x.shape[0];
        return mlp(x, probes, y, bias);
      };
      let offset = 0;
      const before = tf.memory().numTensors;
      const fast = parameterGradientNorms(forward, X, WIDTHS, { batchSize: 6, bias });
      expect(tf.memory().numTensors).toBe(before);
      expect(offset).toBe(N);
      const ref = perSampleLoopNorms(bias);
      expect(maxRelDiff(fast, ref)).toBeLessThan(1e-5);
      // Batch size does not change the result.
      offset = 0;
      expect(maxRelDiff(parameterGradientNorms(forward, X, WIDTHS, { batchSize: 100, bias }), ref)).toBeLessThan(1e-5);
    });
  }

  it('counts a single linear layer as ‖x_i‖²‖δ_i‖² + ‖δ_i‖² (hand case)', () => {
    // ℓ_i = Σ_j z_ij with z = x W + b + probe  ⇒  δ_i = 1 (width 2), ‖δ_i‖² = 2.
    const W = tf.ones([2, 2]);
    const x = tf.tensor2d([[3, 4], [0, 0]]);
    const norms = parameterGradientNorms((xb, [p]) => ({ perSampleLoss: tf.sum(tf.add(tf.matMul(xb, W), p), 1) as tf.Tensor1D, layerInputs: [xb] }), x, [2]);
    expect(norms[0]).toBeCloseTo(Math.sqrt(25 * 2 + 2), 5);
    expect(norms[1]).toBeCloseTo(Math.sqrt(2), 5);
    tf.dispose([W, x]);
  });

  it('reports an unused probe, wrong layerInputs and bad options without leaking', () => {
    const W = tf.ones([D, 2]);
    const unused: ProbedForward = (x) => ({ perSampleLoss: tf.sum(tf.matMul(x, W), 1) as tf.Tensor1D, layerInputs: [x] });
    // (This error path leaks tfjs's own saved tape tensors: not counted.)
    expect(() => parameterGradientNorms(unused, X, [2])).toThrow(/option forward: the loss does not depend on every probe/);
    const before = tf.memory().numTensors;
    const scalarLoss: ProbedForward = (x, [p]) => ({ perSampleLoss: tf.sum(tf.add(tf.matMul(x, W), p)) as unknown as tf.Tensor1D, layerInputs: [x] });
    expect(() => parameterGradientNorms(scalarLoss, X, [2])).toThrow(/tensor perSampleLoss: .*got \[\]/);
    const missing: ProbedForward = (x, [p]) => ({ perSampleLoss: tf.sum(tf.add(tf.matMul(x, W), p), 1) as tf.Tensor1D, layerInputs: [] });
    expect(() => parameterGradientNorms(missing, X, [2])).toThrow(/returned 0 layerInputs for 1 layers/);
    expect(() => parameterGradientNorms(missing, X, [])).toThrow(ConfigError);
    expect(() => parameterGradientNorms(missing, X, [2, 3], { bias: [true] })).toThrow(/option bias/);
    expect(() => parameterGradientNorms(missing, X, [2.5])).toThrow(/positive integers/);
    expect(tf.memory().numTensors).toBe(before);
    W.dispose();
  });
});

describe('inputGradientNorms batching with labels', () => {
  it('passes each batch its start row so per-row labels line up', () => {
    const X = tf.tensor2d([[1], [2], [3], [4], [5]]);
    const w = tf.tensor1d([1, 10, 100, 1000, 10000]);
    // ℓ_i = w_i · x_i²  ⇒ ‖∂ℓ_i/∂x_i‖ = 2·w_i·x_i, only right if the batch's weights match its rows.
    const loss = (xb: tf.Tensor2D, start: number) => tf.mul(tf.slice(w, start, xb.shape[0]), tf.sum(tf.square(xb), 1)) as tf.Tensor1D;
    const norms = inputGradientNorms(loss, X, { batchSize: 2 });
    expect(Array.from(norms)).toEqual([2, 40, 600, 8000, 100000]);
    tf.dispose([X, w]);
  });
});
