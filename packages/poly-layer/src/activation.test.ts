import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { NumericError, Rng, ShapeError } from '@chainz/core';
import { polyActivation, setNumericCheck } from './activation';
import { resolvePolyConfig, type PolyBasis, type PolyConfig, type PolyGuard } from './config';
import { refActivation, refLayerNorm, refPolynomial } from './testing';

const BASES: PolyBasis[] = ['monomial', 'chebyshev', 'legendre'];
const ELEMENTWISE: PolyGuard[] = ['tanh', 'clip', 'none'];

function randomCoeffs(rng: Rng, rows: number, K: number): number[][] {
  // float32-representable so tfjs and the float64 reference see the same numbers
  return Array.from({ length: rows }, () => Array.from({ length: K + 1 }, () => Math.fround(rng.normal() * 0.7)));
}

function close(actual: number, expected: number, rtol: number, atol: number): boolean {
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

afterEach(() => setNumericCheck('first'));

describe('polyActivation vs float64 reference', () => {
  for (const basis of BASES) {
    for (const guard of ELEMENTWISE) {
      for (const degree of [1, 3, 5]) {
        it(`${basis} / ${guard} / K=${degree}: σ, σ', σ'' match the float64 reference`, () => {
          const rng = new Rng(degree * 31 + basis.length * 7 + guard.length);
          const cfg = resolvePolyConfig({ basis, guard, degree, scale: 1.7 });
          const B = 6;
          const C = 5;
          const a = randomCoeffs(rng, C, degree);
          // z in ±4 (crosses the clip boundary and tanh's saturation), float32-exact
          const zs = Array.from({ length: B * C }, () => Math.fround(rng.normal() * 2));
          const z = tf.tensor2d(zs, [B, C]);
          const coeffs = tf.tensor2d(a);
          const out = polyActivation(z, coeffs, cfg, { secondDerivative: true });
          const [y, dy, d2y] = [out.y.dataSync(), out.dy.dataSync(), out.d2y!.dataSync()];
          let scale = 0;
          for (let i = 0; i < zs.length; i++) scale = Math.max(scale, Math.abs(refActivation(cfg, a[i % C], zs[i])[0]));
          for (let i = 0; i < zs.length; i++) {
            const [ry, rdy, rd2y] = refActivation(cfg, a[i % C], zs[i]);
            expect(close(y[i], ry, 1e-5, 1e-6 * (1 + scale))).toBe(true);
            expect(close(dy[i], rdy, 1e-5, 1e-6 * (1 + scale))).toBe(true);
            expect(close(d2y[i], rd2y, 1e-4, 1e-5 * (1 + scale))).toBe(true);
          }
          tf.dispose([z, coeffs, out.y, out.dy, out.d2y!]);
        });
      }
    }
  }

  it("σ' equals a central finite difference of the float64 σ (rtol 1e-5)", () => {
    const rng = new Rng(11);
    for (const basis of BASES) {
      for (const guard of ELEMENTWISE) {
        const cfg = resolvePolyConfig({ basis, guard, degree: 4, scale: 2 });
        const a = randomCoeffs(rng, 1, 4)[0];
        const zs = Array.from({ length: 40 }, () => Math.fround(rng.normal() * 2.5)).filter((v) => Math.abs(Math.abs(v) - 2) > 1e-3);
        const out = polyActivation(tf.tensor2d(zs, [zs.length, 1]), tf.tensor2d([a]), cfg);
        const dy = out.dy.dataSync();
        const h = 1e-5;
        zs.forEach((z, i) => {
          const fd = (refActivation(cfg, a, z + h)[0] - refActivation(cfg, a, z - h)[0]) / (2 * h);
          expect(close(dy[i], fd, 1e-5, 1e-6)).toBe(true);
        });
        tf.dispose([out.y, out.dy]);
      }
    }
  });

  it('layernorm guard: u is the per-sample layer norm, dy is dσ/du, invStd = 1/sqrt(var+ε)', () => {
    const rng = new Rng(5);
    for (const basis of BASES) {
      const cfg = resolvePolyConfig({ basis, guard: 'layernorm', degree: 3 });
      const B = 4;
      const C = 7;
      const a = randomCoeffs(rng, C, 3);
      const rows = Array.from({ length: B }, (_, b) => Array.from({ length: C }, () => Math.fround(rng.normal() * (b + 0.5) + b)));
      const out = polyActivation(tf.tensor2d(rows), tf.tensor2d(a), cfg, { secondDerivative: true });
      const [y, dy, d2y, u, inv] = [out.y, out.dy, out.d2y!, out.layernorm!.u, out.layernorm!.invStd].map((t) => t.arraySync() as number[][]);
      expect(out.layernorm!.invStd.shape).toEqual([B, 1]);
      rows.forEach((row, b) => {
        const ref = refLayerNorm(row);
        expect(close(inv[b][0], ref.invStd, 1e-5, 0)).toBe(true);
        row.forEach((_, j) => {
          expect(close(u[b][j], ref.u[j], 1e-5, 1e-6)).toBe(true);
          const [p, dp, d2p] = refPolynomial(basis, a[j], ref.u[j]);
          expect(close(y[b][j], p, 1e-5, 1e-5)).toBe(true);
          expect(close(dy[b][j], dp, 1e-5, 1e-5)).toBe(true);
          expect(close(d2y[b][j], d2p, 1e-4, 1e-5)).toBe(true);
        });
      });
    }
  });

  it('works on [B, H, W, C] (channels last) exactly as on the flattened [B·H·W, C]', () => {
    const rng = new Rng(8);
    for (const guard of ['tanh', 'layernorm'] as const) {
      const cfg = resolvePolyConfig({ guard, basis: 'chebyshev', degree: 4 });
      const z4 = tf.tensor4d(Array.from({ length: 2 * 3 * 2 * 5 }, () => rng.normal()), [2, 3, 2, 5]);
      const coeffs = tf.tensor2d(randomCoeffs(rng, 5, 4));
      const o4 = polyActivation(z4, coeffs, cfg);
      const o2 = polyActivation(tf.reshape(z4, [12, 5]), coeffs, cfg);
      expect(o4.y.shape).toEqual([2, 3, 2, 5]);
      expect(tf.max(tf.abs(tf.sub(tf.reshape(o4.y, [12, 5]), o2.y))).dataSync()[0]).toBeLessThan(1e-6);
      expect(tf.max(tf.abs(tf.sub(tf.reshape(o4.dy, [12, 5]), o2.dy))).dataSync()[0]).toBeLessThan(1e-6);
    }
  });

  it('layer sharing broadcasts one coefficient set over every channel', () => {
    const cfg = resolvePolyConfig({ sharing: 'layer' });
    const a = [[0.1, 0.9, -0.2, 0.3]];
    const z = tf.tensor2d([[0.5, -1, 2]]);
    const out = polyActivation(z, tf.tensor2d(a), cfg);
    const y = out.y.dataSync();
    [0.5, -1, 2].forEach((v, i) => expect(y[i]).toBeCloseTo(refActivation(cfg, a[0], v)[0], 5));
  });
});

describe('gradients through σ and σ′', () => {
  for (const guard of ['tanh', 'clip', 'none', 'layernorm'] as PolyGuard[]) {
    it(`${guard}: ∂/∂z and ∂/∂a of Σ(c1·σ + c2·σ') match float64 finite differences`, () => {
      const rng = new Rng(guard.length * 13);
      const cfg: PolyConfig = resolvePolyConfig({ guard, basis: 'legendre', degree: 3, scale: 1.5 });
      const B = 3;
      const C = 4;
      const a = randomCoeffs(rng, C, 3);
      const zs = Array.from({ length: B * C }, () => Math.fround(rng.normal() * 1.2)).map((v) => (Math.abs(Math.abs(v) - 1.5) < 1e-2 ? v + 0.05 : v));
      const c1 = Array.from({ length: B * C }, () => Math.fround(rng.normal()));
      const c2 = Array.from({ length: B * C }, () => Math.fround(rng.normal()));
      // float64 objective
      const objective = (zv: number[], av: number[][]): number => {
        let s = 0;
        for (let b = 0; b < B; b++) {
          const row = zv.slice(b * C, (b + 1) * C);
          const vals =
            guard === 'layernorm'
              ? (() => {
                  const ln = refLayerNorm(row);
                  return ln.u.map((u, j) => refPolynomial(cfg.basis, av[j], u));
                })()
              : row.map((z, j) => refActivation(cfg, av[j], z));
          vals.forEach((v, j) => (s += c1[b * C + j] * v[0] + c2[b * C + j] * v[1]));
        }
        return s;
      };
      const f = (zt: tf.Tensor, at: tf.Tensor) => {
        const o = polyActivation(zt, at as tf.Tensor2D, cfg, { check: false });
        return tf.add(tf.sum(tf.mul(o.y, tf.tensor2d(c1, [B, C]))), tf.sum(tf.mul(o.dy, tf.tensor2d(c2, [B, C]))));
      };
      const [gz, ga] = tf.grads(f)([tf.tensor2d(zs, [B, C]), tf.tensor2d(a)]);
      const gzv = gz.dataSync();
      const gav = ga.arraySync() as number[][];
      const h = 1e-6;
      zs.forEach((_, i) => {
        const zp = zs.slice();
        const zm = zs.slice();
        zp[i] += h;
        zm[i] -= h;
        const fd = (objective(zp, a) - objective(zm, a)) / (2 * h);
        expect(close(gzv[i], fd, 1e-3, 1e-4)).toBe(true);
      });
      a.forEach((row, r) =>
        row.forEach((_, k) => {
          const ap = a.map((x) => x.slice());
          const am = a.map((x) => x.slice());
          ap[r][k] += h;
          am[r][k] -= h;
          const fd = (objective(zs, ap) - objective(zs, am)) / (2 * h);
          expect(close(gav[r][k], fd, 1e-3, 1e-4)).toBe(true);
        }),
      );
    });
  }
});

describe("clip guard, composite path (tfjs-node, double backprop, implementation 'composite')", () => {
  it('u = ±1 exactly for every |z/s| > 1, also where z ± s rounds away (|z| ≳ 5e7)', () => {
    const cfg = resolvePolyConfig({ guard: 'clip', degree: 3, basis: 'monomial', scale: 3 });
    const zs = [5e7, -5e7, 6e7 + 2, -1e8, 3.3e8, 1e30, -1e30, 3.0000002, -4, 3, -3, 1.5, 0, -1e-30];
    const z = tf.tensor2d([zs]);
    const identity = tf.tensor2d(zs.map(() => [0, 1, 0, 0])); // σ(z) = u
    for (const implementation of ['composite', 'auto'] as const) {
      const out = polyActivation(z, identity, cfg, { secondDerivative: true, implementation });
      const expected = zs.map((v) => Math.fround(Math.max(-1, Math.min(1, Math.fround(v * Math.fround(1 / 3))))));
      expect(Array.from(out.y.dataSync()), implementation).toEqual(expected);
      // g' = 1/s inside (boundary included), 0 outside; g'' = 0
      expect(Array.from(out.dy.dataSync())).toEqual(zs.map((v) => (Math.abs(Math.fround(v * Math.fround(1 / 3))) <= 1 ? Math.fround(1 / 3) : 0)));
      expect(Array.from(out.d2y!.dataSync()).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('guards keep σ, σ′, σ″ and their gradients finite', () => {
  const huge = [1e30, -1e30, 3e29, -7e12, 0, 1e-30, 5];
  for (const guard of ['tanh', 'clip', 'layernorm'] as PolyGuard[]) {
    for (const basis of BASES) {
      it(`${guard} / ${basis}: finite for |z| up to 1e30`, () => {
        const cfg = resolvePolyConfig({ guard, basis, degree: 5 });
        const z = tf.tensor2d([huge, huge.map((v) => -v), [1e30, 1e30, 1e30, 1e30, 1e30, 1e30, 1e30], [0, 0, 0, 0, 0, 0, 0]]);
        const coeffs = tf.tensor2d(randomCoeffs(new Rng(1), 7, 5));
        const out = polyActivation(z, coeffs, cfg, { secondDerivative: true });
        for (const t of [out.y, out.dy, out.d2y!, ...(out.layernorm ? [out.layernorm.u, out.layernorm.invStd] : [])]) {
          expect(tf.all(tf.isFinite(t)).dataSync()[0]).toBe(1);
        }
        const g = tf.grads((zt: tf.Tensor, at: tf.Tensor) => {
          const o = polyActivation(zt, at as tf.Tensor2D, cfg, { secondDerivative: true });
          return tf.add(tf.add(tf.sum(o.y), tf.sum(tf.square(o.dy))), tf.sum(o.d2y!));
        })([z, coeffs]);
        for (const t of g) expect(tf.all(tf.isFinite(t)).dataSync()[0]).toBe(1);
      });
    }
  }

  it('the none guard throws a NumericError naming the layer on a non-finite output', () => {
    const cfg = resolvePolyConfig({ guard: 'none' });
    const z = tf.tensor2d([[1e30, 1]]);
    const coeffs = tf.tensor2d([[0, 1, 0, 1], [0, 1, 0, 1]]);
    let err: unknown;
    try {
      polyActivation(z, coeffs, cfg, { name: 'hidden_1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NumericError);
    // the layer is named once (not 'tensor hidden_1: layer 'hidden_1': …')
    expect((err as Error).message).toBe("layer 'hidden_1': polynomial activation with guard 'none' produced a non-finite value (NaN or ±Infinity); max |z| = 1.0000000150474662e+30");
    expect((err as NumericError).location).toEqual({ tensor: 'hidden_1' });
  });

  it("check modes: 'first' checks once per layer name, 'off' never, 'always' every call, check:true forces", () => {
    const cfg = resolvePolyConfig({ guard: 'none' });
    const bad = tf.tensor2d([[1e30, 1]]);
    const coeffs = tf.tensor2d([[0, 1, 0, 1], [0, 1, 0, 1]]);
    const good = tf.tensor2d([[1, 1]]);
    setNumericCheck('first');
    polyActivation(good, coeffs, cfg, { name: 'L' }); // first call for L: checked, fine
    expect(() => polyActivation(bad, coeffs, cfg, { name: 'L' })).not.toThrow(); // not checked again
    expect(() => polyActivation(bad, coeffs, cfg, { name: 'L', check: true })).toThrow(NumericError);
    setNumericCheck('off');
    expect(() => polyActivation(bad, coeffs, cfg, { name: 'M' })).not.toThrow();
    setNumericCheck('always');
    polyActivation(good, coeffs, cfg, { name: 'N' });
    expect(() => polyActivation(bad, coeffs, cfg, { name: 'N' })).toThrow(/layer 'N'/);
    expect(() => setNumericCheck('sometimes' as never)).toThrow(/option numericCheck/);
  });
});

describe('polyActivation errors and memory', () => {
  it('throws ShapeError naming coeffs and the layer', () => {
    const cfg = resolvePolyConfig();
    const z = tf.zeros([2, 3]);
    expect(() => polyActivation(z, tf.zeros([2, 4]) as tf.Tensor2D, cfg, { name: 'act' })).toThrow(ShapeError);
    expect(() => polyActivation(z, tf.zeros([3, 3]) as tf.Tensor2D, cfg, { name: 'act' })).toThrow(/tensor coeffs.*layer 'act'/);
    expect(() => polyActivation(tf.zeros([3]), tf.zeros([3, 4]) as tf.Tensor2D, cfg)).toThrow(/tensor z/);
  });

  it('creates only its outputs (no leaked intermediates)', () => {
    for (const guard of ['tanh', 'clip', 'none', 'layernorm'] as PolyGuard[]) {
      const cfg = resolvePolyConfig({ guard, basis: 'chebyshev', degree: 4 });
      const z = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
      const coeffs = tf.randomNormal([3, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
      polyActivation(z, coeffs, cfg, { check: true }); // warm-up (lazy customGrad etc.)
      const before = tf.memory().numTensors;
      const out = polyActivation(z, coeffs, cfg, { secondDerivative: true, check: true });
      const outputs = 3 + (out.layernorm ? 2 : 0);
      expect(tf.memory().numTensors).toBe(before + outputs);
      tf.dispose([out.y, out.dy, out.d2y!, ...(out.layernorm ? [out.layernorm.u, out.layernorm.invStd] : [])]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
