import { markdownTable } from 'markdown-table';
import { adjustPValues, correctedResampledTTest, meanStd, pairedTTest, wilcoxonSignedRank } from '@chainz/metrics';
import type { UnitResult } from '../../results';

/** Aggregated results of one model over all (repeat, fold) units. */
export interface ModelSummary {
  name: string;
  description: string;
  /** Units completed / expected. */
  units: number;
  expectedUnits: number;
  accuracy: { mean: number; std: number; perFold: number[] };
  /** τ mean ± std over folds; null for models without gradients. */
  tau: { mean: number; std: number } | null;
  /** Mean training time per fold, seconds. */
  trainSeconds: number;
  parameters?: number;
}

/** One statistical comparison of model `a` (the reference) with `b`. */
export interface Comparison {
  a: string;
  b: string;
  test: 'corrected-resampled-t' | 'paired-t' | 'wilcoxon';
  statistic: number;
  p: number;
  /** Holm-adjusted over the family "a vs each other model", per test. */
  pAdjusted: number;
  /** Mean accuracy difference a − b (fraction). */
  meanDifference: number;
  note?: string;
}

/** What the summaries read of a unit's record (a {@link UnitResult} or any record with these fields). */
export type SummaryUnit = Pick<UnitResult, 'model' | 'accuracy' | 'tau' | 'trainSeconds' | 'info'> & { repeat?: unknown; fold?: unknown };

const unitOrder = (a: SummaryUnit, b: SummaryUnit) => Number(a.repeat ?? 0) - Number(b.repeat ?? 0) || Number(a.fold ?? 0) - Number(b.fold ?? 0);

/** Summaries in the order of `models` (models with no unit yet are omitted). */
export function summarize(units: SummaryUnit[], models: { name: string; description: string }[], expectedUnits: number): ModelSummary[] {
  const out: ModelSummary[] = [];
  for (const m of models) {
    const us = units.filter((u) => u.model === m.name).sort(unitOrder);
    if (us.length === 0) continue;
    const acc = us.map((u) => u.accuracy);
    const taus = us.map((u) => u.tau).filter((t): t is number => t !== null && Number.isFinite(t));
    const a = meanStd(acc);
    const t = taus.length > 0 ? meanStd(taus) : null;
    const params = us.find((u) => typeof u.info?.parameters === 'number')?.info?.parameters as number | undefined;
    out.push({
      name: m.name,
      description: m.description,
      units: us.length,
      expectedUnits,
      accuracy: { mean: a.mean, std: a.std, perFold: acc },
      tau: t ? { mean: t.mean, std: t.std } : null,
      trainSeconds: us.reduce((s, u) => s + u.trainSeconds, 0) / us.length,
      parameters: params,
    });
  }
  return out;
}

/**
 * Compare `reference` with every other model on the units both completed,
 * paired by (repeat, fold): Nadeau–Bengio corrected resampled t-test (the
 * honest test for cross-validation folds, shown in tables), paired t-test and
 * Wilcoxon signed-rank; p-values Holm-adjusted within each test's family.
 */
export function compareModels(units: SummaryUnit[], reference: string, others: string[], sizes: { nTrain: number; nTest: number }): Comparison[] {
  const byKey = (m: string) => new Map(units.filter((u) => u.model === m).map((u) => [`${u.repeat}/${u.fold}`, u.accuracy]));
  const ref = byKey(reference);
  const rows: Omit<Comparison, 'pAdjusted'>[] = [];
  for (const b of others) {
    const mb = byKey(b);
    const keys = [...ref.keys()].filter((k) => mb.has(k));
    if (keys.length < 2) continue;
    const xa = keys.map((k) => ref.get(k)!);
    const xb = keys.map((k) => mb.get(k)!);
    const diff = xa.reduce((s, v, i) => s + v - xb[i], 0) / keys.length;
    const c = correctedResampledTTest(xa, xb, sizes);
    const p = pairedTTest(xa, xb);
    const w = wilcoxonSignedRank(xa, xb);
    rows.push({ a: reference, b, test: 'corrected-resampled-t', statistic: c.statistic, p: c.p, meanDifference: diff, note: c.note });
    rows.push({ a: reference, b, test: 'paired-t', statistic: p.statistic, p: p.p, meanDifference: diff, note: p.note });
    rows.push({ a: reference, b, test: 'wilcoxon', statistic: w.statistic, p: w.p, meanDifference: diff, note: w.note });
  }
  const out: Comparison[] = [];
  for (const test of ['corrected-resampled-t', 'paired-t', 'wilcoxon'] as const) {
    const fam = rows.filter((r) => r.test === test);
    const adj = fam.length > 0 ? adjustPValues(fam.map((r) => r.p), 'holm') : [];
    fam.forEach((r, i) => out.push({ ...r, pAdjusted: adj[i] }));
  }
  return out;
}

const pct = (x: number) => (100 * x).toFixed(2);
const fmtP = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '—' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** The paper's figure for an experiment, shown beside ours. */
export interface PaperFigure {
  model: string;
  accuracyMean: number;
  accuracyStd?: number;
  protocol: string;
  source: string;
  /** τ as the paper reports it, free text (e.g. '1.01–1.02 (claimed)'). */
  tau?: string;
}

/**
 * The results table (Markdown): model, accuracy mean ± std (%), τ, train
 * seconds per fold, corrected p vs the reference (raw and Holm-adjusted), then
 * the paper's figure on its own labelled row.
 */
export function renderTable(summaries: ModelSummary[], comparisons: Comparison[], reference: string, paper?: PaperFigure): string {
  const header = ['model', 'accuracy % (mean ± std)', 'τ (p99/mean)', 'train s/fold', `p vs ${reference} (corrected t)`, 'p adj. (Holm)'];
  const rows: string[][] = [header];
  for (const s of summaries) {
    const c = comparisons.find((x) => x.test === 'corrected-resampled-t' && x.b === s.name);
    const partial = s.units < s.expectedUnits ? ` (${s.units}/${s.expectedUnits} folds)` : '';
    rows.push([
      s.name,
      `${pct(s.accuracy.mean)} ± ${pct(s.accuracy.std)}${partial}`,
      s.tau ? `${s.tau.mean.toFixed(3)} ± ${s.tau.std.toFixed(3)}` : 'n/a',
      s.trainSeconds.toFixed(2),
      s.name === reference ? '(reference)' : fmtP(c?.p),
      s.name === reference ? '' : fmtP(c?.pAdjusted),
    ]);
  }
  if (paper) {
    rows.push([
      `paper: ${paper.model}`,
      paper.accuracyStd !== undefined ? `${paper.accuracyMean.toFixed(2)} ± ${paper.accuracyStd.toFixed(2)}` : paper.accuracyMean.toFixed(2),
      paper.tau ?? '—',
      '—',
      '—',
      '—',
    ]);
  }
  return markdownTable(rows, { align: ['l', 'r', 'r', 'r', 'r', 'r'] });
}
