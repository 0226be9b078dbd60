import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
import { ALL_ZERO_NOTE, adjustPValues, correctedResampledTTest, meanStd, pairedTTest, wilcoxonSignedRank } from './comparison';

// Reference values below were computed with scipy 1.17 / numpy 2.4 (Debian
// python3-scipy) once, by hand; the tests do not run python.

// Ten 10-fold-CV accuracies of two models on Pima-sized folds (n_train 691, n_test 77).
const A = [0.753, 0.779, 0.74, 0.766, 0.792, 0.714, 0.753, 0.805, 0.727, 0.766];
const B = [0.74, 0.766, 0.753, 0.74, 0.779, 0.701, 0.727, 0.792, 0.727, 0.753];

describe('meanStd', () => {
  it('uses the sample std (ddof 1)', () => {
    // numpy: A.mean() = 0.7595, A.std(ddof=1) = 0.028249877089211502
    const r = meanStd(A);
    expect(r.mean).toBeCloseTo(0.7595, 14);
    expect(r.std).toBeCloseTo(0.028249877089211502, 14);
    expect(r.n).toBe(10);
    // hand case: [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, Σ(x-5)² = 32, s = sqrt(32/7).
    expect(meanStd(Float32Array.from([2, 4, 4, 4, 5, 5, 7, 9])).std).toBeCloseTo(Math.sqrt(32 / 7), 14);
    expect(meanStd([3]).std).toBeNaN();
    expect(() => meanStd([])).toThrow(ConfigError);
    expect(() => meanStd([1, Number.NaN])).toThrow(/value 1 is NaN/);
  });
});

describe('pairedTTest', () => {
  it('matches scipy.stats.ttest_rel', () => {
    // ttest_rel(A, B) → t = 3.2504180333157686, p = 0.009990684849755101
    const r = pairedTTest(A, B);
    expect(r.statistic).toBeCloseTo(3.2504180333157686, 10);
    expect(r.p).toBeCloseTo(0.009990684849755101, 12);
    expect(r.df).toBe(9);
    // ttest_rel([1..8], [0,1,1,5,4,3,9,6]) → t = 1.5071573172061195, p = 0.17549944935850106
    const s = pairedTTest([1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 1, 5, 4, 3, 9, 6]);
    expect(s.statistic).toBeCloseTo(1.5071573172061195, 12);
    expect(s.p).toBeCloseTo(0.17549944935850106, 12);
    expect(pairedTTest(B, A).statistic).toBeCloseTo(-3.2504180333157686, 10);
  });

  it('returns p = 1 with a note when all differences are zero', () => {
    expect(pairedTTest([0.7, 0.8, 0.9], [0.7, 0.8, 0.9])).toEqual({ statistic: 0, p: 1, df: 2, note: ALL_ZERO_NOTE });
    const c = pairedTTest([1, 2, 3], [0, 1, 2]);
    expect(c.p).toBe(0);
    expect(c.note).toMatch(/zero variance/);
  });

  it('rejects unequal lengths, too few pairs and non-finite values', () => {
    expect(() => pairedTTest([1, 2, 3], [1, 2])).toThrow(/option b: paired samples must have the same length, got 3 and 2/);
    expect(() => pairedTTest([1], [2])).toThrow(ConfigError);
    expect(() => pairedTTest([1, Infinity], [2, 3])).toThrow(/option a: pair 1 is \(Infinity, 3\)/);
  });
});

describe('wilcoxonSignedRank', () => {
  it('matches scipy.stats.wilcoxon (exact, no ties) and reports min(T+, T-)', () => {
    // d = [.5, 1.5, -2.5, 3.5, 4.5, 5.5, 6.5, -7.5, 8.5, 9.5]: T- = 3 + 8 = 11, T+ = 44;
    // scipy.stats.wilcoxon → statistic 11.0, p = 0.10546875 (exact).
    const x = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const d = [0.5, 1.5, -2.5, 3.5, 4.5, 5.5, 6.5, -7.5, 8.5, 9.5];
    const r = wilcoxonSignedRank(x, x.map((v, i) => v - d[i]));
    expect(r.statistic).toBe(11);
    expect(r.p).toBeCloseTo(0.10546875, 14);
    expect(r.note).toBe('exact signed-rank distribution');
    // swapping the samples swaps T+ and T-: same statistic and p
    const s = wilcoxonSignedRank(x.map((v, i) => v - d[i]), x);
    expect(s.statistic).toBe(11);
    expect(s.p).toBeCloseTo(0.10546875, 14);
  });

  it('matches scipy method="approx", correction=True with ties and zeros', () => {
    // scipy.stats.wilcoxon([1..8], [0,1,1,5,4,3,9,6], method='approx', correction=True)
    //   → statistic 8.5, p = 0.19968592093575832
    const t = wilcoxonSignedRank([1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 1, 5, 4, 3, 9, 6]);
    expect(t.statistic).toBe(8.5);
    expect(t.p).toBeCloseTo(0.19968592093575832, 12);
    expect(t.note).toMatch(/normal approximation .*tied/);
    // ... ([1..9], [1,1,1,5,4,3,9,6,2]) → statistic 7.0, p = 0.13756389390990328
    const z = wilcoxonSignedRank([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 1, 5, 4, 3, 9, 6, 2]);
    expect(z.statistic).toBe(7);
    expect(z.p).toBeCloseTo(0.13756389390990328, 12);
    expect(z.note).toMatch(/1 zero differences dropped/);
    // the fold accuracies: statistic 4.0, p = 0.02458856644885874
    const f = wilcoxonSignedRank(A, B);
    expect(f.statistic).toBe(4);
    expect(f.p).toBeCloseTo(0.02458856644885874, 12);
  });

  it('returns p = 1 with a note when all differences are zero (stdlib throws)', () => {
    expect(wilcoxonSignedRank([1, 2, 3], [1, 2, 3])).toEqual({ statistic: 0, p: 1, note: ALL_ZERO_NOTE });
  });
});

describe('correctedResampledTTest', () => {
  it('matches the Nadeau–Bengio formula evaluated with scipy', () => {
    // d = A - B, k = 10: t = mean(d) / sqrt((1/10 + 77/691) var(d, ddof=1)) = 2.2353891287057848,
    // p = 2 * scipy.stats.t.sf(|t|, 9) = 0.05223511655493789
    const r = correctedResampledTTest(A, B, { nTrain: 691, nTest: 77 });
    expect(r.statistic).toBeCloseTo(2.2353891287057848, 10);
    expect(r.p).toBeCloseTo(0.05223511655493789, 12);
    expect(r.df).toBe(9);
    // it is always less significant than the naive paired t-test
    expect(r.p).toBeGreaterThan(pairedTTest(A, B).p);
  });

  it('keeps precision in the far tail', () => {
    // scipy: t = 1307.963877281739, p = 2.0500599338846434e-12 (n_test/n_train = 0.25)
    const a = [0.9, 0.91, 0.92, 0.93, 0.94];
    const b = a.map((v, i) => v - [0.1, 0.1001, 0.1002, 0.0999, 0.1][i]);
    const r = correctedResampledTTest(a, b, { nTrain: 400, nTest: 100 });
    expect(r.statistic).toBeCloseTo(1307.963877281739, 5);
    expect(r.p / 2.0500599338846434e-12).toBeCloseTo(1, 6);
  });

  it('reduces to the paired t-test as n_test/n_train → 0', () => {
    const r = correctedResampledTTest(A, B, { nTrain: 1e12, nTest: 1 });
    const p = pairedTTest(A, B);
    expect(r.statistic).toBeCloseTo(p.statistic, 8);
    expect(r.p).toBeCloseTo(p.p, 10);
  });

  it('handles degenerate differences and rejects bad sizes', () => {
    expect(correctedResampledTTest([1, 2], [1, 2], { nTrain: 9, nTest: 1 })).toEqual({ statistic: 0, p: 1, df: 1, note: ALL_ZERO_NOTE });
    const c = correctedResampledTTest([1, 2, 3], [0.5, 1.5, 2.5], { nTrain: 9, nTest: 1 });
    expect(c.statistic).toBe(Infinity);
    expect(c.p).toBe(0);
    expect(() => correctedResampledTTest(A, B, { nTrain: 0, nTest: 77 })).toThrow(/option nTrain: nTrain must be a positive number, got 0/);
    expect(() => correctedResampledTTest(A, B, { nTrain: 691, nTest: Number.NaN })).toThrow(/option nTest/);
    expect(() => correctedResampledTTest([1], [2], { nTrain: 9, nTest: 1 })).toThrow(/at least 2 paired values/);
  });
});

describe('adjustPValues', () => {
  it('applies Holm and Bonferroni (R p.adjust values)', () => {
    // sorted 0.01, 0.03, 0.04, 0.2 with m = 4: Holm 0.04, 0.09, max(0.09, 0.08) = 0.09, 0.2
    expect(adjustPValues([0.01, 0.04, 0.03, 0.2], 'holm')).toEqual([0.04, 0.09, 0.09, 0.2].map((v) => expect.closeTo(v, 14)));
    expect(adjustPValues([0.01, 0.04, 0.03, 0.3], 'bonferroni')).toEqual([0.04, 0.16, 0.12, 1].map((v) => expect.closeTo(v, 14)));
    expect(adjustPValues([], 'holm')).toEqual([]);
    expect(adjustPValues([0.5], 'holm')).toEqual([0.5]);
  });

  it('rejects unknown methods and invalid p-values', () => {
    expect(() => adjustPValues([0.1], 'bh' as never)).toThrow(/unknown p-value correction 'bh'; valid: holm, bonferroni/);
    expect(() => adjustPValues([0.1, 1.2], 'holm')).toThrow(/option p: p-value 1 is 1.2/);
    expect(() => adjustPValues([Number.NaN], 'holm')).toThrow(ConfigError);
  });
});
