import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError } from '@chainz/core';
import { polyDense, resolvePolyConfig, type PolyBasis, type PolyGuard } from '@chainz/poly-layer';
import { frobenius2, refDenseJacobianFD } from '@chainz/poly-layer/testing';
import { perSampleJacobianFrobenius } from './jacobian';
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
