import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
import { DEFAULT_POLY_CONFIG, resolvePolyConfig } from './config';

describe('resolvePolyConfig', () => {
  it('fills defaults (cubic, monomial, tanh guard, s = 3, per channel)', () => {
    expect(resolvePolyConfig()).toEqual({ degree: 3, basis: 'monomial', guard: 'tanh', scale: 3, sharing: 'channel' });
    expect(resolvePolyConfig({})).toEqual(DEFAULT_POLY_CONFIG);
    expect(Object.isFrozen(DEFAULT_POLY_CONFIG)).toBe(true);
  });

  it('defaults to the Chebyshev basis above degree 3 unless a basis is given', () => {
    expect(resolvePolyConfig({ degree: 5 }).basis).toBe('chebyshev');
    expect(resolvePolyConfig({ degree: 5, basis: 'monomial' }).basis).toBe('monomial');
    expect(resolvePolyConfig({ degree: 2 }).basis).toBe('monomial');
  });

  it.each([
    [{ degree: 0 }, 'degree'],
    [{ degree: 2.5 }, 'degree'],
    [{ degree: 13 }, 'degree'],
    [{ basis: 'hermite' }, 'basis'],
    [{ guard: 'sigmoid' }, 'guard'],
    [{ scale: 0 }, 'scale'],
    [{ scale: Number.NaN }, 'scale'],
    [{ sharing: 'global' }, 'sharing'],
    [{ degre: 3 }, 'degre'],
  ])('rejects %j with a ConfigError naming option %s', (partial, option) => {
    let err: unknown;
    try {
      resolvePolyConfig(partial as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).location.option).toBe(option);
    expect((err as Error).message).toContain(`option ${option}`);
  });
});
