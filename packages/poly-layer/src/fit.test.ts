import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
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
