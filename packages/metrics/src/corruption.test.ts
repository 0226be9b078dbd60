import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
import { corruptionAccuracy, corruptionErrors, type CorruptionAccuracy } from './corruption';

// Hand-computed case: 2 corruptions × 3 severities.
const MODEL: CorruptionAccuracy = { clean: 0.9, corruptions: { noise: [0.8, 0.7, 0.6], blur: [0.85, 0.75, 0.5] } };
const BASE: CorruptionAccuracy = { clean: 0.8, corruptions: { blur: [0.7, 0.6, 0.5], noise: [0.6, 0.5, 0.4] } };

describe('corruptionAccuracy', () => {
  it('computes mCA, relative mCA and the per-corruption / per-severity means', () => {
    const s = corruptionAccuracy(MODEL);
    // noise mean 0.7, blur mean 0.7 → mCA 0.7; relative 0.7 / 0.9
    expect(s.perCorruption.noise).toBeCloseTo(0.7, 14);
    expect(s.perCorruption.blur).toBeCloseTo(0.7, 14);
    expect(s.mCA).toBeCloseTo(0.7, 14);
    expect(s.relativeMCA).toBeCloseTo(0.7 / 0.9, 14);
    expect(s.perSeverity.map((v) => +v.toFixed(12))).toEqual([0.825, 0.725, 0.55]);
    expect(s.clean).toBe(0.9);
    expect(corruptionAccuracy({ clean: 0, corruptions: { a: [0] } }).relativeMCA).toBeNaN();
  });

  it('rejects invalid accuracies and ragged severities', () => {
    expect(() => corruptionAccuracy({ clean: 1.2, corruptions: { a: [0.5] } })).toThrow(/option model.clean: model.clean is 1.2/);
    expect(() => corruptionAccuracy({ clean: 0.9, corruptions: { a: [0.5, 0.4], b: [0.5] } })).toThrow(/corruption 'b' has 1 severities, expected 2/);
    expect(() => corruptionAccuracy({ clean: 0.9, corruptions: { a: [0.5, Number.NaN] } })).toThrow(/model.corruptions.a\[1\] is NaN/);
    expect(() => corruptionAccuracy({ clean: 0.9, corruptions: {} })).toThrow(ConfigError);
    expect(() => corruptionAccuracy({ clean: 0.9, corruptions: { a: [] } })).toThrow(ConfigError);
  });
});

describe('corruptionErrors', () => {
  it('computes CE, mCE, relative CE and relative mCE (hand case)', () => {
    const r = corruptionErrors(MODEL, BASE);
    // noise: Σ E = 0.2+0.3+0.4 = 0.9 vs 0.4+0.5+0.6 = 1.5 → 0.6
    // blur:  Σ E = 0.15+0.25+0.5 = 0.9 vs 0.3+0.4+0.5 = 1.2 → 0.75; mCE = 0.675
    expect(r.ce.noise).toBeCloseTo(0.6, 12);
    expect(r.ce.blur).toBeCloseTo(0.75, 12);
    expect(r.mCE).toBeCloseTo(0.675, 12);
    // relative, clean errors 0.1 (model) and 0.2 (baseline):
    // noise: (0.1+0.2+0.3) / (0.2+0.3+0.4) = 0.6/0.9; blur: (0.05+0.15+0.4) / (0.1+0.2+0.3) = 1
    expect(r.relativeCE.noise).toBeCloseTo(2 / 3, 12);
    expect(r.relativeCE.blur).toBeCloseTo(1, 12);
    expect(r.relativeMCE).toBeCloseTo(5 / 6, 12);
  });

  it('scores the baseline itself as exactly 1', () => {
    const r = corruptionErrors(BASE, BASE);
    expect(r.mCE).toBe(1);
    expect(r.relativeMCE).toBe(1);
  });

  it('gives NaN for a zero denominator and propagates it to the mean', () => {
    const perfect: CorruptionAccuracy = { clean: 1, corruptions: { noise: [1, 1, 1], blur: [0.7, 0.6, 0.5] } };
    const r = corruptionErrors(MODEL, perfect);
    expect(r.ce.noise).toBeNaN();
    expect(r.ce.blur).toBeCloseTo(0.75, 12);
    expect(r.mCE).toBeNaN();
    expect(r.relativeCE.noise).toBeNaN();
  });

  it('rejects mismatched corruptions or severities', () => {
    expect(() => corruptionErrors(MODEL, { clean: 0.8, corruptions: { noise: [0.6, 0.5, 0.4], fog: [0.5, 0.5, 0.5] } })).toThrow(
      /only in model: blur; only in baseline: fog/,
    );
    expect(() => corruptionErrors(MODEL, { clean: 0.8, corruptions: { noise: [0.6, 0.5], blur: [0.6, 0.5] } })).toThrow(
      /model has 3 severities per corruption, baseline 2/,
    );
    expect(() => corruptionErrors(MODEL, { clean: -0.1, corruptions: BASE.corruptions })).toThrow(/option baseline.clean/);
  });
});
