import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { polyDense, resolvePolyConfig } from '@chainz/poly-layer';
import { refActivation } from '@chainz/poly-layer/testing';
import { activate, STANDARD_ACTIVATIONS, type StandardActivation } from './activations';
import { inputGradientPenalty, randomProjectionJacobianPenalty } from './baselines';
import { TWICE_DIFFERENTIABLE_KERNELS, withTwiceDifferentiableGradients } from './double-backprop';
import { ref64 } from './__fixtures__/activations64';

/** tfjs's own ops for each activation. */
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

const second = (f: (x: tf.Tensor) => tf.Tensor) => tf.grad(tf.grad((x: tf.Tensor) => tf.sum(f(x)) as tf.Scalar));

describe('second derivatives through tfjs ops that reuse their output', () => {
  const xs = [-2.5, -0.7, 0.3, 1.9];
  const cases: Array<[string, (x: tf.Tensor) => tf.Tensor, (x: number) => number]> = [
    ['tanh', tf.tanh, (x) => -2 * Math.tanh(x) / Math.cosh(x) ** 2],
    ['sigmoid', tf.sigmoid, (x) => ref64('sigmoid', x)[2]],
    ['exp', tf.exp, Math.exp],
    ['elu', tf.elu, (x) => (x > 0 ? 0 : Math.exp(x))],
  ];
  for (const [name, op, d2] of cases) {
    it(`d²/dx²[${name}(x) + x²] = ${name}''(x) + 2 inside withTwiceDifferentiableGradients (tfjs alone drops the ${name}'' term)`, () => {
      const f = (x: tf.Tensor) => tf.add(op(x), tf.square(x));
      const x = tf.tensor1d(xs);
      const plain = second(f)(x).dataSync();
      const fixed = withTwiceDifferentiableGradients(() => second(f)(x)).dataSync();
      xs.forEach((v, i) => {
        expect(Math.abs(fixed[i] - (d2(v) + 2))).toBeLessThan(1e-5);
        expect(plain[i]).toBeCloseTo(2, 6); // what tfjs 4.22 returns by itself: the op's curvature is lost
      });
    });
  }

  it('softmax (kernel and written with exp): Hessian–vector products match finite differences of the first-order gradient', () => {
    const c = tf.tensor2d([[0.3, -1.1, 0.8, 0.5]]);
    const x0 = [0.2, -0.4, 1.1, -0.9];
    const v = [0.5, -0.2, 0.3, 0.7];
    const byExp = (t: tf.Tensor) => {
      const e = tf.exp(t);
      return tf.div(e, tf.sum(e, -1, true));
    };
    for (const op of [(t: tf.Tensor) => tf.softmax(t), byExp]) {
      const f = (t: tf.Tensor) => tf.add(tf.sum(tf.mul(op(t), c)), tf.mul(tf.sum(tf.square(t)), 0.1)) as tf.Scalar;
      const g = tf.grad(f);
      const hvp = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(g(t), tf.tensor2d([v]))) as tf.Scalar)(tf.tensor2d([x0])).dataSync();
      const h = 1e-2;
      const gp = g(tf.tensor2d([x0.map((xi, i) => xi + h * v[i])])).dataSync();
      const gm = g(tf.tensor2d([x0.map((xi, i) => xi - h * v[i])])).dataSync();
      const fd = Array.from(gp, (p, i) => (p - gm[i]) / (2 * h));
      const fixed = withTwiceDifferentiableGradients(hvp);
      fixed.forEach((val, i) => expect(Math.abs(val - fd[i])).toBeLessThan(1e-4));
      const plain = hvp(); // tfjs alone: off by more than 1e-2 in some entry (silently)
      expect(Math.max(...Array.from(plain, (val, i) => Math.abs(val - fd[i])))).toBeGreaterThan(1e-2);
    }
  });

  it('known limit: tf.logSoftmax (a customGrad reusing its output inside tfjs) stays wrong to second order', () => {
    const f = (t: tf.Tensor) => tf.add(tf.sum(tf.mul(tf.logSoftmax(t), tf.tensor1d([0.3, -1.1, 0.8]))), tf.sum(tf.square(t))) as tf.Scalar;
    const hvp = withTwiceDifferentiableGradients(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(t), tf.tensor1d([1, 0, 0]))) as tf.Scalar)(tf.tensor1d([0.2, -0.4, 1.1]))).dataSync();
    expect(hvp[0]).toBeCloseTo(2, 6); // the log-softmax curvature is missing: only the x² term's 2 is left
  });

  it('tf.losses.sigmoidCrossEntropy and log(1 + exp(x)) by hand become exact too (both go through Exp)', () => {
    const x0 = 0.7;
    const s = 1 / (1 + Math.exp(-x0));
    for (const f of [
      (x: tf.Tensor) => tf.add(tf.losses.sigmoidCrossEntropy(tf.scalar(1), x), tf.square(x)),
      (x: tf.Tensor) => tf.add(tf.log(tf.add(1, tf.exp(x))), tf.square(x)),
    ]) {
      const d2 = () => second(f)(tf.scalar(x0)).dataSync()[0];
      expect(Math.abs(withTwiceDifferentiableGradients(d2) - (s * (1 - s) + 2))).toBeLessThan(1e-5);
      expect(Math.abs(d2() - (s * (1 - s) + 2))).toBeGreaterThan(0.3); // tfjs alone
    }
  });

  it('the penalties refuse tf.losses.softmaxCrossEntropy and tf.logSoftmax (customGrads that reuse their output: silently wrong otherwise)', () => {
    const y = tf.tensor2d([[0, 1, 0], [1, 0, 0]]);
    const x = tf.tensor2d([[0.1, 0.5, -0.3], [0.2, -0.1, 0.4]]);
    expect(() => inputGradientPenalty((t) => tf.losses.softmaxCrossEntropy(y, t, undefined, undefined, tf.Reduction.NONE), x)).toThrow(
      /option loss.*inputGradientPenalty: tf.losses.softmaxCrossEntropy cannot be differentiated twice in tfjs 4.22.*use twiceDifferentiableSoftmaxCrossEntropy/s,
    );
    expect(() => randomProjectionJacobianPenalty((t) => tf.logSoftmax(t) as tf.Tensor2D, x)).toThrow(/randomProjectionJacobianPenalty: tf.logSoftmax cannot be differentiated twice/);
  });

  it("restores tfjs's own gradients afterwards, also when the function throws, and nests", () => {
    const before = TWICE_DIFFERENTIABLE_KERNELS.map((k) => tf.getGradient(k));
    withTwiceDifferentiableGradients(() => {
      expect(tf.getGradient('Tanh')).not.toBe(before[0]);
      withTwiceDifferentiableGradients(() => 1);
      expect(tf.getGradient('Tanh')).not.toBe(before[0]); // still inside the outer call
    });
    expect(() =>
      withTwiceDifferentiableGradients(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    TWICE_DIFFERENTIABLE_KERNELS.forEach((k, i) => expect(tf.getGradient(k)).toBe(before[i]));
  });
});

describe('activate(): σ″ by double backpropagation is exact anywhere', () => {
  for (const a of STANDARD_ACTIVATIONS) {
    it(`${a}: d²/dx²[σ(x) + x²] = σ″(x) + 2 without any scope`, () => {
      const xs = [-2.1, -0.6, 0.4, 1.7, 3.2];
      const d = second((x) => tf.add(activate(x, a), tf.square(x)))(tf.tensor1d(xs)).dataSync();
      xs.forEach((v, i) => expect(Math.abs(d[i] - (ref64(a, v)[2] + 2))).toBeLessThan(1e-5));
    });
  }
});

/**
 * ℓ_i = Σ_j c_j·σ(z_ij) + ½‖x_i‖², z = xW + b, so ∂ℓ_i/∂x_i = W·(c ∘ σ′(z_i)) + x_i: x reaches
 * the input gradient by two paths (through σ′ and directly), the case where tfjs is silently wrong.
 */
describe('inputGradientPenalty: ∂/∂W and ∂/∂b match float64 finite differences for every activation', () => {
  type Act = StandardActivation | 'poly';
  const acts: Act[] = [...STANDARD_ACTIVATIONS, 'poly'];
  const cfg = resolvePolyConfig({});
  for (const a of acts) {
    for (const impl of a === 'poly' ? (['polyDense'] as const) : (['tfjs ops', 'activate'] as const)) {
      it(`${a} (${impl})`, () => {
        const rng = new Rng(a.length * 31 + impl.length);
        const f = (s: number) => Math.fround(rng.normal() * s);
        const dIn = 3;
        const n = 4;
        const X = Array.from({ length: 5 }, () => Array.from({ length: dIn }, () => f(1)));
        const W = Array.from({ length: dIn }, () => Array.from({ length: n }, () => f(0.7)));
        const b = Array.from({ length: n }, () => f(0.3));
        const c = Array.from({ length: n }, () => f(1));
        const coeffs = Array.from({ length: n }, () => Array.from({ length: cfg.degree + 1 }, () => f(0.5)));
        const d1 = (j: number, z: number) => (a === 'poly' ? refActivation(cfg, coeffs[j], z)[1] : ref64(a, z)[1]);
        const pen64 = () =>
          X.reduce((s, x) => {
            const t = Array.from({ length: n }, (_, j) => c[j] * d1(j, x.reduce((q, xi, i) => q + xi * W[i][j], b[j])));
            return s + x.reduce((q, xi, i) => q + (W[i].reduce((r, w, j) => r + w * t[j], 0) + xi) ** 2, 0);
          }, 0) / X.length;
        const ct = tf.tensor1d(c);
        const xt = tf.tensor2d(X);
        const pen = (Wt: tf.Tensor, bt: tf.Tensor) =>
          inputGradientPenalty((x) => {
            let y: tf.Tensor;
            if (a === 'poly') y = polyDense(x as tf.Tensor2D, { kernel: Wt as tf.Tensor2D, bias: bt as tf.Tensor1D, coeffs: tf.tensor2d(coeffs) }, cfg, { check: false }).y;
            else {
              const z = tf.add(tf.matMul(x as tf.Tensor2D, Wt as tf.Tensor2D), bt);
              y = impl === 'activate' ? activate(z, a) : builtin(a, z);
            }
            return tf.add(tf.sum(tf.mul(y, ct), 1), tf.mul(tf.sum(tf.square(x), 1), 0.5));
          }, xt);
        const Wt = tf.tensor2d(W);
        const bt = tf.tensor1d(b);
        expect(Math.abs(pen(Wt, bt).dataSync()[0] - pen64()) / pen64()).toBeLessThan(1e-5);
        const [gW, gb] = tf.grads(pen)([Wt, bt]);
        const fd = (get: () => number, set: (v: number) => void) => {
          const h = 1e-6;
          const v0 = get();
          set(v0 + h);
          const p = pen64();
          set(v0 - h);
          const m = pen64();
          set(v0);
          return (p - m) / (2 * h);
        };
        const fdW = W.flatMap((row, i) => row.map((_, j) => fd(() => W[i][j], (v) => (W[i][j] = v))));
        const fdb = b.map((_, j) => fd(() => b[j], (v) => (b[j] = v)));
        for (const [g, ref] of [
          [gW.dataSync(), fdW],
          [gb.dataSync(), fdb],
        ] as const) {
          const scale = Math.max(...ref.map(Math.abs));
          ref.forEach((v, i) => expect(Math.abs(g[i] - v)).toBeLessThan(1e-3 * scale + 1e-6));
        }
      });
    }
  }

  it('randomProjectionJacobianPenalty through tf.tanh: ∂/∂W matches float64 for C = 1 (exact there)', () => {
    // f(x) = tanh(x·w) + x·u (one output): ‖J‖² = ‖w·sech²(x·w) + u‖², exact with one projection (v = ±1)
    const X = [[0.4, -1.2], [1.5, 0.3], [-0.8, 0.9]];
    const w = [0.7, -0.5];
    const u = [0.3, 0.2];
    const pen64 = () => X.reduce((s, x) => {
      const zz = x[0] * w[0] + x[1] * w[1];
      const s2 = 1 / Math.cosh(zz) ** 2;
      return s + (w[0] * s2 + u[0]) ** 2 + (w[1] * s2 + u[1]) ** 2;
    }, 0) / X.length;
    const ut = tf.tensor2d([[u[0]], [u[1]]]);
    const pen = (wt: tf.Tensor) => randomProjectionJacobianPenalty((x) => tf.add(tf.tanh(tf.matMul(x as tf.Tensor2D, wt as tf.Tensor2D)), tf.matMul(x as tf.Tensor2D, ut)) as tf.Tensor2D, tf.tensor2d(X), { seed: 3 });
    const g = tf.grad(pen)(tf.tensor2d([[w[0]], [w[1]]])).dataSync();
    const h = 1e-6;
    [0, 1].forEach((i) => {
      const w0 = w[i];
      w[i] = w0 + h;
      const p = pen64();
      w[i] = w0 - h;
      const m = pen64();
      w[i] = w0;
      expect(Math.abs(g[i] - (p - m) / (2 * h))).toBeLessThan(1e-4);
    });
  });
});
