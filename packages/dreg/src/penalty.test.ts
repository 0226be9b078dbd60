import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError, dense } from '@chainz/core';
import { initPolyCoefficients, polyDense, resolvePolyConfig, type DenseLayerTrace, type PolyConfig, type PolyGuard } from '@chainz/poly-layer';
import { frobenius2, refDenseJacobianFD, refPolyDenseSample } from '@chainz/poly-layer/testing';
import { dregLayerPenalty, dregPenalty, perSampleLayerPenalty } from './penalty';
import type { DregVariant } from './options';
import { explicitJacobian, randomLayer, toTensors, type RandomLayer } from './__fixtures__/layers64';

interface RefOpts {
  variant: Exclude<DregVariant, 'forward'>;
  lambda: number;
  weights?: number[];
  beta?: number;
  mu?: number;
}

/** R = λ·Σ_l w_l·mean_b(R_lb)/n_l in float64. */
function refPenalty(layers: RandomLayer[], o: RefOpts): number {
  let total = 0;
  layers.forEach((layer, l) => {
    const n = layer.params.kernel[0].length;
    let sum = 0;
    for (const xb of layer.x) {
      const r = refPolyDenseSample(xb, layer.params, layer.cfg);
      let R = 0;
      if (o.variant === 'frobenius') R = frobenius2(explicitJacobian(xb, layer.params, layer.cfg));
      else if (o.variant === 'activation') R = r.dy.reduce((s, v) => s + v * v, 0);
      else R = r.dy.reduce((s, v) => s + Math.max(0, Math.abs(v) - (o.beta ?? 1)) ** 2, 0);
      if (o.mu) R += o.mu * r.d2y.reduce((s, v) => s + v * v, 0);
      sum += R;
    }
    total += ((o.weights ? o.weights[l] : 1) * sum) / layer.x.length / n;
  });
  return o.lambda * total;
}

function traces(layers: RandomLayer[], second = false): { traces: DenseLayerTrace[]; vars: ReturnType<typeof toTensors>[] } {
  const vars = layers.map(toTensors);
  return {
    vars,
    traces: layers.map((l, i) => polyDense(vars[i].x, vars[i], l.cfg, { secondDerivative: second, check: false }).trace),
  };
}

const GUARDS: PolyGuard[] = ['tanh', 'clip', 'none', 'layernorm'];

describe('dregPenalty value', () => {
  for (const variant of ['frobenius', 'activation', 'hinge'] as const) {
    for (const guard of GUARDS) {
      it(`${variant} / ${guard}: λ·Σ w_l·mean(R_l)/n_l equals the float64 reference (with curvature)`, () => {
        const rng = new Rng(variant.length * 10 + guard.length);
        const cfgs: PolyConfig[] = [resolvePolyConfig({ guard, degree: 3 }), resolvePolyConfig({ guard, degree: 5, basis: 'legendre', sharing: 'layer' })];
        const layers = [randomLayer(rng, 5, 4, 6, cfgs[0], 1.5), randomLayer(rng, 5, 6, 3, cfgs[1], 1.5)];
        const { traces: tr } = traces(layers, true);
        for (const mu of [0, 0.25]) {
          const opts = { variant, lambda: 0.3, layerWeights: [1, 2.5], beta: 0.4, curvature: mu };
          const ours = dregPenalty(tr, opts).dataSync()[0];
          const ref = refPenalty(layers, { variant, lambda: 0.3, weights: [1, 2.5], beta: 0.4, mu });
          expect(Math.abs(ours - ref) / ref).toBeLessThan(1e-4);
          // the per-layer terms sum to the same value
          const sum = dregLayerPenalty(tr[0], opts, 0, 1).dataSync()[0] + dregLayerPenalty(tr[1], opts, 0, 2.5).dataSync()[0];
          expect(Math.abs(sum - ours) / ours).toBeLessThan(1e-5);
        }
      });
    }
  }

  it('frobenius per-sample value equals the finite-difference Jacobian of the float64 layer', () => {
    const cfg = resolvePolyConfig({ guard: 'layernorm', basis: 'chebyshev', degree: 4 });
    const layer = randomLayer(new Rng(3), 4, 5, 6, cfg);
    const { traces: tr } = traces([layer]);
    const v = perSampleLayerPenalty(tr[0]).dataSync();
    layer.x.forEach((xb, b) => expect(Math.abs(v[b] - frobenius2(refDenseJacobianFD(xb, layer.params, cfg))) / v[b]).toBeLessThan(1e-4));
  });

  it('uses λ(step) from a schedule and returns 0 when λ is 0 or there are no traces', () => {
    const layer = randomLayer(new Rng(4), 3, 2, 4, resolvePolyConfig());
    const { traces: tr } = traces([layer]);
    const lambda = { type: 'warmup', value: 1, warmupSteps: 4 } as const;
    const full = dregPenalty(tr, { lambda: 1 }).dataSync()[0];
    expect(dregPenalty(tr, { lambda }, 0).dataSync()[0]).toBe(0);
    expect(dregPenalty(tr, { lambda }, 2).dataSync()[0]).toBeCloseTo(full / 2, 6);
    expect(dregPenalty(tr, { lambda }, 9).dataSync()[0]).toBeCloseTo(full, 6);
    expect(dregPenalty([], {}).dataSync()[0]).toBe(0);
    expect(dregPenalty(tr).dataSync()[0]).toBeCloseTo(full * 10 ** -2.5, 8);
  });

  it('throws named errors for bad options and traces', () => {
    const layer = randomLayer(new Rng(5), 3, 2, 4, resolvePolyConfig());
    const { traces: tr } = traces([layer]);
    expect(() => dregPenalty(tr, { layerWeights: [1, 1] })).toThrow(/option layerWeights/);
    expect(() => dregPenalty(tr, { curvature: 1 })).toThrow(/option curvature/);
    expect(() => dregPenalty(tr, { variant: 'jacobian' as never })).toThrow(ConfigError);
    expect(() => perSampleLayerPenalty(tr[0], { variant: 'forward' })).toThrow(/option variant/);
    const other = randomLayer(new Rng(6), 3, 7, 4, resolvePolyConfig());
    const { traces: tr2 } = traces([other]);
    expect(() => dregPenalty([tr[0], tr2[0]], { variant: 'forward' })).toThrow(ShapeError);
  });
});

describe('forward variant (tangent chain)', () => {
  function chain(B: number, guard: PolyGuard, rng: Rng, x?: number[]) {
    const cfg = resolvePolyConfig({ guard, degree: 3 });
    const l1 = randomLayer(rng, 1, 3, 5, cfg);
    const l2 = randomLayer(rng, 1, 5, 4, cfg);
    const x0 = x ?? l1.x[0];
    const xt = tf.tensor2d(Array.from({ length: B }, () => x0));
    const v1 = toTensors(l1);
    const v2 = toTensors(l2);
    const a = polyDense(xt, v1, cfg);
    const b = polyDense(a.y, v2, cfg);
    return { cfg, l1, l2, x0, tr: [a.trace, b.trace], h1: refPolyDenseSample(x0, l1.params, cfg).y };
  }

  it('is seeded: same seed and step give the same value, another step another value', () => {
    const { tr } = chain(8, 'tanh', new Rng(1));
    const a = dregPenalty(tr, { variant: 'forward', seed: 3 }, 5).dataSync()[0];
    const b = dregPenalty(tr, { variant: 'forward', seed: 3 }, 5).dataSync()[0];
    const c = dregPenalty(tr, { variant: 'forward', seed: 3 }, 6).dataSync()[0];
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  for (const guard of ['tanh', 'layernorm'] as PolyGuard[]) {
    it(`${guard}: E‖t_l‖² equals ‖J_l⋯J_1‖_F² (float64 reference, 6000 tangents)`, () => {
      const B = 6000;
      const { cfg, l1, l2, x0, tr, h1 } = chain(B, guard, new Rng(guard.length));
      const J1 = refDenseJacobianFD(x0, l1.params, cfg);
      const J2 = refDenseJacobianFD(h1, l2.params, cfg);
      const J21 = J2.map((row) => J1[0].map((_, m) => row.reduce((s, v, k) => s + v * J1[k][m], 0)));
      // per-layer means: λ = 1 and one layer weight at a time gives mean(R_l)/n_l
      const m1 = dregPenalty(tr, { variant: 'forward', lambda: 1, layerWeights: [1, 0], seed: 11 }).dataSync()[0] * 5;
      const m2 = dregPenalty(tr, { variant: 'forward', lambda: 1, layerWeights: [0, 1], seed: 11 }).dataSync()[0] * 4;
      expect(Math.abs(m1 / frobenius2(J1) - 1)).toBeLessThan(0.08);
      expect(Math.abs(m2 / frobenius2(J21) - 1)).toBeLessThan(0.08);
    });
  }
});

describe('gradients of the penalty', () => {
  const cases: Array<[Exclude<DregVariant, 'forward'>, PolyGuard, number]> = [
    ['frobenius', 'tanh', 0],
    ['frobenius', 'clip', 0],
    ['frobenius', 'none', 0],
    ['frobenius', 'layernorm', 0],
    ['frobenius', 'tanh', 0.3],
    ['frobenius', 'layernorm', 0.3],
    ['activation', 'tanh', 0],
    ['hinge', 'none', 0],
  ];
  for (const [variant, guard, mu] of cases) {
    it(`${variant} / ${guard}${mu ? ' + curvature' : ''}: ∂R/∂W, ∂R/∂b, ∂R/∂a match float64 finite differences`, () => {
      const rng = new Rng(variant.length + guard.length * 3 + mu * 10);
      const cfg = resolvePolyConfig({ guard, degree: 3, basis: 'chebyshev', scale: 2 });
      const layer = randomLayer(rng, 4, 3, 5, cfg, 1.5);
      const v = toTensors(layer);
      const opts = { variant, lambda: 0.7, beta: 0.3, curvature: mu };
      const [gW, gb, ga] = tf.grads((k: tf.Tensor, b: tf.Tensor, a: tf.Tensor) => {
        const { trace } = polyDense(v.x, { kernel: k as tf.Tensor2D, bias: b as tf.Tensor1D, coeffs: a as tf.Tensor2D }, cfg, { secondDerivative: mu > 0, check: false });
        return dregPenalty([trace], opts);
      })([v.kernel, v.bias, v.coeffs]);
      const ref = () => refPenalty([layer], { variant, lambda: 0.7, beta: 0.3, mu });
      const h = 1e-6;
      const fdOf = (get: () => number, set: (x: number) => void) => {
        const x0 = get();
        set(x0 + h);
        const p = ref();
        set(x0 - h);
        const m = ref();
        set(x0);
        return (p - m) / (2 * h);
      };
      const check = (grad: number[], fd: number[]) => {
        const scale = Math.max(...fd.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        fd.forEach((f, i) => expect(Math.abs(grad[i] - f)).toBeLessThan(1e-3 * scale + 1e-3 * Math.abs(f)));
      };
      const P = layer.params;
      check(Array.from(gW.dataSync()), P.kernel.flatMap((row, i) => row.map((_, j) => fdOf(() => P.kernel[i][j], (x) => (P.kernel[i][j] = x)))));
      check(Array.from(gb.dataSync()), P.bias.map((_, j) => fdOf(() => P.bias[j], (x) => (P.bias[j] = x))));
      check(Array.from(ga.dataSync()), P.coeffs.flatMap((row, i) => row.map((_, k) => fdOf(() => P.coeffs[i][k], (x) => (P.coeffs[i][k] = x)))));
    });
  }
});

describe('training with DREG (hand-written step)', () => {
  function setup(guard: PolyGuard) {
    const rng = new Rng(21);
    const cfg = resolvePolyConfig({ guard });
    const N = 64;
    const X = tf.tensor2d(Array.from({ length: N * 4 }, () => rng.normal()), [N, 4]);
    const Y = tf.tensor2d(Array.from({ length: N }, (_, i) => [Math.sin(i)]), [N, 1]);
    const init = (r: number, c: number, s: number) => tf.variable(tf.tensor2d(Array.from({ length: r * c }, () => rng.normal() * s), [r, c]));
    const p1 = { kernel: init(4, 16, 0.5), bias: tf.variable(tf.zeros([16])) as tf.Variable<tf.Rank.R1>, coeffs: tf.variable(initPolyCoefficients(16, 'gelu', cfg).coeffs) };
    const p2 = { kernel: init(16, 16, 0.25), bias: tf.variable(tf.zeros([16])) as tf.Variable<tf.Rank.R1>, coeffs: tf.variable(initPolyCoefficients(16, 'gelu', cfg).coeffs) };
    const out = { kernel: init(16, 1, 0.25), bias: tf.variable(tf.zeros([1])) as tf.Variable<tf.Rank.R1> };
    const forward = () => {
      const a = polyDense(X, p1 as never, cfg, { name: 'h1' });
      const b = polyDense(a.y, p2 as never, cfg, { name: 'h2' });
      return { pred: dense(b.y, out.kernel as tf.Tensor2D, out.bias), traces: [a.trace, b.trace] };
    };
    const vars = [p1.kernel, p1.bias, p1.coeffs, p2.kernel, p2.bias, p2.coeffs, out.kernel, out.bias] as tf.Variable[];
    return { X, Y, forward, vars, cfg };
  }

  it('leaks no tensors around optimizer.minimize(task + dregPenalty)', () => {
    const { Y, forward, vars } = setup('layernorm');
    const opt = tf.train.adam(0.01);
    const step = (t: number) =>
      tf.dispose(
        opt.minimize(() => {
          const { pred, traces: tr } = forward();
          return tf.add(tf.losses.meanSquaredError(Y, pred), dregPenalty(tr, { curvature: 0 }, t)) as tf.Scalar;
        }, true, vars) ?? [],
      );
    step(0);
    const before = tf.memory().numTensors;
    step(1);
    step(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a large λ drives the penalty down; without DREG it is not reduced as much', () => {
    const measure = (s: ReturnType<typeof setup>) => tf.tidy(() => dregPenalty(s.forward().traces, { lambda: 1 }).dataSync()[0]);
    const run = (lambda: number) => {
      const s = setup('tanh');
      const opt = tf.train.adam(0.02);
      const p0 = measure(s);
      for (let t = 0; t < 40; t++) {
        tf.dispose(opt.minimize(() => {
          const { pred, traces: tr } = forward(s);
          return tf.add(tf.losses.meanSquaredError(s.Y, pred), dregPenalty(tr, { lambda }, t)) as tf.Scalar;
        }, true, s.vars) ?? []);
      }
      return { p0, p1: measure(s) };
    };
    const forward = (s: ReturnType<typeof setup>) => s.forward();
    const withDreg = run(1);
    const without = run(0);
    expect(withDreg.p0).toBeCloseTo(without.p0, 6); // same initialisation
    expect(withDreg.p1).toBeLessThan(0.7 * withDreg.p0);
    expect(withDreg.p1).toBeLessThan(without.p1);
  });
});
