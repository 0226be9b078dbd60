import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, NumericError } from '@chainz/core';
import { fitPolynomial, initPolyCoefficients } from './fit';
import { resolvePolyConfig } from './config';
import { TARGET_ACTIVATIONS, targetFunction } from './targets';
import { polyValue } from './basis';

describe('fitPolynomial', () => {
  it('recovers the identity exactly with the none guard (any basis)', () => {
    for (const basis of ['monomial', 'chebyshev', 'legendre'] as const) {
      const fit = fitPolynomial('identity', resolvePolyConfig({ guard: 'none', basis }));
      expect(fit.rmse).toBeLessThan(1e-6);
      expect(fit.maxAbsError).toBeLessThan(1e-6);
      // identity = P_1 in every basis
      expect(fit.coeffs[1]).toBeCloseTo(1, 6);
      expect(Math.abs(fit.coeffs[0]) + Math.abs(fit.coeffs[2]) + Math.abs(fit.coeffs[3])).toBeLessThan(1e-6);
    }
  });

  it('fits identity and tanh closely with the default config (reported error is the true error)', () => {
    const cfg = resolvePolyConfig();
    for (const target of ['identity', 'tanh'] as const) {
      const fit = fitPolynomial(target, cfg);
      expect(fit.domain).toEqual([-3, 3]);
      expect(fit.rmse).toBeLessThan(0.05);
      expect(fit.maxAbsError).toBeLessThan(0.1);
      // recompute the error independently on a finer grid
      const f = targetFunction(target);
      let maxErr = 0;
      for (let i = 0; i <= 6000; i++) {
        const z = -3 + i / 1000;
        maxErr = Math.max(maxErr, Math.abs(polyValue(fit.coeffs, cfg, z) - f(z)));
      }
      expect(Math.abs(maxErr - fit.maxAbsError)).toBeLessThan(1e-3);
    }
  });

  it('is the least-squares solution (normal equations hold at the optimum)', () => {
    const cfg = resolvePolyConfig({ degree: 5, basis: 'legendre', guard: 'clip', scale: 2 });
    const fit = fitPolynomial('gelu', cfg, { ridge: 0 });
    const f = targetFunction('gelu');
    // gradient of the squared error w.r.t. each coefficient must vanish
    const n = 2001;
    const grad = new Array(6).fill(0);
    for (let i = 0; i < n; i++) {
      const z = -3 + (6 * i) / (n - 1);
      const r = polyValue(fit.coeffs, cfg, z) - f(z);
      for (let k = 0; k <= 5; k++) {
        const e = new Array(6).fill(0);
        e[k] = 1;
        grad[k] += (r * polyValue(e, cfg, z)) / n;
      }
    }
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-10);
  });

  it('more degree never fits worse, every target fits to a finite error', () => {
    for (const target of TARGET_ACTIVATIONS) {
      const e3 = fitPolynomial(target, resolvePolyConfig({ degree: 3, basis: 'chebyshev' })).rmse;
      const e7 = fitPolynomial(target, resolvePolyConfig({ degree: 7 })).rmse;
      expect(Number.isFinite(e3)).toBe(true);
      expect(e7).toBeLessThanOrEqual(e3 + 1e-9);
    }
  });

  it('ridge shrinks the coefficients', () => {
    const cfg = resolvePolyConfig();
    const small = fitPolynomial('relu', cfg);
    const big = fitPolynomial('relu', cfg, { ridge: 1 });
    const norm = (a: number[]) => Math.hypot(...a);
    expect(norm(big.coeffs)).toBeLessThan(norm(small.coeffs));
    expect(big.rmse).toBeGreaterThan(small.rmse);
  });

  it('validates options with a ConfigError naming them', () => {
    const cfg = resolvePolyConfig();
    expect(() => fitPolynomial('swish' as never, cfg)).toThrow(/option target/);
    expect(() => fitPolynomial('relu', cfg, { domain: [1, -1] })).toThrow(/option domain/);
    expect(() => fitPolynomial('relu', cfg, { points: 3 })).toThrow(/option points/);
    expect(() => fitPolynomial('relu', cfg, { ridge: -1 })).toThrow(ConfigError);
  });
});

describe('initPolyCoefficients', () => {
  it('tiles the fit per channel, or one row for layer sharing', () => {
    const a = initPolyCoefficients(4, 'silu', resolvePolyConfig());
    expect(a.coeffs.shape).toEqual([4, 4]);
    const v = a.coeffs.arraySync();
    for (const row of v) row.forEach((c, k) => expect(c).toBeCloseTo(a.fit.coeffs[k], 6));
    const b = initPolyCoefficients(4, 'silu', resolvePolyConfig({ sharing: 'layer', degree: 2 }));
    expect(b.coeffs.shape).toEqual([1, 3]);
    tf.dispose([a.coeffs, b.coeffs]);
    expect(() => initPolyCoefficients(0, 'relu', resolvePolyConfig())).toThrow(/option channels/);
  });
});

describe('fitPolynomial with ridge 0 and ill-conditioned designs', () => {
  it('ridge 0 on a saturated guard gives the minimum-norm solution, finite in float32 (was up to 2.75e42)', () => {
    // u = tanh(z/0.1) = 1 for every z in [5, 10]: every monomial column is 1, rank 1
    const cfg = resolvePolyConfig({ guard: 'tanh', basis: 'monomial', degree: 12, scale: 0.1 });
    const fit = fitPolynomial('relu', cfg, { ridge: 0, domain: [5, 10] });
    expect(fit.rank).toBe(1);
    // minimum norm: the mean of the target spread evenly over the 13 equal columns
    for (const a of fit.coeffs) expect(a).toBeCloseTo(7.5 / 13, 10);
    expect(fit.rmse).toBeCloseTo(Math.sqrt(((5 / 2000) ** 2 * (2001 ** 2 - 1)) / 12), 6); // std of a uniform grid on [5, 10]
    const { coeffs } = initPolyCoefficients(4, 'relu', cfg, { ridge: 0, domain: [5, 10] });
    expect(tf.all(tf.isFinite(coeffs)).dataSync()[0]).toBe(1);
    // the default ridge agrees
    expect(fitPolynomial('relu', cfg, { domain: [5, 10] }).coeffs.every((a) => Math.abs(a - 7.5 / 13) < 1e-6)).toBe(true);
  });

  it('ridge 0 where float32 cannot evaluate the fit: a NumericError naming the cause and the fix', () => {
    // u ∈ [tanh(5/3), tanh(10/3)] ≈ [0.93, 0.997]: a degree-6 fit needs huge, cancelling terms
    const cfg = resolvePolyConfig({ guard: 'tanh', basis: 'monomial', degree: 6, scale: 3 });
    expect(() => fitPolynomial('relu', cfg, { ridge: 0, domain: [5, 10] })).toThrow(NumericError);
    expect(() => fitPolynomial('relu', cfg, { ridge: 0, domain: [5, 10] })).toThrow(
      /^option ridge: fitting 'relu' with degree 6, basis 'monomial', guard 'tanh' on z ∈ \[5, 10\]: ill-conditioned — the polynomial's terms reach \S+ to produce values of at most 1\.00e\+1, so float32 rounding alone would exceed the target$/,
    );
    // with the default ridge the same fit is usable
    expect(Number.isFinite(fitPolynomial('relu', cfg, { domain: [5, 10] }).rmse)).toBe(true);
  });

  it('basis values beyond float32 on the domain (guard none, degree 12, |z| = 1e4) are refused', () => {
    const cfg = resolvePolyConfig({ guard: 'none', degree: 12 });
    const e = (() => {
      try {
        fitPolynomial('relu', cfg, { domain: [-1e4, 1e4] });
      } catch (x) {
        return x as NumericError;
      }
    })();
    expect(e).toBeInstanceOf(NumericError);
    expect(e!.message).toMatch(/the basis values reach 2\.05e\+51, beyond float32's range/);
    expect(e!.hint).toMatch(/bounded guard/);
  });
});
