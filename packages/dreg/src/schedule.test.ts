import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
import { lambdaSchedule } from './schedule';
import { DEFAULT_DREG_LAMBDA, resolveDregOptions } from './options';

describe('lambdaSchedule', () => {
  it('constant', () => {
    const s = lambdaSchedule(0.01);
    expect([s(0), s(100), s(-5)]).toEqual([0.01, 0.01, 0.01]);
    expect(s.spec).toEqual({ type: 'constant', value: 0.01 });
  });

  it('linear and cosine warm-up', () => {
    const lin = lambdaSchedule({ type: 'warmup', value: 2, warmupSteps: 10 });
    expect([lin(0), lin(5), lin(10), lin(50)]).toEqual([0, 1, 2, 2]);
    const cos = lambdaSchedule({ type: 'warmup', value: 2, warmupSteps: 10, shape: 'cosine' });
    expect(cos(0)).toBe(0);
    expect(cos(5)).toBeCloseTo(1, 12);
    expect(cos(2.5)).toBeCloseTo(1 - Math.SQRT1_2, 12);
    expect(cos(10)).toBe(2);
  });

  it('anneal (linear, cosine, exponential) with optional warm-up', () => {
    const lin = lambdaSchedule({ type: 'anneal', from: 1, to: 0.1, steps: 9 });
    expect(lin(0)).toBe(1);
    expect(lin(3)).toBeCloseTo(0.7, 12);
    expect(lin(9)).toBeCloseTo(0.1, 12);
    expect(lin(1000)).toBeCloseTo(0.1, 12);
    const cos = lambdaSchedule({ type: 'anneal', from: 0, to: 1, steps: 4, shape: 'cosine' });
    expect(cos(2)).toBeCloseTo(0.5, 12);
    const exp = lambdaSchedule({ type: 'anneal', from: 1e-1, to: 1e-3, steps: 10, shape: 'exponential', warmupSteps: 4 });
    expect(exp(2)).toBeCloseTo(0.05, 12);
    expect(exp(4)).toBeCloseTo(1e-1, 12);
    expect(exp(9)).toBeCloseTo(1e-2, 12);
    expect(exp(14)).toBeCloseTo(1e-3, 12);
  });

  it.each([
    [-1, 'lambda.value'],
    [{ type: 'warmup', value: 1, warmupSteps: 0 }, 'lambda.warmupSteps'],
    [{ type: 'warmup', value: 1, warmupSteps: 3, shape: 'step' }, 'lambda.shape'],
    [{ type: 'anneal', from: 0, to: 1, steps: 5, shape: 'exponential' }, 'lambda.shape'],
    [{ type: 'anneal', from: 1, to: 1, steps: 1.5 }, 'lambda.steps'],
    [{ type: 'cyclic' }, 'lambda'],
  ])('rejects %j naming %s', (spec, option) => {
    expect(() => lambdaSchedule(spec as never)).toThrow(ConfigError);
    expect(() => lambdaSchedule(spec as never)).toThrow(`option ${option}:`);
  });
});

describe('resolveDregOptions', () => {
  it('defaults: frobenius, λ = 10^-2.5, β = 1, no curvature', () => {
    const o = resolveDregOptions();
    expect(o.variant).toBe('frobenius');
    expect(o.lambda(0)).toBeCloseTo(DEFAULT_DREG_LAMBDA, 15);
    expect(DEFAULT_DREG_LAMBDA).toBeCloseTo(0.0031622776601683794, 15);
    expect([o.beta, o.curvature, o.seed]).toEqual([1, 0, 0]);
  });

  it.each([
    [{ variant: 'spectral' }, 'variant'],
    [{ beta: -1 }, 'beta'],
    [{ curvature: Number.NaN }, 'curvature'],
    [{ layerWeights: [1, -2] }, 'layerWeights'],
    [{ seed: 0.5 }, 'seed'],
    [{ lamda: 1 }, 'lamda'],
  ])('rejects %j naming %s', (o, option) => {
    expect(() => resolveDregOptions(o as never)).toThrow(`option ${option}:`);
  });
});
