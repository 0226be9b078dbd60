import { ConfigError } from '@chainz/core';
import ranks from '@stdlib/stats-ranks';
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import fCdf from '@stdlib/stats-base-dists-f-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import jstat from 'jstat';
import { adjustPValues, wilcoxonSignedRank, type TestResult } from './comparison';

/*
 * Comparing k methods over N data sets (Demšar 2006, "Statistical Comparisons
 * of Classifiers over Multiple Data Sets", JMLR 7): average ranks, the Friedman
 * test with the Iman–Davenport F correction, the Nemenyi critical difference
 * (all pairs) and the Bonferroni–Dunn one (against a control), and per pair
 * Wilcoxon signed-rank tests with Holm's correction. Distributions come from
 * @stdlib (χ², F, normal) and jStat (the studentized range); the formulas
 * below are the only code written here.
 */

/** Scores of k methods on N data sets: `scores[i][j]` = score of method j on data set i (rows = data sets). */
export type ScoreTable = ArrayLike<ArrayLike<number>>;

/** Options shared by the functions of this module. */
export interface RankOptions {
  /** True (default) when a higher score is better (accuracy): the best method of a data set gets rank 1. False for errors/losses. */
  higherIsBetter?: boolean;
}

function checkTable(scores: ScoreTable, minRows = 2): number[][] {
  if (!scores || typeof scores.length !== 'number') throw new ConfigError('scores must be an array of rows (one per data set)', { option: 'scores' });
  const rows = Array.from(scores, (r) => Array.from(r ?? []));
  if (rows.length < minRows) throw new ConfigError(`need at least ${minRows} data sets (rows), got ${rows.length}`, { option: 'scores' });
  const k = rows[0].length;
  if (k < 2) throw new ConfigError(`need at least 2 methods (columns), got ${k}`, { option: 'scores' });
  rows.forEach((r, i) => {
    if (r.length !== k) throw new ConfigError(`row ${i} has ${r.length} scores, row 0 has ${k}`, { option: 'scores' });
    const bad = r.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (bad >= 0) throw new ConfigError(`row ${i}, column ${bad} is ${r[bad]}; every score must be finite`, { option: 'scores' });
  });
  return rows;
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new ConfigError(`must be in (0, 1), got ${alpha}`, { option: 'alpha' });
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 2) throw new ConfigError(`the number of methods must be an integer ≥ 2, got ${k}`, { option: 'k' });
}

/**
 * Ranks of the methods on each data set and their averages (Demšar 2006 §3.2.2):
 * r_i^j is the rank of method j on data set i (1 = best; ties share the average
 * of the ranks they span, e.g. two methods tied for first both get 1.5), and
 * R_j = (1/N)·Σ_i r_i^j. Ranking per row by `@stdlib/stats-ranks` (method
 * `average`). Σ_j R_j = k(k + 1)/2.
 *
 * @param scores `[N][k]` (rows = data sets), all finite, N ≥ 1, k ≥ 2.
 * @param opts `higherIsBetter` (default true).
 * @returns `{ ranks: [N][k], averageRanks: [k] }`.
 * @throws ConfigError for a ragged or non-finite table, N < 1 or k < 2.
 */
export function averageRanks(scores: ScoreTable, opts: RankOptions = {}): { ranks: number[][]; averageRanks: number[] } {
  const rows = checkTable(scores, 1);
  const sign = opts.higherIsBetter === false ? 1 : -1; // stdlib ranks ascending: rank 1 = smallest
  const r = rows.map((row) => ranks(row.map((v) => sign * v), { method: 'average' }) as number[]);
  const k = rows[0].length;
  const avg = Array.from({ length: k }, (_, j) => r.reduce((s, row) => s + row[j], 0) / r.length);
  return { ranks: r, averageRanks: avg };
}

/** Result of {@link friedmanTest}. */
export interface FriedmanResult {
  /** Number of methods k and data sets N. */
  k: number;
  n: number;
  /** Average rank R_j of each method (1 = best). */
  averageRanks: number[];
  /** Friedman's statistic χ²_F and its degrees of freedom k − 1. */
  chiSquare: number;
  df: number;
  /** p-value of χ²_F under the χ²(k − 1) approximation. */
  p: number;
  /** Iman–Davenport's F_F with df (k − 1, (k − 1)(N − 1)) and its p-value (Demšar's recommended form). */
  imanDavenport: { statistic: number; df1: number; df2: number; p: number };
  /** Set when a degenerate case needed a convention. */
  note?: string;
}

/**
 * Friedman test from average ranks (Demšar 2006, eqs. in §3.2.2):
 *
 *     χ²_F = 12N / (k(k + 1)) · [Σ_j R_j² − k(k + 1)²/4],   df = k − 1
 *     F_F  = (N − 1)·χ²_F / (N(k − 1) − χ²_F),              df = (k − 1, (k − 1)(N − 1))
 *
 * p-values from the χ² and F upper tails (`@stdlib/stats-base-dists-chisquare-cdf`,
 * `…-f-cdf`). No tie correction (Demšar's form; scipy's `friedmanchisquare`
 * divides by a tie factor and is larger when rows have ties). When every data set
 * ranks the methods identically, N(k − 1) − χ²_F = 0: F_F = +∞ and p = 0 (noted).
 *
 * @param avgRanks R_j, length k ≥ 2. @param n number of data sets N ≥ 2.
 * @throws ConfigError for k < 2, N < 2 or ranks outside [1, k].
 */
export function friedmanFromAverageRanks(avgRanks: ArrayLike<number>, n: number): FriedmanResult {
  const R = Array.from(avgRanks);
  const k = R.length;
  checkK(k);
  if (!Number.isInteger(n) || n < 2) throw new ConfigError(`the number of data sets must be an integer ≥ 2, got ${n}`, { option: 'n' });
  const bad = R.findIndex((r) => !(r >= 1 && r <= k));
  if (bad >= 0) throw new ConfigError(`average rank ${bad} is ${R[bad]}, outside [1, ${k}]`, { option: 'averageRanks' });
  const chi = Math.max(0, ((12 * n) / (k * (k + 1))) * (R.reduce((s, r) => s + r * r, 0) - (k * (k + 1) ** 2) / 4));
  const df = k - 1;
  const df1 = k - 1;
  const df2 = (k - 1) * (n - 1);
  const denom = n * (k - 1) - chi;
  const result: FriedmanResult = {
    k,
    n,
    averageRanks: R,
    chiSquare: chi,
    df,
    p: Math.min(1, Math.max(0, 1 - chisquareCdf(chi, df))),
    imanDavenport: { statistic: 0, df1, df2, p: 1 },
  };
  if (denom <= 1e-12 * n * (k - 1)) {
    result.imanDavenport = { statistic: Infinity, df1, df2, p: 0 };
    result.note = 'every data set ranks the methods in the same order: F_F = +∞ (p = 0 by convention)';
  } else {
    const F = ((n - 1) * chi) / denom;
    result.imanDavenport = { statistic: F, df1, df2, p: Math.min(1, Math.max(0, 1 - fCdf(F, df1, df2))) };
  }
  return result;
}

/**
 * Friedman test of H0 "all k methods perform alike" over N data sets, with the
 * Iman–Davenport correction (see {@link friedmanFromAverageRanks} for the
 * equations); ranks by {@link averageRanks}.
 *
 * @param scores `[N][k]` (rows = data sets), N ≥ 2, k ≥ 2.
 * @param opts `higherIsBetter` (default true).
 * @throws ConfigError for a ragged or non-finite table, N < 2 or k < 2.
 */
export function friedmanTest(scores: ScoreTable, opts: RankOptions = {}): FriedmanResult {
  const rows = checkTable(scores, 2);
  return friedmanFromAverageRanks(averageRanks(rows, opts).averageRanks, rows.length);
}

const { jStat } = jstat as unknown as { jStat: { tukey: { inv(p: number, nmeans: number, df: number): number } } };

/**
 * Critical value q_α of the two-tailed Nemenyi test for k methods: the upper-α
 * quantile of the studentized range of k independent standard normals (infinite
 * degrees of freedom) divided by √2, from jStat's `tukey.inv` (a port of R's
 * `qtukey`). Reproduces Demšar 2006, Table 5(a) (k = 2…10, α = 0.05 and 0.10)
 * to ±0.001 (tested), e.g. q_0.05 = 2.569 for k = 4.
 *
 * @param k number of methods ≥ 2. @param alpha significance level (default 0.05).
 * @throws ConfigError for k < 2 or α outside (0, 1).
 */
export function nemenyiCriticalValue(k: number, alpha = 0.05): number {
  checkK(k);
  checkAlpha(alpha);
  return jStat.tukey.inv(1 - alpha, k, Infinity) / Math.SQRT2;
}

/**
 * Critical value of the two-tailed Bonferroni–Dunn test of k − 1 methods
 * against a control: z_{1 − α/(2(k − 1))} (`@stdlib/stats-base-dists-normal-quantile`).
 * Reproduces Demšar 2006, Table 5(b) to ±0.001 (tested) except its k = 9,
 * α = 0.05 entry, printed 2.724 where z_{1 − 0.05/16} = 2.734.
 *
 * @param k number of methods including the control, ≥ 2. @param alpha default 0.05.
 * @throws ConfigError for k < 2 or α outside (0, 1).
 */
export function bonferroniDunnCriticalValue(k: number, alpha = 0.05): number {
  checkK(k);
  checkAlpha(alpha);
  return normalQuantile(1 - alpha / (2 * (k - 1)), 0, 1);
}

/** Post-hoc test behind a critical difference. */
export type PostHocTest = 'nemenyi' | 'bonferroni-dunn';

/**
 * Critical difference of average ranks (Demšar 2006, §3.2.2):
 *
 *     CD = q_α · sqrt(k(k + 1) / (6N))
 *
 * with q_α from {@link nemenyiCriticalValue} (all pairs) or
 * {@link bonferroniDunnCriticalValue} (each method against one control). Two
 * methods differ significantly when their average ranks differ by at least CD.
 *
 * @param k methods ≥ 2. @param n data sets ≥ 1. @param alpha default 0.05.
 * @param test `'nemenyi'` (default) or `'bonferroni-dunn'`.
 * @throws ConfigError for invalid k, N, α or test.
 */
export function criticalDifference(k: number, n: number, alpha = 0.05, test: PostHocTest = 'nemenyi'): number {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`the number of data sets must be an integer ≥ 1, got ${n}`, { option: 'n' });
  if (test !== 'nemenyi' && test !== 'bonferroni-dunn') throw new ConfigError(`must be 'nemenyi' or 'bonferroni-dunn', got ${JSON.stringify(test)}`, { option: 'test' });
  const q = test === 'nemenyi' ? nemenyiCriticalValue(k, alpha) : bonferroniDunnCriticalValue(k, alpha);
  return q * Math.sqrt((k * (k + 1)) / (6 * n));
}

/**
 * Groups of methods whose average ranks are not significantly different — the
 * thick bars of a critical-difference diagram: with the methods sorted by
 * average rank, every maximal run i..j with R_(j) − R_(i) < CD (runs inside a
 * longer run are dropped, and so are single methods).
 *
 * @param avgRanks R_j per method. @param cd the critical difference (> 0).
 * @returns groups as lists of method indices, each sorted by rank (best first);
 *   groups ordered by their best rank.
 * @throws ConfigError for a non-positive or non-finite CD.
 */
export function notSignificantlyDifferentGroups(avgRanks: ArrayLike<number>, cd: number): number[][] {
  if (!(cd > 0 && Number.isFinite(cd))) throw new ConfigError(`the critical difference must be a finite number > 0, got ${cd}`, { option: 'cd' });
  const R = Array.from(avgRanks);
  const order = R.map((_, j) => j).sort((a, b) => R[a] - R[b] || a - b);
  const groups: number[][] = [];
  let lastEnd = -1;
  for (let i = 0; i < order.length; i++) {
    let j = i;
    while (j + 1 < order.length && R[order[j + 1]] - R[order[i]] < cd) j++;
    if (j > i && j > lastEnd) {
      groups.push(order.slice(i, j + 1));
      lastEnd = j;
    }
  }
  return groups;
}

/** One method compared with the control by {@link compareWithControl}. */
export interface ControlComparison {
  /** The method compared with the control. */
  method: string;
  /** Mean over data sets of (control − method) scores. */
  meanDifference: number;
  /** Data sets where the control scores better / equal / worse (by `higherIsBetter`). */
  wins: number;
  ties: number;
  losses: number;
  /** Wilcoxon signed-rank test on the N paired scores (two-sided; see `wilcoxonSignedRank`). */
  wilcoxon: TestResult;
  /** Holm-adjusted Wilcoxon p-value over the k − 1 comparisons. */
  pHolm: number;
  /** Rank-based z test of Demšar §3.2.2: z = (R_method − R_control)/sqrt(k(k + 1)/(6N)), two-sided p, Holm-adjusted. */
  rankZ: { z: number; p: number; pHolm: number };
}

/**
 * Compares one control method (e.g. DREG) with each other method over N data
 * sets: per pair the Wilcoxon signed-rank test on the paired per-data-set scores
 * (`wilcoxonSignedRank`, `@stdlib/stats-wilcoxon`), with Holm's step-down
 * correction over the k − 1 comparisons (`adjustPValues`); and Demšar's
 * rank-based z statistic z = (R_j − R_control)/sqrt(k(k + 1)/(6N)) with its
 * two-sided normal p-value, also Holm-adjusted.
 *
 * @param scores `[N][k]`, N ≥ 2. @param methods k names (column order).
 * @param control name of the control method.
 * @param opts `higherIsBetter` (default true).
 * @returns one entry per other method, in column order.
 * @throws ConfigError for a bad table, names that do not match the columns, or an unknown control.
 */
export function compareWithControl(scores: ScoreTable, methods: readonly string[], control: string, opts: RankOptions = {}): ControlComparison[] {
  const rows = checkTable(scores, 2);
  const k = rows[0].length;
  checkMethods(methods, k);
  const c = methods.indexOf(control);
  if (c < 0) throw new ConfigError(`control '${control}' is not one of the methods (${methods.join(', ')})`, { option: 'control' });
  const n = rows.length;
  const better = opts.higherIsBetter === false ? -1 : 1;
  const { averageRanks: R } = averageRanks(rows, opts);
  const se = Math.sqrt((k * (k + 1)) / (6 * n));
  const others = methods.map((_, j) => j).filter((j) => j !== c);
  const partial = others.map((j) => {
    const a = rows.map((r) => r[c]);
    const b = rows.map((r) => r[j]);
    const d = a.map((v, i) => better * (v - b[i]));
    const z = (R[j] - R[c]) / se;
    return {
      method: methods[j],
      meanDifference: a.reduce((s, v, i) => s + v - b[i], 0) / n,
      wins: d.filter((v) => v > 0).length,
      ties: d.filter((v) => v === 0).length,
      losses: d.filter((v) => v < 0).length,
      wilcoxon: wilcoxonSignedRank(a, b),
      z,
      pz: Math.min(1, 2 * (1 - normalCdf(Math.abs(z), 0, 1))),
    };
  });
  const holmW = adjustPValues(partial.map((p) => p.wilcoxon.p), 'holm');
  const holmZ = adjustPValues(partial.map((p) => p.pz), 'holm');
  return partial.map((p, i) => ({
    method: p.method,
    meanDifference: p.meanDifference,
    wins: p.wins,
    ties: p.ties,
    losses: p.losses,
    wilcoxon: p.wilcoxon,
    pHolm: holmW[i],
    rankZ: { z: p.z, p: p.pz, pHolm: holmZ[i] },
  }));
}

function checkMethods(methods: readonly string[], k: number): void {
  if (!Array.isArray(methods) || methods.length !== k) throw new ConfigError(`need ${k} method names (one per column), got ${Array.isArray(methods) ? methods.length : typeof methods}`, { option: 'methods' });
  if (new Set(methods).size !== methods.length) throw new ConfigError(`method names must be distinct, got ${methods.join(', ')}`, { option: 'methods' });
}

/** Everything {@link multipleComparison} reports (JSON-serialisable). */
export interface MultipleComparisonResult {
  methods: string[];
  /** Data sets N and methods k. */
  n: number;
  k: number;
  alpha: number;
  higherIsBetter: boolean;
  /** Average rank per method (column order; 1 = best). */
  averageRanks: number[];
  friedman: FriedmanResult;
  /** Nemenyi critical difference at α, and the groups not significantly different (method names, best first). */
  nemenyi: { q: number; cd: number; groups: string[][] };
  /** Only with a control: Bonferroni–Dunn critical difference at α and the per-method comparisons. */
  control?: { name: string; bonferroniDunn: { q: number; cd: number }; comparisons: ControlComparison[] };
}

/**
 * The many-data-set comparison as the field reports it (Demšar 2006): average
 * ranks, Friedman χ²_F and Iman–Davenport F_F, the Nemenyi critical difference
 * with the groups of methods not significantly different, and — with a control
 * method — the Bonferroni–Dunn CD plus Wilcoxon signed-rank tests (Holm) and
 * rank z tests (Holm) of the control against each other method. Feed `averageRanks`,
 * `nemenyi.cd` and `nemenyi.groups` to a critical-difference diagram.
 *
 * @param scores `[N][k]` (rows = data sets, e.g. mean accuracy over seeds), N ≥ 2, k ≥ 2.
 * @param methods k names in column order.
 * @param opts `alpha` (default 0.05), `control` (a method name), `higherIsBetter` (default true).
 * @throws ConfigError as {@link friedmanTest}, {@link compareWithControl}.
 */
export function multipleComparison(
  scores: ScoreTable,
  methods: readonly string[],
  opts: RankOptions & { alpha?: number; control?: string } = {},
): MultipleComparisonResult {
  const rows = checkTable(scores, 2);
  const k = rows[0].length;
  checkMethods(methods, k);
  const alpha = opts.alpha ?? 0.05;
  checkAlpha(alpha);
  const friedman = friedmanTest(rows, opts);
  const q = nemenyiCriticalValue(k, alpha);
  const cd = q * Math.sqrt((k * (k + 1)) / (6 * rows.length));
  const result: MultipleComparisonResult = {
    methods: [...methods],
    n: rows.length,
    k,
    alpha,
    higherIsBetter: opts.higherIsBetter !== false,
    averageRanks: friedman.averageRanks,
    friedman,
    nemenyi: { q, cd, groups: notSignificantlyDifferentGroups(friedman.averageRanks, cd).map((g) => g.map((j) => methods[j])) },
  };
  if (opts.control !== undefined) {
    const qb = bonferroniDunnCriticalValue(k, alpha);
    result.control = {
      name: opts.control,
      bonferroniDunn: { q: qb, cd: qb * Math.sqrt((k * (k + 1)) / (6 * rows.length)) },
      comparisons: compareWithControl(rows, methods, opts.control, opts),
    };
  }
  return result;
}
