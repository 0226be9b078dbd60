/**
 * The report of the frozen-embedding head experiments (sst5, yelp): accuracy
 * (and MAE / QWK for ordinal tasks), τ, best epoch, parameters, and paired
 * comparisons of the reference head with every other head — paired t and
 * Wilcoxon over seeds on one fixed split, or the Nadeau–Bengio corrected t and
 * Wilcoxon over k-fold units — Holm-adjusted, with the paper's and the
 * literature's figures on their own labelled rows.
 */
import { markdownTable } from 'markdown-table';
import { meanAbsoluteError, meanStd, quadraticWeightedKappa } from '@chainz/metrics';
import type { TabularFold, FitResult } from '../../models/types';
import type { ExperimentReport, ReportContext } from '../../runner/contract';
import { compareModels, summarize, type Comparison, type ModelSummary, type SummaryUnit } from './model-summary';
import { foldRecord, type FoldRecord } from './tabular';

/** A row shown beside ours in the table, clearly labelled (the paper's figure, a literature anchor). */
export interface ReferenceRow {
  /** e.g. `paper: ChainzRule head on frozen BERT`, `literature: RNTN (Socher et al. 2013)`. */
  label: string;
  /** The label in the terminal table (≤ ~40 characters); default `label`. */
  short?: string;
  /** Accuracy in %, as text (e.g. `46.20 ± 0.37`). */
  accuracy: string;
  mae?: string;
  qwk?: string;
  tau?: string;
}

/** What the heads report needs beside the records. */
export interface HeadsReportInput {
  /** The model compared with all others; default `cr` when run, else the first model. */
  reference?: string;
  /**
   * `seeds`: one fixed split, units differ by seed only → paired t-test and
   * Wilcoxon (no overlapping training sets, so no variance correction);
   * `folds`: k-fold units → Nadeau–Bengio corrected resampled t (shown) plus
   * paired t and Wilcoxon (in results.json).
   */
  statistics: 'seeds' | 'folds';
  /** Also report MAE and quadratic weighted kappa (ordinal tasks). */
  ordinal: boolean;
  /** Units every model should have. */
  expectedUnits: number;
  /** Mean training / test rows per unit (for the corrected t-test). */
  sizes: { nTrain: number; nTest: number };
  /** Lines printed above the table (encoder, data scale). */
  headerLines: string[];
  references: ReferenceRow[];
  /** The paper's figures as stored in results.json. */
  paper: Record<string, unknown>;
  /** One paragraph describing the protocol for summary.md. */
  protocolText: string;
  notes: string[];
  /** Extra facts for results.json (e.g. embedding seconds, cache hits). */
  extra?: Record<string, unknown>;
}

/** Mean ± std of MAE and QWK over a model's units (ordinal tasks). */
export interface OrdinalSummary {
  name: string;
  mae: { mean: number; std: number };
  qwk: { mean: number; std: number };
}

/** The record of a head on a unit: accuracy, τ, timings, and for ordinal tasks MAE and QWK in `info`. */
export function headRecord(r: FitResult, fold: TabularFold, ordinal: boolean): Omit<FoldRecord, 'model'> {
  const rec = foldRecord(r, fold);
  const info: Record<string, number | string> = { ...(r.info ?? {}) };
  if (ordinal) {
    info.mae = meanAbsoluteError(r.predictions, fold.yTest);
    info.qwk = quadraticWeightedKappa(r.predictions, fold.yTest, fold.nClasses);
  }
  return { ...rec, info };
}

/** One progress line for a head's unit. */
export function describeHeadRecord(r: FoldRecord, statistics: 'seeds' | 'folds', seedOf?: (r: FoldRecord) => number): string {
  const where = statistics === 'seeds' ? `seed ${seedOf ? seedOf(r) : String(r.fold)}` : `r${String(r.repeat)} f${String(r.fold)}`;
  const extra = typeof r.info?.mae === 'number' ? ` MAE ${Number(r.info.mae).toFixed(3)} QWK ${Number(r.info.qwk).toFixed(3)}` : '';
  return `${r.model} ${where}: acc ${(100 * r.accuracy).toFixed(2)}%${extra}${r.tau !== null ? ` τ ${r.tau.toFixed(3)}` : ''} (${r.trainSeconds.toFixed(1)} s)`;
}

/** The report of a heads run: full table in summary.md, a compact one (≤ ~120 columns) on the terminal. */
export function headsReport(records: FoldRecord[], models: ReportContext['models'], input: HeadsReportInput): ExperimentReport {
  const reference = input.reference ?? (models.some((m) => m.name === 'cr') ? 'cr' : models[0].name);
  const all = records;
  const summaries = summarize(all, models, input.expectedUnits);
  let comparisons = compareModels(all, reference, models.map((m) => m.name).filter((n) => n !== reference), input.sizes);
  if (input.statistics === 'seeds') comparisons = comparisons.filter((c) => c.test !== 'corrected-resampled-t');
  const ordinal = input.ordinal ? summarizeOrdinal(all, models) : [];
  const tableInput = { reference, statistics: input.statistics, ordinal: input.ordinal, headerLines: input.headerLines, references: input.references, models };
  const table = renderHeadTable(tableInput, summaries, ordinal, comparisons, all);
  const testText =
    input.statistics === 'seeds'
      ? `p-values: paired t-test and Wilcoxon signed-rank test of \`${reference}\` against each model over seeds (same split, so no resampling correction is needed), Holm-adjusted within each test's family; raw p first, adjusted in brackets.`
      : `p-values: Nadeau–Bengio corrected resampled t-test and Wilcoxon signed-rank test of \`${reference}\` against each model over folds, Holm-adjusted within each test's family; raw p first, adjusted in brackets.`;
  return {
    terminal: renderCompactHeadTable(tableInput, summaries, ordinal, comparisons),
    markdown: [input.protocolText, '', testText, '', table, '', ...input.notes.map((n) => `- ${n}`)].join('\n'),
    doc: {
      models: summaries.map((s) => ({
        ...s,
        ...(input.ordinal ? { mae: ordinal.find((o) => o.name === s.name)?.mae, qwk: ordinal.find((o) => o.name === s.name)?.qwk } : {}),
        config: models.find((m) => m.name === s.name)?.config,
      })),
      comparisons,
      paper: input.paper,
      references: input.references,
      notes: input.notes,
      ...(input.extra ?? {}),
    },
  };
}

/** Mean epoch kept (best on validation) over a model's units, as text. */
function meanBestEpoch(units: SummaryUnit[], model: string): string {
  const e = units.filter((u) => u.model === model && typeof u.info?.bestEpoch === 'number').map((u) => Number(u.info!.bestEpoch));
  if (e.length === 0) return '—';
  const ep = units.find((u) => u.model === model && typeof u.info?.epochs === 'number')?.info?.epochs;
  return `${(e.reduce((a, b) => a + b, 0) / e.length).toFixed(1)}${ep !== undefined ? `/${ep}` : ''}`;
}

function summarizeOrdinal(units: SummaryUnit[], models: { name: string }[]): OrdinalSummary[] {
  const out: OrdinalSummary[] = [];
  for (const m of models) {
    const us = units.filter((u) => u.model === m.name);
    if (us.length === 0) continue;
    const mae = meanStd(us.map((u) => Number(u.info?.mae)));
    const qwk = meanStd(us.map((u) => Number(u.info?.qwk)));
    out.push({ name: m.name, mae: { mean: mae.mean, std: mae.std }, qwk: { mean: qwk.mean, std: qwk.std } });
  }
  return out;
}

const pct = (x: number) => (100 * x).toFixed(2);
const pm = (m: number, s: number, digits: number) => `${m.toFixed(digits)} ± ${Number.isFinite(s) ? s.toFixed(digits) : '—'}`;
const fmtP = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '—' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const pCell = (c: Comparison | undefined) => (c ? `${fmtP(c.p)} (${fmtP(c.pAdjusted)})` : '—');

/** What the head tables show. */
export interface HeadTableInput {
  reference: string;
  statistics: 'seeds' | 'folds';
  ordinal: boolean;
  headerLines: string[];
  references: ReferenceRow[];
  models: ReportContext['models'];
}

/** The results table: our models, then the labelled reference rows (paper, literature). */
export function renderHeadTable(
  input: HeadTableInput,
  summaries: ModelSummary[],
  ordinal: OrdinalSummary[],
  comparisons: Comparison[],
  units: SummaryUnit[],
): string {
  const ref = input.reference;
  const tests = input.statistics === 'seeds' ? (['paired-t', 'wilcoxon'] as const) : (['corrected-resampled-t', 'wilcoxon'] as const);
  const testName = { 'paired-t': 'paired t', wilcoxon: 'Wilcoxon', 'corrected-resampled-t': 'corrected t' } as const;
  const unitWord = input.statistics === 'seeds' ? 'seed' : 'fold';
  const header = [
    'model',
    ...(input.ordinal ? ['head'] : []),
    'accuracy % (mean ± std)',
    ...(input.ordinal ? ['MAE', 'QWK'] : []),
    'τ (p99/mean)',
    'best epoch',
    'params',
    `train s/${unitWord}`,
    ...tests.map((t) => `p vs ${ref}, ${testName[t]} (Holm)`),
  ];
  const rows: string[][] = [header];
  for (const s of summaries) {
    const o = ordinal.find((x) => x.name === s.name);
    const us = s.units < s.expectedUnits ? ` (${s.units}/${s.expectedUnits})` : '';
    const cfg = input.models.find((m) => m.name === s.name)?.config as { head?: string } | undefined;
    rows.push([
      s.name,
      ...(input.ordinal ? [cfg?.head ?? 'softmax'] : []),
      `${pct(s.accuracy.mean)} ± ${Number.isFinite(s.accuracy.std) ? pct(s.accuracy.std) : '—'}${us}`,
      ...(input.ordinal ? [o ? pm(o.mae.mean, o.mae.std, 3) : '—', o ? pm(o.qwk.mean, o.qwk.std, 3) : '—'] : []),
      s.tau ? pm(s.tau.mean, s.tau.std, 3) : 'n/a',
      meanBestEpoch(units, s.name),
      s.parameters !== undefined ? String(s.parameters) : '—',
      s.trainSeconds.toFixed(1),
      ...tests.map((t) => (s.name === ref ? '(reference)' : pCell(comparisons.find((c) => c.test === t && c.b === s.name)))),
    ]);
  }
  for (const r of input.references) {
    rows.push([
      r.label,
      ...(input.ordinal ? ['—'] : []),
      r.accuracy,
      ...(input.ordinal ? [r.mae ?? '—', r.qwk ?? '—'] : []),
      r.tau ?? '—',
      '—',
      '—',
      '—',
      ...tests.map(() => '—'),
    ]);
  }
  return [...input.headerLines, '', markdownTable(rows, { align: ['l', ...header.slice(1).map(() => 'r' as const)] })].join('\n');
}

/**
 * The terminal table: model (and head), accuracy, MAE/QWK, τ and the headline
 * p-value (paired t over seeds, corrected t over folds; Holm-adjusted in
 * brackets); best epoch, parameters, timings and the Wilcoxon test are in
 * summary.md.
 */
export function renderCompactHeadTable(input: HeadTableInput, summaries: ModelSummary[], ordinal: OrdinalSummary[], comparisons: Comparison[]): string {
  const ref = input.reference;
  const test = input.statistics === 'seeds' ? 'paired-t' : 'corrected-resampled-t';
  const header = ['model', ...(input.ordinal ? ['head'] : []), 'accuracy %', ...(input.ordinal ? ['MAE', 'QWK'] : []), 'τ', `p vs ${ref} (Holm)`];
  const rows: string[][] = [header];
  for (const s of summaries) {
    const o = ordinal.find((x) => x.name === s.name);
    const cfg = input.models.find((m) => m.name === s.name)?.config as { head?: string } | undefined;
    const us = s.units < s.expectedUnits ? ` (${s.units}/${s.expectedUnits})` : '';
    rows.push([
      s.name,
      ...(input.ordinal ? [cfg?.head ?? 'softmax'] : []),
      `${pct(s.accuracy.mean)} ± ${Number.isFinite(s.accuracy.std) ? pct(s.accuracy.std) : '—'}${us}`,
      ...(input.ordinal ? [o ? o.mae.mean.toFixed(3) : '—', o ? o.qwk.mean.toFixed(3) : '—'] : []),
      s.tau ? s.tau.mean.toFixed(3) : 'n/a',
      s.name === ref ? '(reference)' : pCell(comparisons.find((c) => c.test === test && c.b === s.name)),
    ]);
  }
  for (const r of input.references) {
    rows.push([r.short ?? r.label, ...(input.ordinal ? ['—'] : []), r.accuracy, ...(input.ordinal ? [r.mae ?? '—', r.qwk ?? '—'] : []), r.tau ? r.tau.replace(/\s*\(claimed.*\)$/, ' (claimed)') : '—', '—']);
  }
  return [...input.headerLines, '', markdownTable(rows, { align: ['l', ...header.slice(1).map(() => 'r' as const)] })].join('\n');
}
