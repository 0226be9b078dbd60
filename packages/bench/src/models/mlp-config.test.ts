import { describe, expect, it } from 'vitest';
import { mlpModel, type MlpConfig } from './mlp';

const base: MlpConfig = { hidden: [8], activation: 'poly', dreg: null, epochs: 1, batchSize: 8, learningRate: 1e-3, weightDecay: 0, validationFraction: 0 };

describe('mlpModel config (echoed in results.json and the resume fingerprint)', () => {
  it('states the resolved polynomial configuration: guard scale and the degree-dependent basis', () => {
    expect(mlpModel('cr', '', { ...base, poly: { degree: 5 } }).config.poly).toEqual({ degree: 5, basis: 'chebyshev', guard: 'tanh', scale: 3, sharing: 'channel' });
    expect(mlpModel('cr', '', base).config.poly).toEqual({ degree: 3, basis: 'monomial', guard: 'tanh', scale: 3, sharing: 'channel' });
    // the configuration the caller passed is not changed
    const mine = { ...base, poly: { degree: 4 } };
    mlpModel('cr', '', mine);
    expect(mine.poly).toEqual({ degree: 4 });
  });

  it('non-polynomial models have no poly entry', () => {
    expect(mlpModel('relu-mlp', '', { ...base, activation: 'relu' }).config).not.toHaveProperty('poly');
  });
});
