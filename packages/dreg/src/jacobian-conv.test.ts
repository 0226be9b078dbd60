import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError } from '@chainz/core';
import {
  PolyConv2D,
  PolyDense,
  polyConv2d,
  polyDense,
  resolvePolyConfig,
  type Conv2dLayerTrace,
  type LayerTrace,
  type PolyBasis,
  type PolyGuard,
} from '@chainz/poly-layer';
import { frobenius2, refConvJacobianFD, refPolyConv2dSample } from '@chainz/poly-layer/testing';
import { perSampleJacobianFrobenius } from './jacobian';
import { dregLayerPenalty, dregPenalty, perSampleLayerPenalty } from './penalty';
import { attachDreg } from './attach';
import type { DregVariant } from './options';
import { convTensors, explicitConvJacobian, randomConvLayer, type RandomConvLayer } from './__fixtures__/conv64';

const GUARDS: PolyGuard[] = ['tanh', 'clip', 'none', 'layernorm'];
const BASES: PolyBasis[] = ['monomial', 'chebyshev', 'legendre'];

function trace(l: RandomConvLayer, second = false): { trace: Conv2dLayerTrace; vars: ReturnType<typeof convTensors> } {
  const vars = convTensors(l);
  const { trace } = polyConv2d(vars.x, vars, l.cfg, { strides: l.geom.strides, padding: l.geom.padding, secondDerivative: second, check: false });
  return { trace, vars };
}

/** A random small conv layer: shapes, strides 1–2, SAME/VALID, kernel 1–4 per axis. */
function randomCase(rng: Rng, guard: PolyGuard, basis: PolyBasis): RandomConvLayer {
  const kh = 1 + rng.int(4);
  const kw = 1 + rng.int(4);
  const H = kh + rng.int(4);
  const W = kw + rng.int(4);
  const strides: [number, number] = [1 + rng.int(2), 1 + rng.int(2)];
  const padding = rng.next() < 0.5 ? 'same' : 'valid';
  const cfg = resolvePolyConfig({ guard, basis, degree: 1 + rng.int(4), scale: 0.5 + 2 * rng.next(), sharing: rng.next() < 0.5 ? 'channel' : 'layer' });
  // layernorm over C = 2 channels makes u ≈ ±1 and J nearly vanish: float32 (ours and
  // autodiff alike) loses ~4 digits there, tested separately below; here C ≥ 3.
  const cOut = guard === 'layernorm' ? 3 + rng.int(2) : 2 + rng.int(3);
  return randomConvLayer(rng, 1 + rng.int(3), [H, W], 1 + rng.int(3), cOut, [kh, kw], { strides, padding }, cfg, 1.5);
}

describe('conv2d DREG: exact per-sample ‖J_l‖_F²', () => {
  let worst = 0;
  let caseNo = 0;
  for (const guard of GUARDS) {
    for (const basis of BASES) {
      const seed = ++caseNo;
      it(`${guard} / ${basis}: equals the float64 finite-difference Jacobian to rel < 1e-4 (random shapes, strides 1–2, same/valid)`, () => {
        const rng = new Rng(seed * 997);
        for (let trial = 0; trial < 4; trial++) {
          const l = randomCase(rng, guard, basis);
          const { trace: tr, vars } = trace(l);
          const ours = perSampleJacobianFrobenius(tr);
          expect(ours.shape).toEqual([l.x.length]);
          const v = ours.dataSync();
          l.x.forEach((xb, b) => {
            const fd = frobenius2(refConvJacobianFD(xb, l.inputHW, l.params, l.cfg, l.geom));
            const ex = frobenius2(explicitConvJacobian(xb, l));
            expect(Math.abs(ex - fd) / Math.max(fd, 1e-12)).toBeLessThan(1e-6); // the two float64 references agree
            const rel = Math.abs(v[b] - fd) / Math.max(fd, 1e-12);
            worst = Math.max(worst, rel);
            expect(rel).toBeLessThan(1e-4);
          });
          tf.dispose([vars.x, vars.kernel, vars.bias, vars.coeffs, tr.z, tr.dy, ours, ...(tr.layernorm ? [tr.layernorm.u, tr.layernorm.invStd] : [])]);
        }
      });
    }
  }
  it('(worst relative error over the random cases above is reported)', () => {
    console.info(`conv ‖J‖_F² vs float64 FD: worst relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });

  it('layernorm over C = 2 channels (J nearly vanishes): as accurate as tfjs autodiff', () => {
    const rng = new Rng(1212);
    let worstOurs = 0;
    let worstAuto = 0;
    for (let trial = 0; trial < 4; trial++) {
      const cfg = resolvePolyConfig({ guard: 'layernorm', degree: 2 + rng.int(3) });
      const l = randomConvLayer(rng, 2, [4, 5], 1 + rng.int(3), 2, [3, 2], { strides: [1 + rng.int(2), 2], padding: 'same' }, cfg, 1.5);
      const v = convTensors(l);
      const opts = { strides: l.geom.strides, padding: l.geom.padding, check: false };
      const ours = tf.tidy(() => Array.from(perSampleJacobianFrobenius(polyConv2d(v.x, v, cfg, opts).trace).dataSync()));
      l.x.forEach((xb, b) => {
        const fd = frobenius2(refConvJacobianFD(xb, l.inputHW, l.params, l.cfg, l.geom));
        const g = tf.tidy(() => {
          const [, Ho, Wo, C] = polyConv2d(v.x, v, cfg, opts).y.shape;
          let s = 0;
          for (let i = 0; i < Ho * Wo * C; i++) {
            const p = Math.floor(i / C);
            const gr = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(polyConv2d(x as tf.Tensor4D, v, cfg, opts).y, [b, Math.floor(p / Wo), p % Wo, i % C], [1, 1, 1, 1])))(v.x);
            for (const q of gr.dataSync()) s += q * q;
          }
          return s;
        });
        worstOurs = Math.max(worstOurs, Math.abs(ours[b] - fd) / fd);
        worstAuto = Math.max(worstAuto, Math.abs(g - fd) / fd);
      });
      tf.dispose(v);
    }
    console.info(`layernorm, C = 2: worst relative error ours ${worstOurs.toExponential(2)}, tfjs autodiff ${worstAuto.toExponential(2)}`);
    expect(worstOurs).toBeLessThan(Math.max(1e-4, 10 * worstAuto));
    expect(worstOurs).toBeLessThan(2e-3);
  });

  const geoms: Array<{ strides: [number, number]; padding: 'same' | 'valid'; hw: [number, number] }> = [
    { strides: [2, 2], padding: 'same', hw: [5, 4] },
    { strides: [1, 1], padding: 'valid', hw: [4, 5] },
    { strides: [1, 2], padding: 'same', hw: [4, 4] },
  ];
  for (const guard of GUARDS) {
    for (const g of geoms) {
      it(`${guard}, strides [${g.strides}], ${g.padding}: equals the tfjs autodiff Jacobian (tf.grad of each output)`, () => {
        const rng = new Rng(guard.length * 13 + g.strides[1] * 3 + g.hw[0]);
        const cfg = resolvePolyConfig({ guard, basis: 'chebyshev', degree: 4 });
        const l = randomConvLayer(rng, 2, g.hw, 2, 3, [3, 3], { strides: g.strides, padding: g.padding }, cfg);
        const v = convTensors(l);
        const opts = { strides: g.strides, padding: g.padding, check: false };
        const before = tf.memory().numTensors;
        const ours = tf.tidy(() => Array.from(perSampleJacobianFrobenius(polyConv2d(v.x, v, cfg, opts).trace).dataSync()));
        expect(tf.memory().numTensors).toBe(before);
        const y0 = tf.tidy(() => polyConv2d(v.x, v, cfg, opts).y);
        const [B, Ho, Wo, C] = y0.shape;
        y0.dispose();
        const auto = new Float64Array(B);
        for (let p = 0; p < Ho * Wo; p++) {
          for (let c = 0; c < C; c++) {
            // samples are independent: ∂(Σ_b y[b, p, c])/∂x[b] is row (p, c) of J_b
            const gr = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(polyConv2d(x as tf.Tensor4D, v, cfg, opts).y, [0, Math.floor(p / Wo), p % Wo, c], [B, 1, 1, 1])))(v.x);
            const gv = gr.dataSync();
            const n = gv.length / B;
            for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) auto[b] += gv[b * n + i] ** 2;
            gr.dispose();
          }
        }
        for (let b = 0; b < B; b++) expect(Math.abs(ours[b] - auto[b]) / auto[b]).toBeLessThan(1e-4);
        tf.dispose(v);
      });
    }
  }
});

interface RefOpts {
  variant: Exclude<DregVariant, 'forward'>;
  lambda: number;
  beta?: number;
  mu?: number;
}

/** One conv layer's term λ·mean_b(R_b)/n_l in float64. */
function refConvPenalty(l: RandomConvLayer, o: RefOpts): number {
  let sum = 0;
  let n = 0;
  for (const xb of l.x) {
    const r = refPolyConv2dSample(xb, l.inputHW, l.params, l.cfg, l.geom);
    n = r.dy.length;
    let R = 0;
    if (o.variant === 'frobenius') R = frobenius2(explicitConvJacobian(xb, l));
    else if (o.variant === 'activation') R = r.dy.reduce((s, v) => s + v * v, 0);
    else R = r.dy.reduce((s, v) => s + Math.max(0, Math.abs(v) - (o.beta ?? 1)) ** 2, 0);
    if (o.mu) R += o.mu * r.d2y.reduce((s, v) => s + v * v, 0);
    sum += R;
  }
  return (o.lambda * sum) / l.x.length / n;
}

describe('conv2d DREG penalty: variants, gradients, mixing with dense layers', () => {
  for (const variant of ['frobenius', 'activation', 'hinge'] as const) {
    for (const guard of ['tanh', 'layernorm'] as PolyGuard[]) {
      it(`${variant} / ${guard} (+ curvature): λ·mean(R_l)/n_l with n_l = H'·W'·C equals the float64 reference`, () => {
        const rng = new Rng(variant.length * 5 + guard.length);
        const cfg = resolvePolyConfig({ guard, degree: 3 });
        const l = randomConvLayer(rng, 3, [5, 6], 2, 3, [3, 3], { strides: [2, 2], padding: 'same' }, cfg, 1.5);
        const { trace: tr, vars } = trace(l, true);
        for (const mu of [0, 0.25]) {
          const ours = dregLayerPenalty(tr, { variant, lambda: 0.3, beta: 0.4, curvature: mu }).dataSync()[0];
          const ref = refConvPenalty(l, { variant, lambda: 0.3, beta: 0.4, mu });
          expect(Math.abs(ours - ref) / ref).toBeLessThan(1e-4);
        }
        tf.dispose([vars.x, vars.kernel, vars.bias, vars.coeffs, tr.z, tr.dy, tr.d2y!]);
      });
    }
  }

  const gradCases: Array<[Exclude<DregVariant, 'forward'>, PolyGuard, number, { strides: [number, number]; padding: 'same' | 'valid' }]> = [
    ['frobenius', 'tanh', 0, { strides: [2, 2], padding: 'same' }],
    ['frobenius', 'clip', 0, { strides: [1, 1], padding: 'valid' }],
    ['frobenius', 'none', 0, { strides: [1, 2], padding: 'same' }],
    ['frobenius', 'layernorm', 0, { strides: [2, 2], padding: 'same' }],
    ['frobenius', 'tanh', 0.3, { strides: [1, 1], padding: 'same' }],
    ['activation', 'tanh', 0, { strides: [2, 2], padding: 'valid' }],
    ['hinge', 'none', 0, { strides: [1, 1], padding: 'same' }],
  ];
  for (const [variant, guard, mu, geom] of gradCases) {
    it(`${variant} / ${guard}${mu ? ' + curvature' : ''}, strides [${geom.strides}], ${geom.padding}: ∂R/∂K, ∂R/∂b, ∂R/∂a match float64 finite differences`, () => {
      const rng = new Rng(variant.length + guard.length * 3 + mu * 10 + geom.strides[1]);
      const cfg = resolvePolyConfig({ guard, degree: 3, basis: 'chebyshev', scale: 2 });
      const l = randomConvLayer(rng, 2, [5, 5], 2, 3, [3, 3], geom, cfg, 1.5);
      const v = convTensors(l);
      const opts = { variant, lambda: 0.7, beta: 0.3, curvature: mu };
      const [gK, gb, ga] = tf.grads((k: tf.Tensor, b: tf.Tensor, a: tf.Tensor) => {
        const { trace: tr } = polyConv2d(v.x, { kernel: k as tf.Tensor4D, bias: b as tf.Tensor1D, coeffs: a as tf.Tensor2D }, cfg, { ...geom, secondDerivative: mu > 0, check: false });
        return dregPenalty([tr], opts);
      })([v.kernel, v.bias, v.coeffs]);
      const ref = () => refConvPenalty(l, { variant, lambda: 0.7, beta: 0.3, mu });
      const h = 1e-6;
      const fd = (arr: number[], i: number) => {
        const x0 = arr[i];
        arr[i] = x0 + h;
        const p = ref();
        arr[i] = x0 - h;
        const m = ref();
        arr[i] = x0;
        return (p - m) / (2 * h);
      };
      const check = (grad: Float32Array | Int32Array | Uint8Array, fds: number[]) => {
        const scale = Math.max(...fds.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        fds.forEach((f, i) => expect(Math.abs(grad[i] - f)).toBeLessThan(1e-3 * scale + 1e-3 * Math.abs(f)));
      };
      const P = l.params;
      check(gK.dataSync(), P.kernel.map((_, i) => fd(P.kernel, i)));
      check(gb.dataSync(), P.bias.map((_, i) => fd(P.bias, i)));
      check(ga.dataSync(), P.coeffs.flatMap((row) => row.map((_, k) => fd(row, k))));
      tf.dispose([gK, gb, ga, v.x, v.kernel, v.bias, v.coeffs]);
    });
  }

  it('a conv + dense network: dregPenalty sums the layers (n_l per layer), leaks nothing, rejects forward', () => {
    const rng = new Rng(8);
    const cfg = resolvePolyConfig();
    const l = randomConvLayer(rng, 3, [6, 6], 2, 3, [3, 3], { strides: [2, 2], padding: 'same' }, cfg);
    const v = convTensors(l);
    const W = tf.tensor2d(Array.from({ length: 27 * 4 }, () => rng.normal() * 0.2), [27, 4]);
    const b = tf.zeros([4]) as tf.Tensor1D;
    const a = tf.tensor2d(Array.from({ length: 16 }, () => rng.normal() * 0.5), [4, 4]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const c = polyConv2d(v.x, v, cfg, { strides: 2 });
      const d = polyDense(tf.reshape(c.y, [3, 27]) as tf.Tensor2D, { kernel: W, bias: b, coeffs: a }, cfg);
      const traces: LayerTrace[] = [c.trace, d.trace];
      const total = dregPenalty(traces, { lambda: 0.5, layerWeights: [1, 3] }).dataSync()[0];
      const t0 = tf.mean(perSampleLayerPenalty(c.trace)).dataSync()[0] / 27;
      const t1 = tf.mean(perSampleLayerPenalty(d.trace)).dataSync()[0] / 4;
      expect(total).toBeCloseTo(0.5 * (t0 + 3 * t1), 5);
      expect(() => dregPenalty(traces, { variant: 'forward' })).toThrow(ConfigError);
      expect(() => dregPenalty(traces, { variant: 'forward' })).toThrow(/conv2d/);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([v.x, v.kernel, v.bias, v.coeffs, W, b, a]);
  });

  it('an inconsistent conv trace is a ShapeError naming the layer', () => {
    const cfg = resolvePolyConfig();
    const x = tf.zeros([1, 6, 6, 2]) as tf.Tensor4D;
    const p = { kernel: tf.zeros([3, 3, 2, 3]) as tf.Tensor4D, coeffs: tf.zeros([3, 4]) as tf.Tensor2D };
    const { trace: tr } = polyConv2d(x, p, cfg, { strides: 2, name: 'convA' });
    expect(() => perSampleJacobianFrobenius({ ...tr, inputSize: [7, 9] })).toThrow(ShapeError);
    expect(() => perSampleJacobianFrobenius({ ...tr, inputSize: [7, 9] })).toThrow(/convA.*expected 4×5/);
    expect(() => perSampleJacobianFrobenius({ ...tr, guard: 'layernorm' })).toThrow(/layernorm/);
    expect(() => dregPenalty([{ ...tr, kind: 'conv3d' } as never])).toThrow(/supported: dense, conv2d/);
  });

  it('attachDreg reaches PolyConv2D: fit loss with DREG − without = the functional penalty', async () => {
    const rng = new Rng(3);
    const X = tf.tensor4d(Array.from({ length: 8 * 6 * 6 * 2 }, () => rng.normal()), [8, 6, 6, 2]);
    const Y = tf.tensor2d(Array.from({ length: 8 }, (_, i) => [Math.sin(i)]), [8, 1]);
    const build = () => {
      const m = tfl.sequential();
      m.add(new PolyConv2D({ filters: 3, kernelSize: 3, strides: 2, inputShape: [6, 6, 2], seed: 1, name: 'c1' }));
      m.add(tfl.layers.flatten());
      m.add(new PolyDense({ units: 1, seed: 2, name: 'd1' }));
      m.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
      return m;
    };
    const plain = build();
    const withDreg = build();
    const opts = { lambda: 0.5 };
    const p0 = tf.tidy(() => {
      const [k, bias, co] = withDreg.getLayer('c1').getWeights();
      const c = polyConv2d(X, { kernel: k as tf.Tensor4D, bias: bias as tf.Tensor1D, coeffs: co as tf.Tensor2D }, (withDreg.getLayer('c1') as PolyConv2D).polyConfig, { strides: 2 });
      const [w, b2, a2] = withDreg.getLayer('d1').getWeights();
      const d = polyDense(tf.reshape(c.y, [8, 27]) as tf.Tensor2D, { kernel: w as tf.Tensor2D, bias: b2 as tf.Tensor1D, coeffs: a2 as tf.Tensor2D }, (withDreg.getLayer('d1') as PolyDense).polyConfig);
      return dregPenalty([c.trace, d.trace], opts).dataSync()[0];
    });
    expect(attachDreg(withDreg, opts).map((x) => x.name)).toEqual(['c1', 'd1']);
    const a = (await plain.fit(X, Y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 })).history.loss[0] as number;
    const b = (await withDreg.fit(X, Y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 })).history.loss[0] as number;
    expect(p0).toBeGreaterThan(0);
    expect(Math.abs(b - a - p0) / p0).toBeLessThan(1e-4);
    tf.dispose([X, Y]);
  });
});
