import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import { ConfigError, Rng } from '@chainz/core';
import {
  inputGradientPenalty,
  randomProjectionJacobianPenalty,
  spectralNorm,
  spectralNormalize,
  twiceDifferentiableSigmoidCrossEntropy,
  twiceDifferentiableSoftmaxCrossEntropy,
  weightDecay,
} from './baselines';

// ---- a one-hidden-layer MLP in float64 with its exact input gradient -------------------

type Act = 'relu' | 'softplus';
interface Mlp {
  W1: number[][];
  b1: number[];
  W2: number[][];
  b2: number[];
}
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const act = (a: Act, v: number) => (a === 'relu' ? Math.max(0, v) : Math.log1p(Math.exp(v)));
const dact = (a: Act, v: number) => (a === 'relu' ? (v > 0 ? 1 : 0) : sig(v));

function forward64(p: Mlp, a: Act, x: number[]): { z1: number[]; out: number[] } {
  const z1 = p.b1.map((b, j) => x.reduce((s, xi, i) => s + xi * p.W1[i][j], b));
  const h = z1.map((v) => act(a, v));
  const out = p.b2.map((b, k) => h.reduce((s, hj, j) => s + hj * p.W2[j][k], b));
  return { z1, out };
}

/** ∂ℓ/∂x for ℓ = softmax CE (loss 'ce') or mean squared error (loss 'mse'). */
function inputGrad64(p: Mlp, a: Act, loss: 'ce' | 'mse', x: number[], y: number[]): number[] {
  const { z1, out } = forward64(p, a, x);
  let dOut: number[];
  if (loss === 'ce') {
    const m = Math.max(...out);
    const e = out.map((o) => Math.exp(o - m));
    const s = e.reduce((q, v) => q + v, 0);
    dOut = e.map((v, k) => v / s - y[k]);
  } else dOut = out.map((o, k) => (2 * (o - y[k])) / out.length);
  const dz1 = z1.map((v, j) => dact(a, v) * dOut.reduce((s, d, k) => s + d * p.W2[j][k], 0));
  return x.map((_, i) => dz1.reduce((s, d, j) => s + d * p.W1[i][j], 0));
}

function igpen64(p: Mlp, a: Act, loss: 'ce' | 'mse', X: number[][], Y: number[][]): number {
  return X.reduce((s, x, b) => s + inputGrad64(p, a, loss, x, Y[b]).reduce((q, g) => q + g * g, 0), 0) / X.length;
}

function randomMlp(rng: Rng, dIn: number, dH: number, dOut: number): Mlp {
  const f = (s: number) => Math.fround(rng.normal() * s);
  return {
    W1: Array.from({ length: dIn }, () => Array.from({ length: dH }, () => f(0.8))),
    b1: Array.from({ length: dH }, () => f(0.3)),
    W2: Array.from({ length: dH }, () => Array.from({ length: dOut }, () => f(0.8))),
    b2: Array.from({ length: dOut }, () => f(0.3)),
  };
}

function tfMlp(a: Act) {
  return (x: tf.Tensor, W1: tf.Tensor, b1: tf.Tensor, W2: tf.Tensor, b2: tf.Tensor) => {
    const z1 = tf.add(tf.matMul(x as tf.Tensor2D, W1 as tf.Tensor2D), b1);
    const h = a === 'relu' ? tf.relu(z1) : tf.softplus(z1);
    return tf.add(tf.matMul(h as tf.Tensor2D, W2 as tf.Tensor2D), b2) as tf.Tensor2D;
  };
}

function fdGrad(get: () => number, set: (v: number) => void, fn: () => number, h = 1e-6): number {
  const v0 = get();
  set(v0 + h);
  const p = fn();
  set(v0 - h);
  const m = fn();
  set(v0);
  return (p - m) / (2 * h);
}

describe('inputGradientPenalty (double backpropagation)', () => {
  for (const [a, loss] of [
    ['relu', 'mse'],
    ['softplus', 'ce'],
    ['relu', 'ce'],
  ] as const) {
    it(`${a} MLP (tf.matMul) + ${loss}: value and ∂/∂W1, ∂/∂W2 match float64`, () => {
      const rng = new Rng(a.length * 3 + loss.length);
      const p = randomMlp(rng, 3, 6, 4);
      const X = Array.from({ length: 5 }, () => Array.from({ length: 3 }, () => Math.fround(rng.normal())));
      const Y = X.map((_, b) => Array.from({ length: 4 }, (_, k) => (k === b % 4 ? 1 : 0)));
      const net = tfMlp(a);
      const yt = tf.tensor2d(Y);
      const perSample = (W1: tf.Tensor, b1: tf.Tensor, W2: tf.Tensor, b2: tf.Tensor) => (x: tf.Tensor) => {
        const out = net(x, W1, b1, W2, b2);
        return loss === 'ce' ? twiceDifferentiableSoftmaxCrossEntropy(yt, out) : tf.mean(tf.square(tf.sub(out, yt)), 1);
      };
      const params = [tf.tensor2d(p.W1), tf.tensor1d(p.b1), tf.tensor2d(p.W2), tf.tensor1d(p.b2)];
      const value = inputGradientPenalty(perSample(...(params as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), tf.tensor2d(X)).dataSync()[0];
      const ref = igpen64(p, a, loss, X, Y);
      expect(Math.abs(value - ref) / ref).toBeLessThan(1e-4);
      const [gW1, , gW2] = tf.grads((W1: tf.Tensor, b1: tf.Tensor, W2: tf.Tensor, b2: tf.Tensor) => inputGradientPenalty(perSample(W1, b1, W2, b2), tf.tensor2d(X)))(params);
      const fn = () => igpen64(p, a, loss, X, Y);
      const fdW1 = p.W1.flatMap((row, i) => row.map((_, j) => fdGrad(() => p.W1[i][j], (v) => (p.W1[i][j] = v), fn)));
      const fdW2 = p.W2.flatMap((row, i) => row.map((_, j) => fdGrad(() => p.W2[i][j], (v) => (p.W2[i][j] = v), fn)));
      for (const [g, fd] of [
        [gW1.dataSync(), fdW1],
        [gW2.dataSync(), fdW2],
      ] as const) {
        const scale = Math.max(...fd.map(Math.abs));
        fd.forEach((f, i) => expect(Math.abs(g[i] - f)).toBeLessThan(1e-3 * scale));
      }
    });
  }

  it('twice-differentiable cross-entropies equal tfjs values; tfjs own softmax CE cannot be double-differentiated', () => {
    const logits = tf.tensor2d([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]]);
    const labels = tf.tensor2d([[0, 0, 1], [1, 0, 0]]);
    const ours = twiceDifferentiableSoftmaxCrossEntropy(labels, logits).dataSync();
    const theirs = tf.losses.softmaxCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.NONE).dataSync();
    ours.forEach((v, i) => expect(v).toBeCloseTo(theirs[i], 6));
    const bin = twiceDifferentiableSigmoidCrossEntropy(labels, logits).dataSync();
    const binRef = tf.mean(tf.losses.sigmoidCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.NONE), 1).dataSync();
    bin.forEach((v, i) => expect(v).toBeCloseTo(binRef[i], 6));
    const second = (f: (l: tf.Tensor) => tf.Tensor) => tf.grad((l: tf.Tensor) => tf.sum(tf.square(tf.grad((m: tf.Tensor) => tf.sum(f(m)))(l))))(logits);
    expect(() => second((l) => tf.losses.softmaxCrossEntropy(labels, l))).toThrow();
    // ours: d/dl ‖softmax(l) − y‖² against a float64 finite difference
    const g = second((l) => twiceDifferentiableSoftmaxCrossEntropy(labels, l as tf.Tensor2D)).arraySync() as number[][];
    const L = logits.arraySync() as number[][];
    const Yv = labels.arraySync() as number[][];
    const fn = () => L.reduce((s, row, b) => {
      const e = row.map(Math.exp);
      const z = e.reduce((q, v) => q + v, 0);
      return s + e.reduce((q, v, k) => q + (v / z - Yv[b][k]) ** 2, 0);
    }, 0);
    L.forEach((row, b) => row.forEach((_, k) => expect(g[b][k]).toBeCloseTo(fdGrad(() => L[b][k], (v) => (L[b][k] = v), fn), 4)));
  });
});

describe('randomProjectionJacobianPenalty (Hoffman, Roberts & Yaida 2019)', () => {
  it('is exact for one output (v = ±1) and differentiable w.r.t. the weights', () => {
    const rng = new Rng(9);
    const p = randomMlp(rng, 3, 5, 1);
    const X = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => Math.fround(rng.normal())));
    const net = tfMlp('softplus');
    const params = [tf.tensor2d(p.W1), tf.tensor1d(p.b1), tf.tensor2d(p.W2), tf.tensor1d(p.b2)];
    const f = (W1: tf.Tensor, b1: tf.Tensor, W2: tf.Tensor, b2: tf.Tensor) => (x: tf.Tensor) => net(x, W1, b1, W2, b2);
    // ‖J_i‖² for one output = ‖∂out/∂x‖²; in float64 via the mse input gradient of (out − y)²·… : use the chain directly
    const jac2 = () =>
      X.reduce((s, x) => {
        const { z1 } = forward64(p, 'softplus', x);
        const g = x.map((_, i) => z1.reduce((q, v, j) => q + sig(v) * p.W2[j][0] * p.W1[i][j], 0));
        return s + g.reduce((q, v) => q + v * v, 0);
      }, 0) / X.length;
    const est = randomProjectionJacobianPenalty(f(...(params as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), tf.tensor2d(X), { projections: 3, seed: 4 }).dataSync()[0];
    expect(Math.abs(est - jac2()) / jac2()).toBeLessThan(1e-4);
    // (b2 does not enter the Jacobian, so it is not among the differentiated inputs)
    const [gW1] = tf.grads((W1: tf.Tensor, b1: tf.Tensor, W2: tf.Tensor) => randomProjectionJacobianPenalty(f(W1, b1, W2, params[3]), tf.tensor2d(X)))(params.slice(0, 3));
    const fd = p.W1.flatMap((row, i) => row.map((_, j) => fdGrad(() => p.W1[i][j], (v) => (p.W1[i][j] = v), jac2)));
    const scale = Math.max(...fd.map(Math.abs));
    const g = gW1.dataSync();
    fd.forEach((v, i) => expect(Math.abs(g[i] - v)).toBeLessThan(1e-3 * scale));
  });

  it('is unbiased: the mean over many projections approaches ‖J‖_F² (linear map and relu MLP)', () => {
    const rng = new Rng(10);
    // linear map y = x·A, J = Aᵀ for every sample: ‖J‖² = ‖A‖_F²
    const A = Array.from({ length: 4 }, () => Array.from({ length: 6 }, () => rng.normal()));
    const At = tf.tensor2d(A);
    const x = tf.zeros([2000, 4]);
    const est = randomProjectionJacobianPenalty((xx) => tf.matMul(xx as tf.Tensor2D, At), x, { projections: 2, seed: 1 }).dataSync()[0];
    const exact = A.flat().reduce((s, v) => s + v * v, 0);
    expect(Math.abs(est / exact - 1)).toBeLessThan(0.05);
    // relu MLP, one sample repeated: batch mean over 2000 projections vs the exact Jacobian
    const p = randomMlp(rng, 3, 8, 5);
    const x0 = [0.3, -0.7, 1.1];
    const X = tf.tensor2d(Array.from({ length: 2000 }, () => x0));
    const net = tfMlp('relu');
    const e2 = randomProjectionJacobianPenalty((xx) => net(xx, tf.tensor2d(p.W1), tf.tensor1d(p.b1), tf.tensor2d(p.W2), tf.tensor1d(p.b2)), X, { seed: 2 }).dataSync()[0];
    const { z1 } = forward64(p, 'relu', x0);
    let jf = 0;
    for (let k = 0; k < 5; k++) for (let i = 0; i < 3; i++) jf += z1.reduce((q, v, j) => q + (v > 0 ? 1 : 0) * p.W2[j][k] * p.W1[i][j], 0) ** 2;
    expect(Math.abs(e2 / jf - 1)).toBeLessThan(0.1);
    expect(() => randomProjectionJacobianPenalty((xx) => xx, x, { projections: 0 })).toThrow(ConfigError);
  });
});

describe('spectralNorm (power iteration)', () => {
  it('σ and ∂σ/∂W = u·vᵀ match a float64 SVD', () => {
    const rng = new Rng(12);
    const Wv = Array.from({ length: 7 }, () => Array.from({ length: 5 }, () => Math.fround(rng.normal())));
    const svd = new SingularValueDecomposition(new Matrix(Wv));
    const s0 = svd.diagonal[0];
    const W = tf.tensor2d(Wv);
    const r = spectralNorm(W, { iterations: 100, seed: 3 });
    expect(Math.abs(r.sigma.dataSync()[0] - s0) / s0).toBeLessThan(1e-5);
    const g = tf.grad((w: tf.Tensor) => spectralNorm(w as tf.Tensor2D, { iterations: 100, seed: 3 }).sigma)(W).arraySync() as number[][];
    const U = svd.leftSingularVectors;
    const V = svd.rightSingularVectors;
    g.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(U.get(i, 0) * V.get(j, 0), 4)));
  });

  it('one iteration per step with a persistent u converges; spectralNormalize gives σ(W/σ) ≈ 1', () => {
    const rng = new Rng(13);
    const Wv = Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => Math.fround(rng.normal())));
    const s0 = new SingularValueDecomposition(new Matrix(Wv)).diagonal[0];
    const W = tf.tensor2d(Wv);
    let u: tf.Tensor1D | undefined;
    let sigma = 0;
    for (let t = 0; t < 60; t++) {
      const r = spectralNorm(W, { u, seed: 1 });
      sigma = r.sigma.dataSync()[0];
      u = r.u;
    }
    expect(Math.abs(sigma - s0) / s0).toBeLessThan(1e-3);
    const n = spectralNormalize(W, { iterations: 100 });
    expect(spectralNorm(n.kernel, { iterations: 100 }).sigma.dataSync()[0]).toBeCloseTo(1, 4);
    expect(() => spectralNorm(W, { iterations: 0 })).toThrow(/option iterations/);
    expect(() => spectralNorm(W, { u: tf.zeros([3]) as tf.Tensor1D })).toThrow(/tensor u/);
  });
});

describe('weightDecay', () => {
  it('is c·Σ w² with gradient 2c·W', () => {
    const a = tf.tensor2d([[1, -2], [3, 0.5]]);
    const b = tf.tensor1d([0.1, -0.4]);
    expect(weightDecay([a, b], 0.01).dataSync()[0]).toBeCloseTo(0.01 * (1 + 4 + 9 + 0.25 + 0.01 + 0.16), 7);
    const g = tf.grad((w: tf.Tensor) => weightDecay(w, 0.5))(a).dataSync();
    expect(Array.from(g)).toEqual([1, -2, 3, 0.5]);
    expect(weightDecay([], 1).dataSync()[0]).toBe(0);
    expect(() => weightDecay(a, -1)).toThrow(/option coefficient/);
  });
});

describe('double backpropagation through the polynomial layer', () => {
  // imported lazily here to keep the reference MLP tests above independent of poly-layer
  it('is exact (vs float64) for every guard: the layer uses only twice-differentiable ops', async () => {
    const { polyDense, resolvePolyConfig } = await import('@chainz/poly-layer');
    const { refDenseJacobianFD } = await import('@chainz/poly-layer/testing');
    const rng = new Rng(31);
    for (const guard of ['tanh', 'none', 'clip', 'layernorm'] as const) {
      const cfg = resolvePolyConfig({ guard, degree: 3, scale: 2 });
      const f = (s: number) => Math.fround(rng.normal() * s);
      const kernel = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => f(0.6)));
      const bias = Array.from({ length: 4 }, () => f(0.2));
      const coeffs = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => f(0.5)));
      const c = Array.from({ length: 4 }, () => f(1));
      const X = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => f(1)));
      // ℓ_i = Σ_j c_j·y_ij, so ∂ℓ_i/∂x_i = Jᵀc
      const pen64 = () =>
        X.reduce((s, x) => {
          const J = refDenseJacobianFD(x, { kernel, bias, coeffs }, cfg);
          return s + x.reduce((q, _, m) => q + J.reduce((r, row, j) => r + c[j] * row[m], 0) ** 2, 0);
        }, 0) / X.length;
      const ct = tf.tensor1d(c);
      const pen = (k: tf.Tensor, a: tf.Tensor) =>
        inputGradientPenalty((x) => tf.sum(tf.mul(polyDense(x as tf.Tensor2D, { kernel: k as tf.Tensor2D, bias: tf.tensor1d(bias), coeffs: a as tf.Tensor2D }, cfg, { check: false }).y, ct), 1), tf.tensor2d(X));
      const value = pen(tf.tensor2d(kernel), tf.tensor2d(coeffs)).dataSync()[0];
      expect(Math.abs(value - pen64()) / pen64()).toBeLessThan(1e-4);
      const [gk, ga] = tf.grads(pen)([tf.tensor2d(kernel), tf.tensor2d(coeffs)]);
      const fdk = kernel.flatMap((row, i) => row.map((_, j) => fdGrad(() => kernel[i][j], (v) => (kernel[i][j] = v), pen64, 1e-4)));
      const fda = coeffs.flatMap((row, i) => row.map((_, j) => fdGrad(() => coeffs[i][j], (v) => (coeffs[i][j] = v), pen64, 1e-4)));
      for (const [g, fd] of [
        [gk.dataSync(), fdk],
        [ga.dataSync(), fda],
      ] as const) {
        const scale = Math.max(...fd.map(Math.abs));
        fd.forEach((v, i) => expect(Math.abs(g[i] - v)).toBeLessThan(2e-3 * scale));
      }
    }
  });
});
