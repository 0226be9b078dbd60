import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { dense, Rng } from '@chainz/core';
import { activationDense } from './activation-dense';
import { inputGradientPenalty, randomProjectionJacobianPenalty, twiceDifferentiableSoftmaxCrossEntropy } from './baselines';
import { dregPenalty } from './penalty';
import { createRegularizer, REGULARIZER_KINDS, type Regularizer, type RegularizerSpec } from './regularizers';

function mat(rng: Rng, r: number, c: number, s = 1): number[][] {
  return Array.from({ length: r }, () => Array.from({ length: c }, () => Math.fround(rng.normal() * s)));
}

describe('createRegularizer: specs', () => {
  it('fills defaults and refuses unknown kinds, unknown options and bad values, naming the option', () => {
    expect(createRegularizer('none').spec).toEqual({ kind: 'none' });
    expect(createRegularizer('weight-decay').spec).toEqual({ kind: 'weight-decay', coefficient: 1e-4, decoupled: false });
    expect(createRegularizer({ kind: 'input-gradient' }).spec).toEqual({ kind: 'input-gradient', lambda: 1e-2 });
    expect(createRegularizer({ kind: 'jacobian-projection', seed: 4 }).spec).toEqual({ kind: 'jacobian-projection', lambda: 1e-2, projections: 1, seed: 4 });
    expect(createRegularizer('spectral-norm').spec).toEqual({ kind: 'spectral-norm', iterations: 1, seed: 0 });
    expect(createRegularizer({ kind: 'dreg', dreg: { lambda: 0.1 } }).spec).toMatchObject({ kind: 'dreg', dreg: { variant: 'frobenius', lambda: 0.1 } });
    expect(REGULARIZER_KINDS).toEqual(['none', 'weight-decay', 'input-gradient', 'spectral-norm', 'jacobian-projection', 'dreg']);
    expect(() => createRegularizer('l1' as RegularizerSpec['kind'])).toThrow(/option regularizer.*must be one of none, weight-decay, input-gradient, spectral-norm, jacobian-projection, dreg, got "l1"/s);
    expect(() => createRegularizer({ kind: 'weight-decay', coef: 1 } as unknown as RegularizerSpec)).toThrow(/option coef.*unknown option for regulariser 'weight-decay' \(valid: kind, coefficient, decoupled\)/s);
    expect(() => createRegularizer({ kind: 'weight-decay', coefficient: -1 })).toThrow(/option coefficient.*finite number ≥ 0, got -1/s);
    expect(() => createRegularizer({ kind: 'input-gradient', lambda: NaN })).toThrow(/option lambda/);
    expect(() => createRegularizer({ kind: 'jacobian-projection', projections: 0 })).toThrow(/option projections.*positive integer/s);
    expect(() => createRegularizer({ kind: 'spectral-norm', seed: 0.5 })).toThrow(/option seed.*integer/s);
    expect(() => createRegularizer({ kind: 'dreg', dreg: { variant: 'x' as never } })).toThrow(/option variant/);
  });

  it('says what each kind needs', () => {
    const needs = (s: RegularizerSpec) => Object.entries(createRegularizer(s).needs).filter(([, v]) => v).map(([k]) => k);
    expect(needs({ kind: 'none' })).toEqual([]);
    expect(needs({ kind: 'weight-decay' })).toEqual(['kernels']);
    expect(needs({ kind: 'weight-decay', decoupled: true })).toEqual(['afterStep']);
    expect(needs({ kind: 'input-gradient' })).toEqual(['perSampleLoss', 'secondOrder']);
    expect(needs({ kind: 'jacobian-projection' })).toEqual(['outputs', 'secondOrder']);
    expect(needs({ kind: 'spectral-norm' })).toEqual(['kernelHook']);
    expect(needs({ kind: 'dreg' })).toEqual(['traces']);
  });
});

describe('createRegularizer: penalties and hooks', () => {
  const rng = new Rng(5);
  const X = tf.tensor2d(mat(rng, 6, 3));
  const W1 = tf.tensor2d(mat(rng, 3, 5, 0.7));
  const W2 = tf.tensor2d(mat(rng, 5, 4, 0.7));
  const Y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32'), 4), 'float32') as tf.Tensor2D;
  const outputs = (x: tf.Tensor) => dense(activationDense(x as tf.Tensor2D, { kernel: W1 }, 'tanh').y, W2);
  const perSampleLoss = (x: tf.Tensor) => twiceDifferentiableSoftmaxCrossEntropy(Y, outputs(x));

  it('none is 0; weight decay (coupled) is c·Σ‖W‖²; the input-gradient and projection penalties are λ times the baselines; dreg is dregPenalty', () => {
    expect(createRegularizer('none').penalty({ step: 0 }).dataSync()[0]).toBe(0);
    const wd = createRegularizer({ kind: 'weight-decay', coefficient: 0.3 }).penalty({ step: 0, kernels: [W1, W2] }).dataSync()[0];
    const sq = tf.add(tf.sum(tf.square(W1)), tf.sum(tf.square(W2))).dataSync()[0];
    expect(wd).toBeCloseTo(0.3 * sq, 5);
    const ig = createRegularizer({ kind: 'input-gradient', lambda: 0.5 }).penalty({ step: 0, x: X, perSampleLoss }).dataSync()[0];
    expect(ig).toBeCloseTo(0.5 * inputGradientPenalty(perSampleLoss, X).dataSync()[0], 6);
    const jp = createRegularizer({ kind: 'jacobian-projection', lambda: 2, seed: 10 });
    const at3 = jp.penalty({ step: 3, x: X, outputs }).dataSync()[0];
    expect(at3).toBeCloseTo(2 * randomProjectionJacobianPenalty(outputs, X, { seed: 13 }).dataSync()[0], 5);
    expect(jp.penalty({ step: 4, x: X, outputs }).dataSync()[0]).not.toBeCloseTo(at3, 5); // new projections each step
    const { trace } = activationDense(X, { kernel: W1 }, 'gelu');
    const dr = createRegularizer({ kind: 'dreg', dreg: { lambda: 0.2 } }).penalty({ step: 0, traces: [trace] }).dataSync()[0];
    expect(dr).toBeCloseTo(dregPenalty([trace], { lambda: 0.2 }).dataSync()[0], 7);
  });

  it('refuses a context that lacks what the kind needs, naming it', () => {
    expect(() => createRegularizer('dreg').penalty({ step: 0, traces: [] })).toThrow(/option traces.*needs the layer traces of the forward pass \(build hidden layers with activationDense, polyDense or polyConv2d\)/s);
    expect(() => createRegularizer('dreg').penalty({ step: 0 })).toThrow(/the 'dreg' regulariser needs ctx.traces/);
    expect(() => createRegularizer('input-gradient').penalty({ step: 0, x: X })).toThrow(/needs ctx.perSampleLoss/);
    expect(() => createRegularizer('jacobian-projection').penalty({ step: 0, outputs })).toThrow(/needs ctx.x/);
    expect(() => createRegularizer('weight-decay').penalty({ step: 0 })).toThrow(/needs ctx.kernels/);
  });

  it('decoupled weight decay: no loss term; afterStep scales the kernels by 1 − η·c (AdamW)', () => {
    const reg = createRegularizer({ kind: 'weight-decay', coefficient: 0.1, decoupled: true });
    const k = tf.variable(tf.tensor2d([[1, -2], [3, 4]]));
    expect(reg.penalty({ step: 0 }).dataSync()[0]).toBe(0);
    reg.afterStep({ step: 0, kernels: [k], learningRate: 0.5 });
    expect(Array.from(k.dataSync())).toEqual([0.95, -1.9, 2.85, 3.8].map(Math.fround));
    k.dispose();
  });

  it('spectral norm: W/σ with σ → the top singular value over steps (float64 SVD), same σ within a step, evaluation leaves the state alone, no leaks', () => {
    const Wv = mat(new Rng(9), 4, 6);
    const W = tf.tensor2d(Wv);
    const top = new SingularValueDecomposition(new Matrix(Wv), { autoTranspose: true }).diagonal[0];
    const reg = createRegularizer({ kind: 'spectral-norm', seed: 1 });
    const sigma = (K: tf.Tensor2D) => {
      const r = tf.tidy(() => tf.div(tf.sum(tf.abs(W)), tf.sum(tf.abs(K))));
      const v = r.dataSync()[0];
      r.dispose();
      return v;
    };
    const K0 = reg.kernel(W, { layer: 0, step: 0, training: true });
    const s0 = sigma(K0);
    const K0b = reg.kernel(W, { layer: 0, step: 0, training: true });
    expect(sigma(K0b)).toBeCloseTo(s0, 5); // same step: same σ
    tf.dispose([K0, K0b]);
    tf.dispose(reg.kernel(W, { layer: 0, step: 1, training: true }));
    const before = tf.memory().numTensors; // state: u and the u it started from
    let s = 0;
    for (let t = 2; t <= 30; t++) {
      const K = reg.kernel(W, { layer: 0, step: t, training: true });
      s = sigma(K);
      K.dispose();
    }
    expect(tf.memory().numTensors).toBe(before); // state replaced, not accumulated
    expect(Math.abs(s - top) / top).toBeLessThan(1e-4);
    expect(s0).toBeLessThanOrEqual(top * (1 + 1e-6)); // power iteration approaches σ_max from below
    const e1 = sigma(reg.kernel(W, { layer: 0, step: 31, training: false }));
    const e2 = sigma(reg.kernel(W, { layer: 0, step: 32, training: false }));
    expect(e1).toBeCloseTo(e2, 6);
    expect(() => reg.kernel(tf.zeros([5, 2]) as tf.Tensor2D, { layer: 0, step: 40, training: true })).toThrow(/option layer.*layer 0 had a kernel with 4 rows, now 5/s);
    const g = tf.grad((w: tf.Tensor) => tf.sum(reg.kernel(w as tf.Tensor2D, { layer: 1, step: 0, training: true })) as tf.Scalar)(W);
    expect(g.shape).toEqual([4, 6]);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    reg.dispose();
  });
});

/** A 2-hidden-layer MLP trained a few steps with each regulariser: finite losses, no tensor growth. */
describe('one training loop for every regulariser', () => {
  for (const kind of REGULARIZER_KINDS) {
    it(`${kind}: Adam steps with the hooks; loss finite, tensors stable`, () => {
      const rng = new Rng(21);
      const reg: Regularizer = createRegularizer(kind === 'weight-decay' ? { kind, decoupled: true, coefficient: 0.01 } : kind);
      const X = tf.tensor2d(mat(rng, 16, 4));
      const Y = tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32'), 3), 'float32') as tf.Tensor2D;
      const w = [tf.variable(tf.tensor2d(mat(rng, 4, 8, 0.5))), tf.variable(tf.tensor2d(mat(rng, 8, 8, 0.4))), tf.variable(tf.tensor2d(mat(rng, 8, 3, 0.4)))];
      const b = [tf.variable(tf.zeros([8])), tf.variable(tf.zeros([8])), tf.variable(tf.zeros([3]))];
      const opt = tf.train.adam(0.01);
      const forward = (x: tf.Tensor2D, step: number) => {
        const k = w.map((v, l) => reg.kernel(v as tf.Tensor2D, { layer: l, step, training: true }));
        const l1 = activationDense(x, { kernel: k[0], bias: b[0] as tf.Tensor1D }, 'gelu');
        const l2 = activationDense(l1.y, { kernel: k[1], bias: b[1] as tf.Tensor1D }, 'tanh');
        return { logits: dense(l2.y, k[2], b[2] as tf.Tensor1D), traces: [l1.trace, l2.trace] };
      };
      let counts: number[] = [];
      let last = NaN;
      for (let step = 0; step < 4; step++) {
        const loss = opt.minimize(() => {
          const { logits, traces } = forward(X, step);
          const task = tf.mean(twiceDifferentiableSoftmaxCrossEntropy(Y, logits));
          const pen = reg.penalty({
            step,
            x: X,
            traces,
            kernels: w,
            perSampleLoss: (x) => twiceDifferentiableSoftmaxCrossEntropy(Y, forward(x as tf.Tensor2D, step).logits),
            outputs: (x) => forward(x as tf.Tensor2D, step).logits,
          });
          return tf.add(task, pen) as tf.Scalar;
        }, true)!;
        last = loss.dataSync()[0];
        loss.dispose();
        reg.afterStep({ step, kernels: w, learningRate: 0.01 });
        counts.push(tf.memory().numTensors);
      }
      expect(Number.isFinite(last)).toBe(true);
      counts = counts.slice(1);
      expect(new Set(counts).size).toBe(1);
      reg.dispose();
      opt.dispose();
      tf.dispose([...w, ...b, X, Y]);
    });
  }
});
