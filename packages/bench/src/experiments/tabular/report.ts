/**
 * Tables and plot of a tabular cross-validation run: accuracy and τ per model
 * (mean ± std over folds), Nadeau–Bengio corrected t-tests of the reference
 * model against each other model with Holm adjustment, and the paper's figure
 * on its own labelled row.
 */
import { markdownTable } from 'markdown-table';
import type { TopLevelSpec } from 'vega-lite';
import type { ExperimentReport, ReportContext } from '../../runner/contract';
import { compareModels, renderTable, summarize, type Comparison, type ModelSummary, type PaperFigure } from '../common/model-summary';
import type { FoldRecord } from '../common/tabular';

/** What the report of one run needs beside its records. */
export interface TabularReportInput {
  /** Folds × repeats: the units every model should have. */
  expectedUnits: number;
  /** Mean training / test rows per fold (for the corrected t-test). */
  sizes: { nTrain: number; nTest: number };
  /** Lines above the table (which data). */
  headerLines: string[];
  notes: string[];
  paper?: PaperFigure;
  protocolText: string;
  /** The reference model; default `cr` when run, else the first model. */
  reference?: string;
}

const pct = (x: number) => (100 * x).toFixed(2);
const fmtP = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '—' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** The reference model of a run: `cr` when it ran, else the first model. */
export function referenceModel(models: { name: string }[], preferred = 'cr'): string {
  return models.some((m) => m.name === preferred) ? preferred : models[0].name;
}

/**
 * The terminal table: the same numbers as the summary's table in at most
 * ~110 columns (short headers, the paper's row abbreviated).
 */
export function renderCompactTable(summaries: ModelSummary[], comparisons: Comparison[], reference: string, paper?: PaperFigure): string {
  const header = ['model', 'accuracy %', 'τ (p99/mean)', 's/fold', `p vs ${reference}`, 'p Holm'];
  const rows: string[][] = [header];
  for (const s of summaries) {
    const c = comparisons.find((x) => x.test === 'corrected-resampled-t' && x.b === s.name);
    const partial = s.units < s.expectedUnits ? ` (${s.units}/${s.expectedUnits})` : '';
    rows.push([
      s.name,
      `${pct(s.accuracy.mean)} ± ${pct(s.accuracy.std)}${partial}`,
      s.tau ? `${s.tau.mean.toFixed(3)} ± ${s.tau.std.toFixed(3)}` : 'n/a',
      s.trainSeconds.toFixed(2),
      s.name === reference ? '(ref.)' : fmtP(c?.p),
      s.name === reference ? '' : fmtP(c?.pAdjusted),
    ]);
  }
  if (paper) {
    rows.push([
      `paper: ${paper.model}`,
      paper.accuracyStd !== undefined ? `${paper.accuracyMean.toFixed(2)} ± ${paper.accuracyStd.toFixed(2)}` : paper.accuracyMean.toFixed(2),
      paper.tau ? paper.tau.replace(/\s*\(claimed.*\)$/, ' (claimed)') : '—',
      '—',
      '—',
      '—',
    ]);
  }
  return markdownTable(rows, { align: ['l', 'r', 'r', 'r', 'r', 'r'] });
}

/** Per-fold accuracy and τ of every model (points), with the mean ± std (bar), as a two-panel Vega-Lite spec. */
export function foldPlotSpec(records: FoldRecord[], models: string[], title: string): TopLevelSpec {
  const values = records.map((r) => ({ model: r.model, accuracy: 100 * r.accuracy, tau: r.tau }));
  const panel = (field: 'accuracy' | 'tau', axis: string) => ({
    width: 300,
    height: 22 * models.length,
    transform: field === 'tau' ? [{ filter: 'isValid(datum.tau)' }] : [],
    layer: [
      { mark: { type: 'point', opacity: 0.5, filled: true, size: 30 }, encoding: { x: { field, type: 'quantitative', scale: { zero: false }, title: axis }, y: { field: 'model', type: 'nominal', sort: models, title: null }, color: { field: 'model', type: 'nominal', sort: models, legend: null } } },
      { mark: { type: 'errorbar', extent: 'stdev', thickness: 1.5, color: '#555' }, encoding: { x: { field, type: 'quantitative', title: axis }, y: { field: 'model', type: 'nominal', sort: models } } },
      { mark: { type: 'tick', color: 'black', thickness: 2, size: 14 }, encoding: { x: { aggregate: 'mean', field, type: 'quantitative', title: axis }, y: { field: 'model', type: 'nominal', sort: models } } },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    hconcat: [panel('accuracy', 'test accuracy per fold (%); tick = mean, bar = ± std'), panel('tau', 'τ = p99/mean of input-gradient norms per fold')],
  } as unknown as TopLevelSpec;
}

/** The report of a tabular cross-validation run (see {@link TabularReportInput}). */
export function tabularReport(records: FoldRecord[], status: 'running' | 'complete', models: ReportContext['models'], input: TabularReportInput): ExperimentReport {
  const reference = input.reference ?? referenceModel(models);
  const units = records;
  const summaries = summarize(units, models, input.expectedUnits);
  const comparisons = compareModels(units, reference, models.map((m) => m.name).filter((n) => n !== reference), input.sizes);
  const header = input.headerLines.length > 0 ? [...input.headerLines, ''] : [];
  const full = [...header, renderTable(summaries, comparisons, reference, input.paper)].join('\n');
  const terminal = [...header, renderCompactTable(summaries, comparisons, reference, input.paper)].join('\n');
  const ran = models.map((m) => m.name).filter((n) => summaries.some((s) => s.name === n));
  return {
    terminal,
    markdown: [input.protocolText.replace('the reference model', `\`${reference}\``), '', full, '', ...input.notes.map((n) => `- ${n}`)].join('\n'),
    doc: {
      models: summaries.map((s) => ({ ...s, config: models.find((m) => m.name === s.name)?.config })),
      comparisons,
      paper: input.paper ?? null,
      notes: input.notes,
    },
    plots: status === 'complete' && ran.length > 0 ? [{ file: 'accuracy.svg', spec: foldPlotSpec(records, ran, 'accuracy and τ per fold') }] : [],
  };
}
