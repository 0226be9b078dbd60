import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError } from '@chainz/core';
import { PolyDense, polyDense, resolvePolyConfig, type PolyBasis, type PolyGuard } from '@chainz/poly-layer';
import { frobenius2, refDenseJacobianFD } from '@chainz/poly-layer/testing';
import { perSampleJacobianFrobenius } from './jacobian';
import { attachDreg } from './attach';
import { explicitJacobian, randomLayer, toTensors } from './__fixtures__/layers64';

const GUARDS: PolyGuard[] = ['tanh', 'clip', 'none', 'layernorm'];
const BASES: PolyBasis[] = ['monomial', 'chebyshev', 'legendre'];

describe('perSampleJacobianFrobenius (exact ‖J_l‖_F²)', () => {
  let caseNo = 0;
  for (const guard of GUARDS) {
    for (const basis of BASES) {
      caseNo++;
      const seed = caseNo;
      it(`${guard} / ${basis}: equals the float64 finite-difference Jacobian to rel < 1e-4 on random shapes`, () => {
        const rng = new Rng(seed * 101);
        for (let trial = 0; trial < 3; trial++) {
          const B = 1 + rng.int(5);
          const dIn = 1 + rng.int(7);
          const dOut = 2 + rng.int(7);
          const degree = 1 + rng.int(5);
          const cfg = resolvePolyConfig({ guard, basis, degree, scale: 0.5 + 2 * rng.next(), sharing: rng.next() < 0.5 ? 'channel' : 'layer' });
          const layer = randomLayer(rng, B, dIn, dOut, cfg, 1.5);
          const t = toTensors(layer);
          const { trace } = polyDense(t.x, { kernel: t.kernel, bias: t.bias, coeffs: t.coeffs }, cfg, { check: false });
          const ours = perSampleJacobianFrobenius(trace);
          expect(ours.shape).toEqual([B]);
          const v = ours.dataSync();
          layer.x.forEach((xb, b) => {
            const fd = frobenius2(refDenseJacobianFD(xb, layer.params, cfg));
            const ex = frobenius2(explicitJacobian(xb, layer.params, cfg));
            expect(Math.abs(ex - fd) / Math.max(fd, 1e-12)).toBeLessThan(1e-6); // the two float64 references agree
            expect(Math.abs(v[b] - fd) / Math.max(fd, 1e-12)).toBeLessThan(1e-4);
          });
          tf.dispose([t.x, t.kernel, t.bias, t.coeffs, trace.z, trace.dy, ours]);
        }
      });
    }
  }

  for (const guard of GUARDS) {
    it(`${guard}: equals the tfjs autodiff Jacobian (tf.grad of each output)`, () => {
      const rng = new Rng(guard.length * 7);
      const cfg = resolvePolyConfig({ guard, basis: 'chebyshev', degree: 4 });
      const B = 4;
      const dIn = 5;
      const dOut = 6;
      const t = toTensors(randomLayer(rng, B, dIn, dOut, cfg));
      const { trace } = polyDense(t.x, { kernel: t.kernel, bias: t.bias, coeffs: t.coeffs }, cfg, { check: false });
      const ours = perSampleJacobianFrobenius(trace).dataSync();
      const auto = new Float64Array(B);
      for (let j = 0; j < dOut; j++) {
        // samples are independent, so ∂(Σ_b y[b, j])/∂x[b, :] is row j of J_b
        const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(polyDense(x as tf.Tensor2D, { kernel: t.kernel, bias: t.bias, coeffs: t.coeffs }, cfg, { check: false }).y, [0, j], [B, 1])))(t.x);
        const gv = g.arraySync() as number[][];
        gv.forEach((row, b) => (auto[b] += row.reduce((s, v) => s + v * v, 0)));
        g.dispose();
      }
      for (let b = 0; b < B; b++) expect(Math.abs(ours[b] - auto[b]) / auto[b]).toBeLessThan(1e-4);
    });
  }

  it('layernorm with d_in = 1 (J nearly vanishes by scale invariance): as accurate as tfjs autodiff', () => {
    // z = x·w + b with |b| ≪ |x·w|: u hardly depends on x, ‖J‖ is ~1% of ‖s·W̃‖ and any
    // float32 evaluation (ours or autodiff) loses ~4 digits; ours must not lose more.
    const rng = new Rng(77);
    const cfg = resolvePolyConfig({ guard: 'layernorm', degree: 3 });
    let worstOurs = 0;
    let worstAuto = 0;
    for (let trial = 0; trial < 4; trial++) {
      const layer = randomLayer(rng, 6, 1, 7, cfg, 5);
      layer.params.bias = layer.params.bias.map((b) => Math.fround(b * 0.05));
      const t = toTensors(layer);
      const params = { kernel: t.kernel, bias: t.bias, coeffs: t.coeffs };
      const { trace } = polyDense(t.x, params, cfg);
      const v = perSampleJacobianFrobenius(trace).dataSync();
      const auto = new Float64Array(6);
      for (let j = 0; j < 7; j++) {
        const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(polyDense(x as tf.Tensor2D, params, cfg).y, [0, j], [6, 1])))(t.x);
        (g.arraySync() as number[][]).forEach((row, b) => (auto[b] += row[0] * row[0]));
      }
      layer.x.forEach((xb, b) => {
        const fd = frobenius2(refDenseJacobianFD(xb, layer.params, cfg));
        worstOurs = Math.max(worstOurs, Math.abs(v[b] - fd) / fd);
        worstAuto = Math.max(worstAuto, Math.abs(auto[b] - fd) / fd);
      });
    }
    expect(worstOurs).toBeLessThan(2 * worstAuto + 1e-5);
    expect(worstOurs).toBeLessThan(5e-3);
  });

  it('rejects unknown trace kinds and inconsistent layernorm traces', () => {
    const cfg = resolvePolyConfig({ guard: 'layernorm' });
    const t = toTensors(randomLayer(new Rng(1), 2, 3, 4, cfg));
    const { trace } = polyDense(t.x, { kernel: t.kernel, bias: t.bias, coeffs: t.coeffs }, cfg);
    expect(() => perSampleJacobianFrobenius({ ...trace, kind: 'conv3d' } as never)).toThrow(ConfigError);
    expect(() => perSampleJacobianFrobenius({ ...trace, kind: 'conv2d' } as never)).toThrow(ShapeError); // a dense trace mislabelled
    expect(() => perSampleJacobianFrobenius({ ...trace, layernorm: undefined })).toThrow(ShapeError);
    expect(() => perSampleJacobianFrobenius({ ...trace, kernel: tf.zeros([3, 5]) as tf.Tensor2D })).toThrow(ShapeError);
  });
});

describe('layernorm guard where all pre-activations of a row are equal (u = 0)', () => {
  const cfg = resolvePolyConfig({ guard: 'layernorm', degree: 3 });

  it('the gradient of the penalty is finite and exact (an all-zero input row at initialisation)', () => {
    const rng = new Rng(3);
    const kernel = tf.tensor2d(Array.from({ length: 4 * 5 }, () => Math.fround(rng.normal() * 0.5)), [4, 5]);
    const bias = tf.zeros([5]) as tf.Tensor1D;
    const coeffs = tf.tensor2d(Array.from({ length: 5 * 4 }, () => Math.fround(rng.normal() * 0.7)), [5, 4]);
    const x = tf.zeros([1, 4]) as tf.Tensor2D; // z = b = 0 for every unit
    const penalty = (k: tf.Tensor, b: tf.Tensor, a: tf.Tensor) =>
      tf.sum(perSampleJacobianFrobenius(polyDense(x, { kernel: k as tf.Tensor2D, bias: b as tf.Tensor1D, coeffs: a as tf.Tensor2D }, cfg).trace));
    const [gK, gB, gA] = tf.grads(penalty)([kernel, bias, coeffs]);
    // Reference: the defining formula with plain ops and no division by ‖q‖ (finite at u = 0),
    // ‖J‖_F² = s²·Σ_j σ'(u_j)²·‖W̃_j − (u_j/n)·W·u‖², u = (z − mean z)·s, s = 1/sqrt(var z + ε), z = b.
    const reference = (k: tf.Tensor, b: tf.Tensor, a: tf.Tensor) => {
      const c = tf.sub(b, tf.mean(b));
      const sInv = tf.rsqrt(tf.add(tf.mean(tf.square(c)), 1e-5));
      const u = tf.mul(c, sInv); // [5]
      const [a1, a2, a3] = [1, 2, 3].map((col) => tf.reshape(tf.slice(a, [0, col], [5, 1]), [5]));
      const dy = tf.add(a1, tf.add(tf.mul(tf.mul(a2, 2), u), tf.mul(tf.mul(a3, 3), tf.square(u))));
      const q = tf.reshape(tf.matMul(k, tf.reshape(u, [5, 1])), [4, 1]);
      const Wc = tf.sub(k, tf.mean(k, 1, true));
      const terms = tf.sum(tf.square(tf.sub(Wc, tf.mul(q, tf.reshape(tf.div(u, 5), [1, 5])))), 0);
      return tf.mul(tf.square(sInv), tf.sum(tf.mul(tf.square(dy), terms)));
    };
    const [rK, rB, rA] = tf.grads(reference)([kernel, bias, coeffs]);
    for (const g of [gK, gB, gA]) expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1);
    const rel = (a: tf.Tensor, b: tf.Tensor) => tf.div(tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b))).dataSync()[0];
    expect(rel(gK, rK)).toBeLessThan(1e-5);
    expect(rel(gB, rB)).toBeLessThan(1e-5);
    expect(rel(gA, rA)).toBeLessThan(1e-5);
  });

  it('PolyDense({ units: 1, guard: layernorm }) + attachDreg: one fit step leaves every weight finite', async () => {
    const m = tfl.sequential();
    m.add(new PolyDense({ units: 1, inputShape: [3], seed: 1, guard: 'layernorm', name: 'one' }));
    m.add(new PolyDense({ units: 4, seed: 2, guard: 'layernorm', name: 'four' }));
    m.add(tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
    m.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    attachDreg(m, { lambda: 0.1 });
    const x = tf.tensor2d([[0, 0, 0], [1, -2, 0.5], [0.3, 0.1, -1], [0, 0, 0]]);
    const y = tf.tensor2d([[0], [1], [0], [1]]);
    const h = await m.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    expect((h.history.loss as number[]).every(Number.isFinite)).toBe(true);
    m.getWeights().forEach((w, i) => expect(tf.all(tf.isFinite(w)).dataSync()[0], `weight ${i}`).toBe(1));
  });
});
