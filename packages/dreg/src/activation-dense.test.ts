import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { activationDense } from './activation-dense';
import { STANDARD_ACTIVATIONS, type StandardActivation } from './activations';
import { dregPenalty } from './penalty';
import { perSampleJacobianFrobenius } from './jacobian';
import { ref64 } from './__fixtures__/activations64';

/** tfjs's own ops for each activation (the reference the autodiff Jacobian is taken of). */
function builtin(a: StandardActivation, z: tf.Tensor): tf.Tensor {
  switch (a) {
    case 'relu':
      return tf.relu(z);
    case 'gelu':
      return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
    case 'tanh':
      return tf.tanh(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'softplus':
      return tf.softplus(z);
    case 'silu':
      return tf.mul(z, tf.sigmoid(z));
  }
}

function randomLayer(seed: number, B: number, dIn: number, n: number) {
  const rng = new Rng(seed);
  const f = (s: number) => Math.fround(rng.normal() * s);
  return {
    X: Array.from({ length: B }, () => Array.from({ length: dIn }, () => f(1))),
    W: Array.from({ length: dIn }, () => Array.from({ length: n }, () => f(0.8))),
    b: Array.from({ length: n }, () => f(0.4)),
  };
}

/** Per-sample ‖J‖_F² of x ↦ σ(xW + b) with tfjs autodiff of its own ops (one gradient per output unit). */
function autodiffFrobenius(a: StandardActivation, X: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D): Float32Array {
  const n = W.shape[1];
  const B = X.shape[0];
  const out = new Float32Array(B);
  for (let j = 0; j < n; j++) {
    // samples do not interact: row i of ∂(Σ_i y_ij)/∂X is row j of sample i's Jacobian
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(builtin(a, tf.add(tf.matMul(x as tf.Tensor2D, W), b)), [0, j], [B, 1])) as tf.Scalar)(X);
    const sq = tf.sum(tf.square(g), 1).dataSync();
    for (let i = 0; i < B; i++) out[i] += sq[i];
  }
  return out;
}

describe('activationDense: the DREG trace of a standard dense layer', () => {
  for (const a of STANDARD_ACTIVATIONS) {
    it(`${a}: y and σ′ match tfjs's op and its gradient; per-sample ‖J‖_F² matches the autodiff Jacobian (incl. z = 0)`, () => {
      const L = randomLayer(a.length * 13 + 1, 5, 3, 4);
      L.X[0] = [0, 0, 0]; // with b_0 = 0: z_00 = 0 exactly (relu's kink; σ′(0) = 0 as tfjs)
      L.b[0] = 0;
      const X = tf.tensor2d(L.X);
      const W = tf.tensor2d(L.W);
      const b = tf.tensor1d(L.b);
      const before = tf.memory().numTensors;
      const probe = activationDense(X, { kernel: W, bias: b }, a, { secondDerivative: true });
      tf.dispose([probe.y, probe.trace.z, probe.trace.dy, probe.trace.d2y!]);
      expect(tf.memory().numTensors).toBe(before); // no tensor left behind
      const { y, trace } = activationDense(X, { kernel: W, bias: b }, a, { secondDerivative: true });
      const z = tf.add(tf.matMul(X, W), b);
      expect(trace.kind).toBe('dense');
      expect(trace.guard).toBe('none');
      const yRef = builtin(a, z).dataSync();
      y.dataSync().forEach((v, i) => expect(Math.abs(v - yRef[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(yRef[i]))));
      const dyRef = tf.grad((t: tf.Tensor) => tf.sum(builtin(a, t)) as tf.Scalar)(z).dataSync();
      const dy = trace.dy.dataSync();
      dy.forEach((v, i) => expect(Math.abs(v - dyRef[i])).toBeLessThan(2e-6));
      expect(dy[0]).toBe(a === 'relu' ? 0 : dy[0]);
      // σ″ against float64
      const zs = z.dataSync();
      trace.d2y!.dataSync().forEach((v, i) => expect(Math.abs(v - ref64(a, zs[i])[2])).toBeLessThan(2e-6));
      const ours = perSampleJacobianFrobenius(trace).dataSync();
      const ref = autodiffFrobenius(a, X, W, b);
      ours.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-5 * Math.max(1, ref[i])));
    });

    it(`${a}: ∂R/∂W and ∂R/∂b of DREG (frobenius + curvature) match float64 finite differences (through σ″ and σ‴)`, () => {
      const L = randomLayer(a.length * 7 + 5, 6, 3, 4);
      const B = L.X.length;
      const n = L.b.length;
      const mu = 0.5;
      // R = (1/(B·n))·Σ_b Σ_j [σ′(z_bj)²·‖W_j‖² + μ·σ″(z_bj)²]
      const R64 = () => {
        let s = 0;
        for (const x of L.X) {
          for (let j = 0; j < n; j++) {
            const zj = x.reduce((q, xi, i) => q + xi * L.W[i][j], L.b[j]);
            const [, d1, d2] = ref64(a, zj);
            const wn = L.W.reduce((q, row) => q + row[j] * row[j], 0);
            s += d1 * d1 * wn + mu * d2 * d2;
          }
        }
        return s / (B * n);
      };
      const X = tf.tensor2d(L.X);
      const pen = (W: tf.Tensor, b: tf.Tensor) => {
        const { trace } = activationDense(X, { kernel: W as tf.Tensor2D, bias: b as tf.Tensor1D }, a, { secondDerivative: true });
        return dregPenalty([trace], { lambda: 1, curvature: mu });
      };
      const W = tf.tensor2d(L.W);
      const b = tf.tensor1d(L.b);
      expect(Math.abs(pen(W, b).dataSync()[0] - R64()) / R64()).toBeLessThan(1e-5);
      const before = tf.memory().numTensors;
      const [gW, gb] = tf.grads(pen)([W, b]);
      const fd = (get: () => number, set: (v: number) => void) => {
        const h = 1e-6;
        const v0 = get();
        set(v0 + h);
        const p = R64();
        set(v0 - h);
        const m = R64();
        set(v0);
        return (p - m) / (2 * h);
      };
      const fdW = L.W.flatMap((row, i) => row.map((_, j) => fd(() => L.W[i][j], (v) => (L.W[i][j] = v))));
      const fdb = L.b.map((_, j) => fd(() => L.b[j], (v) => (L.b[j] = v)));
      for (const [g, ref] of [
        [gW.dataSync(), fdW],
        [gb.dataSync(), fdb],
      ] as const) {
        const scale = Math.max(...ref.map(Math.abs), 1e-3);
        ref.forEach((v, i) => expect(Math.abs(g[i] - v)).toBeLessThan(2e-4 * scale + 1e-6));
      }
      tf.dispose([gW, gb]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('two layers: dregPenalty sums the layer terms; the forward variant chains them; unknown activation is a ConfigError', () => {
    const L = randomLayer(3, 4, 3, 5);
    const X = tf.tensor2d(L.X);
    const W2 = tf.tensor2d(randomLayer(4, 5, 5, 2).W);
    const l1 = activationDense(X, { kernel: tf.tensor2d(L.W), bias: tf.tensor1d(L.b) }, 'gelu');
    const l2 = activationDense(l1.y, { kernel: W2 }, 'tanh');
    const both = dregPenalty([l1.trace, l2.trace], { lambda: 1 }).dataSync()[0];
    const one = dregPenalty([l1.trace], { lambda: 1 }).dataSync()[0] + dregPenalty([l2.trace], { lambda: 1 }).dataSync()[0];
    expect(Math.abs(both - one)).toBeLessThan(1e-6 * one);
    expect(Number.isFinite(dregPenalty([l1.trace, l2.trace], { lambda: 1, variant: 'forward' }).dataSync()[0])).toBe(true);
    expect(() => activationDense(X, { kernel: W2 }, 'elu' as StandardActivation)).toThrow(/option activation.*must be one of relu, gelu, tanh, sigmoid, softplus, silu, got "elu"/s);
  });
});
