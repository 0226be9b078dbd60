import { describe, expect, it } from 'vitest';
import { adjustPValues, wilcoxonSignedRank } from './comparison';
import {
  averageRanks,
  bonferroniDunnCriticalValue,
  compareWithControl,
  criticalDifference,
  friedmanFromAverageRanks,
  friedmanTest,
  multipleComparison,
  nemenyiCriticalValue,
  notSignificantlyDifferentGroups,
} from './multiple-comparisons';

// Demšar (2006), JMLR 7:1–30, Table 6: AUC of four C4.5 variants on 14 data sets,
// with the ranks printed in the paper. The published ranks of 'voting' (2 and 3 for two
// AUCs printed as 0.975) come from unrounded values; VOTING_UNROUNDED restores that order.
const METHODS = ['C4.5', 'C4.5+m', 'C4.5+cf', 'C4.5+m+cf'];
const AUC = [
  [0.763, 0.768, 0.771, 0.798], // adult (sample)
  [0.599, 0.591, 0.59, 0.569], // breast cancer
  [0.954, 0.971, 0.968, 0.967], // breast cancer wisconsin
  [0.628, 0.661, 0.654, 0.657], // cmc
  [0.882, 0.888, 0.886, 0.898], // ionosphere
  [0.936, 0.931, 0.916, 0.931], // iris
  [0.661, 0.668, 0.609, 0.685], // liver disorders
  [0.583, 0.583, 0.563, 0.625], // lung cancer
  [0.775, 0.838, 0.866, 0.875], // lymphography
  [1.0, 1.0, 1.0, 1.0], // mushroom
  [0.94, 0.962, 0.965, 0.962], // primary tumor
  [0.619, 0.666, 0.614, 0.669], // rheum
  [0.972, 0.981, 0.975, 0.975], // voting
  [0.957, 0.978, 0.946, 0.97], // wine
];
const PUBLISHED_RANKS = [
  [4, 3, 2, 1],
  [1, 2, 3, 4],
  [4, 1, 2, 3],
  [4, 1, 3, 2],
  [4, 2, 3, 1],
  [1, 2.5, 4, 2.5],
  [3, 2, 4, 1],
  [2.5, 2.5, 4, 1],
  [4, 3, 2, 1],
  [2.5, 2.5, 2.5, 2.5],
  [4, 2.5, 1, 2.5],
  [3, 2, 4, 1],
  [4, 1, 2, 3],
  [3, 1, 4, 2],
];
const VOTING = 12;
const AUC_UNROUNDED = AUC.map((r, i) => (i === VOTING ? [0.972, 0.981, 0.9751, 0.975] : r));

describe('Demšar (2006) worked example', () => {
  it('ranks: every row as published (ties share the average rank), except voting whose printed AUCs tie', () => {
    const { ranks } = averageRanks(AUC);
    ranks.forEach((row, i) => {
      if (i === VOTING) expect(row).toEqual([4, 1, 2.5, 2.5]);
      else expect(row).toEqual(PUBLISHED_RANKS[i]);
    });
    expect(averageRanks(AUC_UNROUNDED).ranks).toEqual(PUBLISHED_RANKS);
  });

  it('average ranks 3.143, 2.000, 2.893, 1.964; χ²_F = 9.28, F_F = 3.69 (df 3, 39), p < 0.05; CD 1.25 (α .05) and 1.12 (α .10); Bonferroni–Dunn CD 1.16', () => {
    const f = friedmanTest(AUC_UNROUNDED);
    [3.143, 2.0, 2.893, 1.964].forEach((r, j) => expect(f.averageRanks[j]).toBeCloseTo(r, 3));
    expect(f.chiSquare).toBeCloseTo(9.28, 2);
    expect(f.df).toBe(3);
    expect(f.imanDavenport.statistic).toBeCloseTo(3.69, 2);
    expect([f.imanDavenport.df1, f.imanDavenport.df2]).toEqual([3, 39]);
    // scipy 1.17: chi2.sf(9.278571428571437, 3) = 0.025807496707063185, f.sf(3.686313032089068, 3, 39) = 0.019823006192249054
    expect(f.chiSquare).toBeCloseTo(9.278571428571437, 10);
    expect(f.p).toBeCloseTo(0.025807496707063185, 10);
    expect(f.imanDavenport.statistic).toBeCloseTo(3.686313032089068, 10);
    expect(f.imanDavenport.p).toBeCloseTo(0.019823006192249054, 10);
    // the paper works from the rounded ranks; the same numbers come out
    const g = friedmanFromAverageRanks([3.143, 2.0, 2.893, 1.964], 14);
    expect(g.chiSquare).toBeCloseTo(9.28, 2);
    expect(g.imanDavenport.statistic).toBeCloseTo(3.69, 2);
    expect(criticalDifference(4, 14, 0.05)).toBeCloseTo(1.25, 2);
    expect(criticalDifference(4, 14, 0.1)).toBeCloseTo(1.12, 2);
    expect(Math.abs(criticalDifference(4, 14, 0.05, 'bonferroni-dunn') - 1.16)).toBeLessThan(0.01); // 2.394·0.488 = 1.168
  });

  it('groups at α = 0.10: C4.5 is worse than C4.5+m and C4.5+m+cf; C4.5+cf is undecided (in both groups); at α = 0.05 one group', () => {
    const r = multipleComparison(AUC_UNROUNDED, METHODS, { alpha: 0.1 });
    expect(r.nemenyi.groups).toEqual([
      ['C4.5+m+cf', 'C4.5+m', 'C4.5+cf'],
      ['C4.5+cf', 'C4.5'],
    ]);
    expect(multipleComparison(AUC_UNROUNDED, METHODS).nemenyi.groups).toEqual([['C4.5+m+cf', 'C4.5+m', 'C4.5+cf', 'C4.5']]);
  });

  it('against the control C4.5: z = 2.416, 2.342, 0.512 and p = 0.016, 0.019, 0.607 (the paper), Holm rejects the first two', () => {
    const c = compareWithControl(AUC_UNROUNDED, METHODS, 'C4.5');
    expect(c.map((x) => x.method)).toEqual(['C4.5+m', 'C4.5+cf', 'C4.5+m+cf']);
    // z = (R_control − R_j)/SE in the paper; ours is (R_j − R_control)/SE: a better method has z < 0
    const byName = Object.fromEntries(c.map((x) => [x.method, x]));
    expect(-byName['C4.5+m+cf'].rankZ.z).toBeCloseTo(2.416, 2);
    expect(-byName['C4.5+m'].rankZ.z).toBeCloseTo(2.342, 2);
    expect(-byName['C4.5+cf'].rankZ.z).toBeCloseTo(0.512, 2);
    expect(byName['C4.5+m+cf'].rankZ.p).toBeCloseTo(0.016, 3);
    expect(byName['C4.5+m'].rankZ.p).toBeCloseTo(0.019, 3);
    expect(Math.abs(byName['C4.5+cf'].rankZ.p - 0.607)).toBeLessThan(2e-3);
    expect(byName['C4.5+m+cf'].rankZ.pHolm).toBeLessThan(0.05);
    expect(byName['C4.5+m'].rankZ.pHolm).toBeLessThan(0.05);
    expect(byName['C4.5+cf'].rankZ.pHolm).toBeGreaterThan(0.05);
    // the Wilcoxon part is wilcoxonSignedRank per pair, Holm-adjusted over the three
    const w = [1, 2, 3].map((j) => wilcoxonSignedRank(AUC_UNROUNDED.map((r) => r[0]), AUC_UNROUNDED.map((r) => r[j])));
    expect(c.map((x) => x.wilcoxon)).toEqual(w);
    expect(c.map((x) => x.pHolm)).toEqual(adjustPValues(w.map((t) => t.p), 'holm'));
    expect(byName['C4.5+m+cf']).toMatchObject({ wins: 2, ties: 1, losses: 11 }); // C4.5 better only on breast cancer and iris
  });
});

describe('critical values', () => {
  // Demšar (2006), Table 5: (a) Nemenyi q_α = studentized range / √2, (b) Bonferroni–Dunn, k = 2…10
  const NEMENYI = {
    0.05: [1.96, 2.343, 2.569, 2.728, 2.85, 2.949, 3.031, 3.102, 3.164],
    0.1: [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.78, 2.855, 2.92],
  };
  const DUNN = {
    0.05: [1.96, 2.241, 2.394, 2.498, 2.576, 2.638, 2.69, 2.724, 2.773],
    0.1: [1.645, 1.96, 2.128, 2.241, 2.326, 2.394, 2.45, 2.498, 2.539],
  };

  it("Nemenyi q_α reproduces Demšar's Table 5(a) to the printed precision (±0.001)", () => {
    for (const [a, qs] of Object.entries(NEMENYI)) qs.forEach((q, i) => expect(Math.abs(nemenyiCriticalValue(i + 2, Number(a)) - q)).toBeLessThanOrEqual(0.0011));
    // beyond the table: scipy.stats.studentized_range.ppf(0.95, k, inf)/√2 for k = 12, 15, 20
    expect(nemenyiCriticalValue(12)).toBeCloseTo(3.268003924466142, 4);
    expect(nemenyiCriticalValue(15)).toBeCloseTo(3.391230283765257, 4);
    expect(nemenyiCriticalValue(20)).toBeCloseTo(3.5437991315177815, 4);
  });

  it("Bonferroni–Dunn reproduces Table 5(b) (±0.001) except its misprinted k = 9, α = 0.05 entry (2.724; z_{1−0.05/16} = 2.734)", () => {
    for (const [a, qs] of Object.entries(DUNN)) {
      qs.forEach((q, i) => {
        const v = bonferroniDunnCriticalValue(i + 2, Number(a));
        if (i + 2 === 9 && a === '0.05') expect(v).toBeCloseTo(2.7344, 3);
        else expect(Math.abs(v - q)).toBeLessThanOrEqual(0.0011);
      });
    }
  });

  it('refuses bad k, N, α and test names', () => {
    expect(() => nemenyiCriticalValue(1)).toThrow(/option k.*integer ≥ 2, got 1/s);
    expect(() => nemenyiCriticalValue(4, 1.5)).toThrow(/option alpha.*\(0, 1\), got 1.5/s);
    expect(() => criticalDifference(4, 0)).toThrow(/option n/);
    expect(() => criticalDifference(4, 10, 0.05, 'tukey' as 'nemenyi')).toThrow(/option test/);
  });
});

describe('Friedman test and ranks', () => {
  // no ties within rows: scipy.stats.friedmanchisquare gives Demšar's χ²_F
  // (friedmanchisquare → 13.200000000000003, p 0.0042234636586863565; F_F = 13.75, f.sf → 0.00014035366684813185)
  const T = [
    [0.81, 0.79, 0.83, 0.8],
    [0.72, 0.7, 0.75, 0.71],
    [0.9, 0.91, 0.93, 0.89],
    [0.66, 0.61, 0.68, 0.65],
    [0.77, 0.78, 0.8, 0.74],
    [0.85, 0.82, 0.86, 0.84],
  ];
  it('matches scipy without ties; rank 1 = highest score unless higherIsBetter is false', () => {
    const f = friedmanTest(T);
    expect(f.chiSquare).toBeCloseTo(13.2, 10);
    expect(f.p).toBeCloseTo(0.0042234636586863565, 12);
    expect(f.imanDavenport.statistic).toBeCloseTo(13.75, 10);
    expect(f.imanDavenport.p).toBeCloseTo(0.00014035366684813185, 12);
    expect(f.averageRanks.map((r) => +r.toFixed(6))).toEqual([2.333333, 3.333333, 1, 3.333333]);
    const err = T.map((r) => r.map((v) => 1 - v));
    expect(averageRanks(err, { higherIsBetter: false }).averageRanks).toEqual(f.averageRanks);
    expect(averageRanks([[3, 1, 2]]).ranks[0]).toEqual([1, 3, 2]);
    expect(averageRanks([[3, 1, 2]], { higherIsBetter: false }).ranks[0]).toEqual([3, 1, 2]);
  });

  it('hand cases: identical order everywhere gives F_F = ∞ (noted); identical scores give χ² = 0, p = 1', () => {
    const same = friedmanTest([
      [3, 2, 1],
      [0.9, 0.5, 0.1],
      [5, 4, 3],
    ]);
    // R = (1, 2, 3): χ² = 12·3/(3·4)·(14 − 12) = 6
    expect(same.chiSquare).toBeCloseTo(6, 12);
    expect(same.imanDavenport).toEqual({ statistic: Infinity, df1: 2, df2: 4, p: 0 });
    expect(same.note).toMatch(/same order/);
    const flat = friedmanTest([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(flat.chiSquare).toBe(0);
    expect(flat.p).toBe(1);
    expect(flat.imanDavenport.p).toBe(1);
  });

  it('refuses ragged, non-finite or too small tables, naming row and column', () => {
    expect(() => friedmanTest([[1, 2, 3]])).toThrow(/option scores.*at least 2 data sets/s);
    expect(() => friedmanTest([[1], [2]])).toThrow(/at least 2 methods/);
    expect(() => friedmanTest([[1, 2], [1, 2, 3]])).toThrow(/row 1 has 3 scores, row 0 has 2/);
    expect(() => friedmanTest([[1, 2], [1, NaN]])).toThrow(/row 1, column 1 is NaN/);
    expect(() => multipleComparison(T, ['a', 'b', 'c'])).toThrow(/option methods.*need 4 method names/s);
    expect(() => multipleComparison(T, ['a', 'b', 'c', 'a'])).toThrow(/distinct/);
    expect(() => compareWithControl(T, ['a', 'b', 'c', 'd'], 'e')).toThrow(/option control.*'e' is not one of the methods \(a, b, c, d\)/s);
  });

  it('groups: maximal runs with rank range < CD, contained runs and singletons dropped', () => {
    expect(notSignificantlyDifferentGroups([1, 1.5, 3, 3.2, 5], 1)).toEqual([[0, 1], [2, 3]]);
    expect(notSignificantlyDifferentGroups([1, 2, 3], 0.5)).toEqual([]);
    expect(notSignificantlyDifferentGroups([3, 1, 2], 10)).toEqual([[1, 2, 0]]);
    expect(notSignificantlyDifferentGroups([1, 1.9, 2.8], 1)).toEqual([[0, 1], [1, 2]]);
    expect(() => notSignificantlyDifferentGroups([1, 2], 0)).toThrow(/option cd/);
  });

  it('multipleComparison bundles it all, with the control part only when asked', () => {
    const r = multipleComparison(T, ['a', 'b', 'c', 'd'], { control: 'c' });
    expect(r.n).toBe(6);
    expect(r.k).toBe(4);
    expect(r.alpha).toBe(0.05);
    expect(r.nemenyi.cd).toBeCloseTo(criticalDifference(4, 6), 12);
    expect(r.control!.bonferroniDunn.cd).toBeCloseTo(criticalDifference(4, 6, 0.05, 'bonferroni-dunn'), 12);
    expect(r.control!.comparisons.map((c) => c.method)).toEqual(['a', 'b', 'd']);
    expect(JSON.parse(JSON.stringify(r))).toMatchObject({ methods: ['a', 'b', 'c', 'd'] });
    expect(multipleComparison(T, ['a', 'b', 'c', 'd']).control).toBeUndefined();
  });
});
