import { markdownTable } from 'markdown-table';
import type { TopLevelSpec } from 'vega-lite';
import { adjustPValues, corruptionAccuracy, corruptionErrors, meanStd, pairedTTest, wilcoxonSignedRank } from '@chainz/metrics';
import type { UnitResult } from '../../results';

/** One (model, seed) unit of the CIFAR-10-C benchmark: a results.json unit plus the corrupted accuracies. */
export interface CifarUnit extends UnitResult {
  [field: string]: unknown;
  /** Accuracy (fraction) per corruption, indexed like the run's severities. */
  corruptions: Record<string, number[]>;
  /** Training seed (the unit's `repeat` is the seed's index). */
  seed: number;
}

/** Mean, sample std (NaN for one value) and the values. */
export interface Stat {
  mean: number;
  std: number;
  values: number[];
}

/** Aggregated results of one model over its seeds. */
export interface CifarModelSummary {
  name: string;
  description: string;
  parameters: number | null;
  seeds: number;
  expectedSeeds: number;
  clean: Stat;
  mCA: Stat;
  relativeMCA: Stat;
  /** mCE and relative mCE vs `baseline` (ratios; the baseline scores 1), per-seed pairing; null if the baseline has no common seed. */
  baseline: string | null;
  mCE: Stat | null;
  relativeMCE: Stat | null;
  /**
   * Why relative mCE is left out (null when it is shown): a corruption whose
   * baseline error is not clearly above the baseline's clean error (the
   * ratio's denominator, less than 1 percentage point per severity on some
   * seed) makes the ratio meaningless (e.g. −113 or 304).
   */
  relativeMCENote: string | null;
  tau: Stat | null;
  trainSeconds: number;
  evalSeconds: number;
  bestEpochs: number[];
  /** Mean over seeds of the accuracy per corruption (mean over severities). */
  perCorruption: Record<string, number>;
  /** Mean over seeds and corruptions, per severity. */
  perSeverity: number[];
  /** Mean over seeds, [corruption][severity index]. */
  grid: Record<string, number[]>;
}

/** Paired comparison a − b over seeds. */
export interface CifarComparison {
  a: string;
  b: string;
  seeds: number;
  /** Differences in percentage points. */
  cleanDiff: Stat;
  mcaDiff: Stat;
  /** Paired t-test on mCA (two-sided), Holm-adjusted over the comparisons made. */
  pairedT: { statistic: number; p: number; pAdjusted: number; note?: string };
  wilcoxon: { statistic: number; p: number; note?: string };
}

function stat(values: number[]): Stat {
  const m = meanStd(values);
  return { mean: m.mean, std: m.std, values };
}

const bySeed = (us: CifarUnit[]) => new Map(us.map((u) => [u.seed, u]));

/**
 * Summaries per model (order of `models`; models without units are left out).
 * @param baselines model → its CE baseline.
 */
export function summarizeCifar(
  units: CifarUnit[],
  models: { name: string; description: string }[],
  baselines: Record<string, string>,
  expectedSeeds: number,
): CifarModelSummary[] {
  const out: CifarModelSummary[] = [];
  for (const m of models) {
    const us = units.filter((u) => u.model === m.name).sort((a, b) => a.seed - b.seed);
    if (us.length === 0) continue;
    const ca = us.map((u) => corruptionAccuracy({ clean: u.accuracy, corruptions: u.corruptions }));
    const base = baselines[m.name];
    const baseUnits = base ? bySeed(units.filter((u) => u.model === base)) : new Map<number, CifarUnit>();
    const ce = us.filter((u) => baseUnits.has(u.seed)).map((u) => {
      const b = baseUnits.get(u.seed)!;
      return corruptionErrors({ clean: u.accuracy, corruptions: u.corruptions }, { clean: b.accuracy, corruptions: b.corruptions });
    });
    const taus = us.map((u) => u.tau).filter((t): t is number => t !== null && Number.isFinite(t));
    const names = Object.keys(us[0].corruptions);
    // Relative CE divides by Σ_s (E^base_{s,c} − E^base_clean): require ≥ 1 pp per severity for every corruption and seed.
    const weak = new Set<string>();
    for (const u of us) {
      const b = baseUnits.get(u.seed);
      if (!b) continue;
      for (const c of names) {
        const denom = b.corruptions[c].reduce((t, a) => t + (b.accuracy - a), 0);
        if (!(denom >= 0.01 * b.corruptions[c].length)) weak.add(c);
      }
    }
    const relOk = ce.length > 0 && ce.every((e) => Number.isFinite(e.relativeMCE)) && weak.size === 0;
    const S = us[0].corruptions[names[0]].length;
    const grid: Record<string, number[]> = {};
    for (const c of names) grid[c] = Array.from({ length: S }, (_, s) => us.reduce((t, u) => t + u.corruptions[c][s], 0) / us.length);
    const perCorruption: Record<string, number> = {};
    for (const c of names) perCorruption[c] = ca.reduce((t, a) => t + a.perCorruption[c], 0) / ca.length;
    const params = us.find((u) => typeof u.info?.parameters === 'number')?.info?.parameters as number | undefined;
    out.push({
      name: m.name,
      description: m.description,
      parameters: params ?? null,
      seeds: us.length,
      expectedSeeds,
      clean: stat(us.map((u) => u.accuracy)),
      mCA: stat(ca.map((a) => a.mCA)),
      relativeMCA: stat(ca.map((a) => a.relativeMCA)),
      baseline: ce.length > 0 ? base : null,
      mCE: ce.length > 0 && ce.every((e) => Number.isFinite(e.mCE)) ? stat(ce.map((e) => e.mCE)) : null,
      relativeMCE: relOk ? stat(ce.map((e) => e.relativeMCE)) : null,
      relativeMCENote:
        ce.length === 0 || relOk
          ? null
          : weak.size > 0
            ? `omitted: under ${[...weak].join(', ')} the baseline ${base} loses less than 1 pp per severity relative to clean (the ratio's denominator), so relative mCE is meaningless here`
            : 'omitted: undefined (zero denominator)',
      tau: taus.length > 0 ? stat(taus) : null,
      trainSeconds: us.reduce((t, u) => t + u.trainSeconds, 0) / us.length,
      evalSeconds: us.reduce((t, u) => t + Number(u.info?.evalSeconds ?? 0), 0) / us.length,
      bestEpochs: us.map((u) => Number(u.info?.bestEpoch ?? NaN)),
      perCorruption,
      perSeverity: Array.from({ length: S }, (_, s) => ca.reduce((t, a) => t + a.perSeverity[s], 0) / ca.length),
      grid,
    });
  }
  return out;
}

/** Paired comparisons over the seeds both models completed (at least 2); paired-t p-values Holm-adjusted over the family. */
export function compareCifar(units: CifarUnit[], pairs: ReadonlyArray<readonly [string, string]>): CifarComparison[] {
  const rows: Omit<CifarComparison, 'pairedT'>[] = [];
  const ts: { statistic: number; p: number; note?: string }[] = [];
  for (const [a, b] of pairs) {
    const ua = bySeed(units.filter((u) => u.model === a));
    const ub = bySeed(units.filter((u) => u.model === b));
    const seeds = [...ua.keys()].filter((s) => ub.has(s)).sort((x, y) => x - y);
    if (seeds.length < 2) continue;
    const mca = (u: CifarUnit) => corruptionAccuracy({ clean: u.accuracy, corruptions: u.corruptions }).mCA;
    const xa = seeds.map((s) => mca(ua.get(s)!));
    const xb = seeds.map((s) => mca(ub.get(s)!));
    const t = pairedTTest(xa, xb);
    const w = wilcoxonSignedRank(xa, xb);
    ts.push({ statistic: t.statistic, p: t.p, note: t.note });
    rows.push({
      a,
      b,
      seeds: seeds.length,
      cleanDiff: stat(seeds.map((s) => 100 * (ua.get(s)!.accuracy - ub.get(s)!.accuracy))),
      mcaDiff: stat(xa.map((v, i) => 100 * (v - xb[i]))),
      wilcoxon: { statistic: w.statistic, p: w.p, note: w.note },
    });
  }
  const adj = ts.length > 0 ? adjustPValues(ts.map((t) => t.p), 'holm') : [];
  return rows.map((r, i) => ({ ...r, pairedT: { ...ts[i], pAdjusted: adj[i] } }));
}

const pct = (x: number) => (100 * x).toFixed(2);
const pm = (s: Stat, f: (x: number) => string, fs: (x: number) => string = f) => (Number.isNaN(s.std) ? f(s.mean) : `${f(s.mean)} ± ${fs(s.std)}`);
const fmtP = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '—' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

/** The main table: clean accuracy, mCA, relative mCA, mCE/relative mCE vs the baseline, τ, parameters, times. */
export function renderCifarTable(summaries: CifarModelSummary[]): string {
  const rows: string[][] = [['model', 'params', 'clean acc %', 'mCA %', 'rel. mCA', 'mCE (baseline)', 'rel. mCE', 'τ (p99/mean)', 'train s', 'eval s']];
  for (const s of summaries) {
    const partial = s.seeds < s.expectedSeeds ? ` (${s.seeds}/${s.expectedSeeds} seeds)` : '';
    rows.push([
      s.name,
      s.parameters === null ? '—' : s.parameters.toLocaleString('en-US'),
      pm(s.clean, pct) + partial,
      pm(s.mCA, pct),
      pm(s.relativeMCA, (x) => x.toFixed(3)),
      s.mCE ? `${pm(s.mCE, pct)} (${s.baseline})` : '—',
      s.relativeMCE ? pm(s.relativeMCE, pct) : '—',
      s.tau ? pm(s.tau, (x) => x.toFixed(3)) : 'n/a',
      s.trainSeconds.toFixed(1),
      s.evalSeconds.toFixed(1),
    ]);
  }
  return markdownTable(rows, { align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] });
}

/** The paired comparisons, with the paper's figure beside the CR-MLP rows. */
export function renderCifarComparisons(comparisons: CifarComparison[], paper: { mcaGainPoints: number }): string {
  const rows: string[][] = [['comparison (a − b)', 'seeds', 'Δ clean (pp)', 'Δ mCA (pp)', 'paired t p', 'p adj. (Holm)', 'Wilcoxon p', 'paper']];
  for (const c of comparisons) {
    rows.push([
      `${c.a} − ${c.b}`,
      String(c.seeds),
      pm(c.cleanDiff, signed, (x) => x.toFixed(2)),
      pm(c.mcaDiff, signed, (x) => x.toFixed(2)),
      fmtP(c.pairedT.p),
      fmtP(c.pairedT.pAdjusted),
      fmtP(c.wilcoxon.p),
      c.a === 'cr-mlp' ? `+${paper.mcaGainPoints.toFixed(2)} mCA (protocol/baseline not stated)` : '—',
    ]);
  }
  rows.push(['paper: ChainzRule vs ? (CIFAR-10-C)', '—', '—', `+${paper.mcaGainPoints.toFixed(2)}`, '—', '—', '—', 'paper: +2.32% mCA, protocol/baseline not stated']);
  return markdownTable(rows, { align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'] });
}

/** Per-corruption rows (mean over severities and seeds, %), a mean row (= mCA), and per-severity rows. */
export function renderPerCorruption(summaries: CifarModelSummary[], corruptions: string[], severities: number[]): string {
  const header = ['corruption', ...summaries.map((s) => s.name)];
  const rows = [header, ['clean', ...summaries.map((s) => pct(s.clean.mean))]];
  for (const c of corruptions) rows.push([c, ...summaries.map((s) => pct(s.perCorruption[c]))]);
  rows.push(['**mean (mCA)**', ...summaries.map((s) => `**${pct(s.mCA.mean)}**`)]);
  severities.forEach((sev, i) => rows.push([`severity ${sev} (all corruptions)`, ...summaries.map((s) => pct(s.perSeverity[i]))]));
  return markdownTable(rows, { align: ['l', ...summaries.map(() => 'r' as const)] });
}

/** Vega-Lite heatmap: accuracy (mean over seeds, %) per corruption × severity, one panel per model. */
export function heatmapSpec(summaries: CifarModelSummary[], corruptions: string[], severities: number[], title: string): TopLevelSpec {
  const values = summaries.flatMap((s) =>
    corruptions.flatMap((c) => severities.map((sev, i) => ({ model: s.name, corruption: c, severity: sev, accuracy: Math.round(1000 * s.grid[c][i]) / 10 }))),
  );
  // colour range from the data (differences are a few points), text dark on the bright half of viridis
  const acc = values.map((v) => v.accuracy);
  const lo = Math.floor(Math.min(...acc));
  const hi = Math.max(lo + 1, Math.ceil(Math.max(...acc)));
  const mid = (lo + hi) / 2;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', sort: summaries.map((s) => s.name), title: null } },
    spec: {
      width: 26 * severities.length,
      height: 15 * corruptions.length,
      layer: [
        {
          mark: 'rect',
          encoding: {
            x: { field: 'severity', type: 'ordinal', title: 'severity', axis: { labelAngle: 0 } },
            y: { field: 'corruption', type: 'nominal', sort: corruptions, title: null },
            color: { field: 'accuracy', type: 'quantitative', title: 'accuracy %', scale: { scheme: 'viridis', domain: [lo, hi] } },
          },
        },
        {
          mark: { type: 'text', fontSize: 8 },
          encoding: {
            x: { field: 'severity', type: 'ordinal' },
            y: { field: 'corruption', type: 'nominal', sort: corruptions },
            text: { field: 'accuracy', type: 'quantitative', format: '.0f' },
            color: { condition: { test: `datum.accuracy > ${mid}`, value: 'black' }, value: 'white' },
          },
        },
      ],
    },
  } as TopLevelSpec;
}
