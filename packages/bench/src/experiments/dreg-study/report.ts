/**
 * Tables, statistics and plots of `chainz bench dreg-study`.
 *
 * Scores per data set: the mean over the data set's cells (folds/seeds) of
 * clean test accuracy and of accuracy under Gaussian input noise (mean over
 * the noise strengths). Comparisons across data sets follow Demšar (2006):
 *
 * - per activation: the six regularisers of that activation, N = data sets;
 * - pooled: the score of a regulariser on a data set is its mean over the
 *   activations, N = data sets (one score per data set keeps the data sets
 *   the independent units of the tests; pooling (data set, activation) pairs as
 *   blocks would not).
 *
 * For each: average ranks (1 = best), the Friedman test (Iman–Davenport F),
 * the Nemenyi critical difference with a CD diagram, and Wilcoxon signed-rank
 * tests of DREG against each other regulariser, Holm-adjusted over those
 * comparisons (`multipleComparison` of `@chainz/metrics`).
 */
import { markdownTable } from 'markdown-table';
import { TERMINAL_COLUMNS, wrapLine } from '../../runner/terminal';
import type { TopLevelSpec } from 'vega-lite';
import { averageRanks, multipleComparison, type MultipleComparisonResult } from '@chainz/metrics';
import type { ExperimentReport, ReportContext, UnitRecord } from '../../runner/contract';
import { cdDiagramFromComparison } from '../../plots/cd-diagram';
import {
  DREG_STUDY_PAPER,
  NOISE_SIGMAS,
  STUDY_ACTIVATIONS,
  STUDY_FOLDS,
  STUDY_PROTOCOLS,
  STUDY_REGULARIZER_SPECS,
  STUDY_REGULARIZERS,
  type StudyActivation,
  type StudyNetworkConfig,
  type StudyRegularizer,
} from './config';

/** One stored unit: a model on one cell of one data set. */
export interface StudyRecord extends UnitRecord {
  dataset: string;
  repeat: number;
  fold: number;
  /** Clean test accuracy in [0, 1]. */
  accuracy: number;
  /** Accuracy under noise per σ of {@link NOISE_SIGMAS}. */
  noisyAccuracy: number[];
  /** Their mean. */
  noiseAccuracy: number;
  tau: number;
  trainSeconds: number;
  nTrain: number;
  nTest: number;
  info?: Record<string, number | string>;
}

/** A data set of the run. */
export interface StudyDataset {
  name: string;
  /** Rows used (after the cap) and in the file. */
  rows: number;
  totalRows: number;
  features: number;
  classes: number;
  smallestClass: number;
}

/** What the report needs beside the records. */
export interface StudyReportInput {
  datasets: StudyDataset[];
  /** Registered data sets left out because their data were not found. */
  skipped: { name: string; reason: string }[];
  /** Cells per data set. */
  seeds: number;
  protocolName: 'default' | 'full';
  maxRows: number | null;
  network: StudyNetworkConfig;
  seed: number;
}

/** The two scores compared across data sets. */
export type StudyMetric = 'clean' | 'noise';

/** One comparison across data sets (an activation, or pooled) for one metric. */
export interface StudyAnalysis {
  /** `cr`, `relu`, … or `pooled`. */
  scope: StudyActivation | 'pooled';
  metric: StudyMetric;
  /** Regularisers compared (columns) and data sets used (rows: complete for every regulariser of the scope). */
  methods: StudyRegularizer[];
  datasets: string[];
  /** Score per data set (rows) × regulariser (columns), in [0, 1]. */
  scores: number[][];
  /** Mean score per regulariser over the data sets. */
  meanScores: number[];
  /** Average ranks (1 = best), when N ≥ 1. */
  averageRanks: number[] | null;
  /** The Demšar comparison (N ≥ 2), with DREG as control when it ran. */
  comparison: MultipleComparisonResult | null;
  /** Why there is no comparison. */
  note?: string;
}

/** The verdict on one of the paper's claims. */
export interface ClaimVerdict {
  claim: string;
  paper: string;
  ours: string;
  /** For the grid (a design, not a result): whether this run has the paper's design. */
  verdict: 'holds' | 'partly holds' | 'does not hold' | 'not testable here' | `same design (${string})` | 'reduced grid here';
}

const pct = (x: number) => (100 * x).toFixed(2);
const fmtP = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '—' : p < 0.001 ? '<.001' : p.toFixed(3).replace(/^0(?=\.)/, ''));
const signed = (x: number, digits = 2) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

function splitName(model: string): { activation: StudyActivation; regularizer: StudyRegularizer } {
  const i = model.indexOf('-');
  return { activation: model.slice(0, i) as StudyActivation, regularizer: model.slice(i + 1) as StudyRegularizer };
}

/** Mean of a record field over the records of each (model, data set). */
function perDataset(records: StudyRecord[], field: (r: StudyRecord) => number): Map<string, Map<string, { sum: number; n: number }>> {
  const out = new Map<string, Map<string, { sum: number; n: number }>>();
  for (const r of records) {
    let m = out.get(r.model);
    if (!m) out.set(r.model, (m = new Map()));
    const e = m.get(r.dataset) ?? { sum: 0, n: 0 };
    e.sum += field(r);
    e.n++;
    m.set(r.dataset, e);
  }
  return out;
}

const METRIC_FIELD: Record<StudyMetric, (r: StudyRecord) => number> = { clean: (r) => r.accuracy, noise: (r) => r.noiseAccuracy };

/**
 * Every analysis (per activation and pooled, clean and noise) of the records:
 * a data set enters an analysis when each model of its scope has all
 * `seeds` cells of that data set.
 */
export function studyAnalyses(records: StudyRecord[], modelNames: string[], datasets: string[], seeds: number): StudyAnalysis[] {
  const acts = STUDY_ACTIVATIONS.filter((a) => modelNames.some((m) => splitName(m).activation === a));
  const regs = STUDY_REGULARIZERS.filter((r) => modelNames.some((m) => splitName(m).regularizer === r));
  const out: StudyAnalysis[] = [];
  for (const metric of ['clean', 'noise'] as StudyMetric[]) {
    const table = perDataset(records, METRIC_FIELD[metric]);
    const score = (a: StudyActivation, r: StudyRegularizer, d: string) => {
      const e = table.get(`${a}-${r}`)?.get(d);
      return e && e.n >= seeds ? e.sum / e.n : undefined;
    };
    const scopes: (StudyActivation | 'pooled')[] = [...acts, ...(acts.length > 1 ? (['pooled'] as const) : [])];
    for (const scope of scopes) {
      const scopeActs = scope === 'pooled' ? acts : [scope];
      const rows: { d: string; s: number[] }[] = [];
      for (const d of datasets) {
        const s = regs.map((r) => {
          const v = scopeActs.map((a) => score(a, r, d));
          return v.every((x) => x !== undefined) ? (v as number[]).reduce((p, q) => p + q, 0) / v.length : undefined;
        });
        if (s.every((x) => x !== undefined)) rows.push({ d, s: s as number[] });
      }
      const scores = rows.map((r) => r.s);
      const n = scores.length;
      const a: StudyAnalysis = {
        scope,
        metric,
        methods: [...regs],
        datasets: rows.map((r) => r.d),
        scores,
        meanScores: regs.map((_, j) => (n === 0 ? NaN : scores.reduce((p, row) => p + row[j], 0) / n)),
        averageRanks: n >= 1 && regs.length >= 2 ? averageRanks(scores).averageRanks : null,
        comparison: null,
      };
      if (regs.length < 2) a.note = 'needs at least 2 regularisers';
      else if (n < 2) a.note = `needs at least 2 complete data sets (have ${n})`;
      else a.comparison = multipleComparison(scores, regs, regs.includes('dreg') ? { control: 'dreg' } : {});
      out.push(a);
    }
  }
  return out;
}

/** Smallest two-sided p an exact Wilcoxon signed-rank test can reach with N pairs: 2/2^N. */
export function minimumWilcoxonP(n: number): number {
  return 2 / 2 ** n;
}

function rankOrder(a: StudyAnalysis): StudyRegularizer[] {
  if (!a.averageRanks) return [];
  return a.methods.map((m, j) => ({ m, r: a.averageRanks![j] })).sort((x, y) => x.r - y.r).map((x) => x.m);
}

/** The paper's three claims, each with our numbers and a verdict. */
export function judgeClaims(analyses: StudyAnalysis[], grid: { activations: number; regularizers: number; datasets: number; seeds: number; fullRuns: number; fullDatasets: number }): ClaimVerdict[] {
  const P = DREG_STUDY_PAPER;
  const find = (scope: string, metric: StudyMetric) => analyses.find((a) => a.scope === scope && a.metric === metric);
  // (1) best clean accuracy, Wilcoxon p ≤ 0.031 vs none, wd, igp, on cr, relu and gelu
  const claim1: ClaimVerdict = { claim: '1 clean', paper: P.clean, ours: '', verdict: 'not testable here' };
  const parts: string[] = [];
  const holds: boolean[] = [];
  for (const scope of [...P.cleanActivations, 'pooled'] as const) {
    const a = find(scope, 'clean');
    if (!a) continue;
    if (!a.methods.includes('dreg') || !P.cleanVersus.every((r) => a.methods.includes(r))) {
      parts.push(`${scope}: needs dreg, none, wd and igp`);
      continue;
    }
    if (!a.comparison || !a.averageRanks) {
      parts.push(`${scope}: ${a.note ?? 'no comparison'}`);
      continue;
    }
    const n = a.datasets.length;
    const order = rankOrder(a);
    const cmp = a.comparison.control!.comparisons;
    const ps = P.cleanVersus.map((r) => {
      const c = cmp.find((x) => x.method === r)!;
      return { r, p: c.wilcoxon.p, d: c.meanDifference };
    });
    const best = a.averageRanks[a.methods.indexOf('dreg')] === Math.min(...a.averageRanks);
    const reachable = minimumWilcoxonP(n) <= P.cleanP;
    parts.push(`${scope}: DREG rank ${order.indexOf('dreg') + 1}/${order.length}, p ${ps.map((x) => `${x.r} ${fmtP(x.p)}`).join(' ')}${reachable ? '' : ` (N = ${n}: p ≥ ${fmtP(minimumWilcoxonP(n))})`}`);
    // judged per activation of the claim; the pooled analysis is shown beside
    if (scope !== 'pooled' && reachable) holds.push(best && ps.every((x) => x.p <= P.cleanP && x.d > 0));
  }
  claim1.ours = parts.join('; ') || 'no complete data set yet';
  if (holds.length > 0) claim1.verdict = holds.every(Boolean) ? 'holds' : holds.some(Boolean) ? 'partly holds' : 'does not hold';
  // (2) noise robustness: DREG second only to spectral normalisation (pooled average ranks)
  const claim2: ClaimVerdict = { claim: '2 noise', paper: P.noise, ours: '', verdict: 'not testable here' };
  const pooled = find('pooled', 'noise') ?? analyses.find((a) => a.metric === 'noise');
  if (pooled && pooled.averageRanks && pooled.methods.includes('dreg') && pooled.methods.includes('sn')) {
    const order = rankOrder(pooled);
    const ranks = order.map((m) => `${m} ${pooled.averageRanks![pooled.methods.indexOf(m)].toFixed(2)}`);
    claim2.ours = `${pooled.scope} noise ranks (N = ${pooled.datasets.length}): ${ranks.join(', ')}`;
    if (pooled.datasets.length >= 2) {
      claim2.verdict = order[0] === 'sn' && order[1] === 'dreg' ? 'holds' : 'does not hold';
      if (pooled.comparison) {
        const c = pooled.comparison.control?.comparisons.find((x) => x.method === 'sn');
        if (c) claim2.ours += `; DREG − SN ${signed(100 * c.meanDifference)} points (Wilcoxon p ${fmtP(c.wilcoxon.p)})`;
      }
    } else claim2.ours += ' (one data set: no comparison across data sets)';
  } else claim2.ours = 'needs dreg and sn on at least one complete data set';
  // (3) the grid
  const runs = grid.activations * grid.regularizers * grid.datasets * grid.seeds;
  const claim3: ClaimVerdict = {
    claim: '3 grid',
    paper: `${P.grid.runs} runs = ${P.grid.activations} activations × ${P.grid.regularizers} regularisers × ${P.grid.datasets} data sets × ${P.grid.seeds} seeds`,
    ours: `this run ${runs} = ${grid.activations} × ${grid.regularizers} × ${grid.datasets} × ${grid.seeds}; --protocol full ${grid.fullRuns} = 4 × 6 × ${grid.fullDatasets} × 5`,
    verdict:
      grid.activations === P.grid.activations && grid.regularizers === P.grid.regularizers && grid.seeds >= P.grid.seeds
        ? `same design (${grid.datasets} data sets, ${grid.seeds} seeds)`
        : 'reduced grid here',
  };
  return [claim1, claim2, claim3];
}

function scopeLabel(s: string): string {
  return s === 'pooled' ? 'pooled' : s;
}

/** Matrix of mean scores with average ranks: rows = scopes, columns = regularisers. */
function scoreMatrix(analyses: StudyAnalysis[], metric: StudyMetric, regs: StudyRegularizer[]): string {
  const rows: string[][] = [['activation', ...regs.map(String), 'N']];
  for (const a of analyses.filter((x) => x.metric === metric)) {
    rows.push([
      scopeLabel(a.scope),
      ...regs.map((r) => {
        const j = a.methods.indexOf(r);
        if (j < 0 || a.datasets.length === 0) return '—';
        return `${pct(a.meanScores[j])} [${a.averageRanks ? a.averageRanks[j].toFixed(1) : '—'}]`;
      }),
      String(a.datasets.length),
    ]);
  }
  return markdownTable(rows, { align: ['l', ...regs.map(() => 'r' as const), 'r'] });
}

/**
 * DREG against each other regulariser for one metric: rows = the other
 * regularisers, columns = scopes (activations, pooled); a cell is
 * "Δ p pHolm" (Δ = mean score difference DREG − other in points).
 */
function testsTable(analyses: StudyAnalysis[], metric: StudyMetric, others: StudyRegularizer[]): string {
  const scoped = analyses.filter((a) => a.metric === metric);
  const rows: string[][] = [[`${metric}: DREG vs`, ...scoped.map((a) => scopeLabel(a.scope))]];
  for (const r of others) {
    rows.push([
      r,
      ...scoped.map((a) => {
        const c = a.comparison?.control?.comparisons.find((x) => x.method === r);
        return c ? `${signed(100 * c.meanDifference)} ${fmtP(c.wilcoxon.p)} ${fmtP(c.pHolm)}` : '—';
      }),
    ]);
  }
  rows.push(['DREG avg. rank', ...scoped.map((a) => (a.averageRanks && a.methods.includes('dreg') ? `${a.averageRanks[a.methods.indexOf('dreg')].toFixed(2)} of ${a.methods.length}` : '—'))]);
  return markdownTable(rows, { align: ['l', ...scoped.map(() => 'r' as const)] });
}

/** Friedman and Nemenyi, one line per analysis. */
function friedmanLines(analyses: StudyAnalysis[]): string[] {
  return analyses.map((a) => {
    const c = a.comparison;
    if (!c) return `- ${scopeLabel(a.scope)} ${a.metric}: ${a.note ?? 'no comparison'}`;
    const groups = c.nemenyi.groups.length > 0 ? c.nemenyi.groups.map((g) => `{${g.join(', ')}}`).join(' ') : 'none (every pair differs)';
    return `- ${scopeLabel(a.scope)} ${a.metric}: Friedman χ²_F = ${c.friedman.chiSquare.toFixed(2)} (p ${fmtP(c.friedman.p)}), Iman–Davenport F_F = ${Number.isFinite(c.friedman.imanDavenport.statistic) ? c.friedman.imanDavenport.statistic.toFixed(2) : '∞'} (p ${fmtP(c.friedman.imanDavenport.p)}); Nemenyi CD = ${c.nemenyi.cd.toFixed(2)} (k = ${c.k}, N = ${c.n}); not significantly different: ${groups}`;
  });
}

/** Mean over data sets of the per-data-set mean of a field, per model; rows = activations, columns = regularisers. */
function fieldMatrix(records: StudyRecord[], acts: StudyActivation[], regs: StudyRegularizer[], cell: (rs: StudyRecord[]) => string): string {
  const rows: string[][] = [['activation', ...regs.map(String)]];
  for (const a of acts) {
    rows.push([a, ...regs.map((r) => {
      const rs = records.filter((x) => x.model === `${a}-${r}`);
      return rs.length === 0 ? '—' : cell(rs);
    })]);
  }
  return markdownTable(rows, { align: ['l', ...regs.map(() => 'r' as const)] });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Noise strength × regulariser (pooled over activations and complete data sets). */
function noiseCurve(records: StudyRecord[], analyses: StudyAnalysis[], regs: StudyRegularizer[]): string {
  const pooled = analyses.find((a) => a.metric === 'noise' && a.scope === 'pooled') ?? analyses.find((a) => a.metric === 'noise');
  const ds = new Set(pooled?.datasets ?? []);
  const scopeActs = pooled && pooled.scope !== 'pooled' ? [pooled.scope] : STUDY_ACTIVATIONS;
  const use = records.filter((r) => ds.has(r.dataset) && scopeActs.includes(splitName(r.model).activation));
  const levels: { label: string; value: (r: StudyRecord) => number }[] = [
    { label: 'clean (σ = 0)', value: (r) => r.accuracy },
    ...NOISE_SIGMAS.map((s, i) => ({ label: `σ = ${s}`, value: (r: StudyRecord) => r.noisyAccuracy[i] })),
  ];
  const rows: string[][] = [['test inputs', ...regs.map(String)]];
  for (const l of levels) {
    rows.push([l.label, ...regs.map((r) => {
      // mean over data sets of the per-data-set mean (each data set weighs the same)
      const perDs = [...ds].map((d) => {
        const rs = use.filter((x) => x.dataset === d && splitName(x.model).regularizer === r);
        return rs.length === 0 ? NaN : mean(rs.map(l.value));
      }).filter(Number.isFinite);
      return perDs.length === 0 ? '—' : pct(mean(perDs));
    })]);
  }
  return markdownTable(rows, { align: ['l', ...regs.map(() => 'r' as const)] });
}

/** Per data set × regulariser clean accuracy (mean ± std over cells) for one activation (summary.md). */
function datasetTable(records: StudyRecord[], activation: StudyActivation, regs: StudyRegularizer[], datasets: string[], field: (r: StudyRecord) => number): string {
  const rows: string[][] = [['data set', ...regs.map(String)]];
  for (const d of datasets) {
    rows.push([d, ...regs.map((r) => {
      const v = records.filter((x) => x.model === `${activation}-${r}` && x.dataset === d).map(field);
      if (v.length === 0) return '—';
      const m = mean(v);
      const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : NaN;
      return Number.isFinite(sd) ? `${pct(m)} ± ${pct(sd)}` : pct(m);
    })]);
  }
  return markdownTable(rows, { align: ['l', ...regs.map(() => 'r' as const)] });
}

function claimsTable(claims: ClaimVerdict[]): string {
  return markdownTable([['claim', 'paper', 'ours', 'holds here?'], ...claims.map((c) => [c.claim, c.paper, c.ours, c.verdict])]);
}

/** The claims for the terminal: one block each, lines within ~120 columns. */
function claimsList(claims: ClaimVerdict[]): string[] {
  const short: Record<string, string> = {
    '1': `DREG (λ = 10^-2.5) best clean accuracy, Wilcoxon p ≤ ${DREG_STUDY_PAPER.cleanP} vs none, wd, igp; on cr, relu and gelu networks`,
    '2': DREG_STUDY_PAPER.noise,
    '3': `${DREG_STUDY_PAPER.grid.runs} runs = 4 activations × 6 regularisers × 8 data sets × 5 seeds`,
  };
  return claims.flatMap((c) => {
    const k = c.claim[0];
    return [`(${k}) paper: ${short[k] ?? c.paper}`, ...wrapWords('    ours: ', c.ours, TERMINAL_COLUMNS, ' '.repeat(10)), `    → ${c.verdict}`];
  });
}

/** `prefix` and `items` joined by `sep`, wrapped for the terminal. */
function wrap(prefix: string, items: string[], width = TERMINAL_COLUMNS, sep = ', '): string[] {
  return wrapLine(`${prefix} ${items.join(sep)}`, width);
}

/** `text` after `prefix`, wrapped for the terminal, continuation lines starting with `indent`. */
function wrapWords(prefix: string, text: string, width: number, indent: string): string[] {
  return wrapLine(prefix + text, width, indent);
}

/** Facts a reader of the tables should know (summary.md and results.json). */
export const STUDY_NOTES: readonly string[] = [
  'Every coefficient is the library default of createRegularizer (fixed before any run, never tuned): weight decay c = 1e-4, input-gradient and projection λ = 1e-2, DREG λ = 10^-2.5 (the paper\'s).',
  'Spectral normalisation divides every kernel, the output layer\'s included, by its largest singular value (Miyato et al. 2018, as fixed before any run): the network\'s Lipschitz constant is then bounded by that of its activations (1 for relu and tanh), which bounds the logits; a hidden-layers-only variant (e.g. SNGP) was not run.',
  'τ = p99/mean of the per-sample input-gradient norms ‖∂ℓ_i/∂x_i‖₂ of the loss on the clean test rows (same code for every model). On a trained classifier most test rows have tiny loss gradients, so τ is far above 1 here.',
  'A cell tests on one fold (1/5 of the rows used), so one test row is worth 100/(rows/5) points; with the default row cap of 500 that is 1 point: small differences between regularisers are often exact ties.',
  'Wilcoxon p-values are the exact signed-rank distribution when the non-zero |differences| have no ties (N ≤ 50), else the normal approximation with continuity correction (@stdlib/stats-wilcoxon).',
];

/** The report of a dreg-study run (see the module comment). */
export function studyReport(records: StudyRecord[], status: 'running' | 'complete', models: ReportContext['models'], input: StudyReportInput): ExperimentReport {
  const names = models.map((m) => m.name);
  const acts = STUDY_ACTIVATIONS.filter((a) => names.some((m) => splitName(m).activation === a));
  const regs = STUDY_REGULARIZERS.filter((r) => names.some((m) => splitName(m).regularizer === r));
  const dsNames = input.datasets.map((d) => d.name);
  const analyses = studyAnalyses(records, names, dsNames, input.seeds);
  const net = input.network;
  const fullDatasets = input.datasets.length + input.skipped.length;
  const claims = judgeClaims(analyses, {
    activations: acts.length,
    regularizers: regs.length,
    datasets: input.datasets.length,
    seeds: input.seeds,
    fullRuns: 4 * 6 * fullDatasets * STUDY_PROTOCOLS.full.seeds,
    fullDatasets,
  });
  const runs = acts.length * regs.length * input.datasets.length * input.seeds;
  const reduced = input.protocolName === 'default';
  const capText = input.maxRows === null ? 'all rows' : `≤ ${input.maxRows} rows per data set`;
  const header = [
    ...wrap(`Data (N = ${input.datasets.length}):`, input.datasets.map((d) => `${d.name} ${d.rows < d.totalRows ? `${d.rows}/${d.totalRows}` : d.rows}×${d.features} (${d.classes} cl.)`)),
    ...(input.skipped.length > 0 ? wrap('Skipped (data not found):', input.skipped.map((s) => s.name)) : []),
    `Grid: ${acts.length} activations × ${regs.length} regularisers × ${input.datasets.length} data sets × ${input.seeds} cell(s) = ${runs} runs.`,
    reduced
      ? `REDUCED grid (default protocol): ${capText}, ${input.seeds} of ${STUDY_FOLDS} folds, MLP ${net.hidden.join('-')}, ${net.epochs} epochs.`
      : `Full protocol: ${capText}, ${input.seeds} cell(s) per data set, MLP ${net.hidden.join('-')}, ${net.epochs} epochs.`,
    ...(reduced ? [`--protocol full: 4 × 6 × ${fullDatasets} × 5 = ${4 * 6 * fullDatasets * 5} runs, all rows, MLP ${STUDY_PROTOCOLS.full.network.hidden.join('-')}, ${STUDY_PROTOCOLS.full.network.epochs} epochs.`] : []),
    ...wrap('Regularisers:', regs.map((r) => `${r} = ${STUDY_REGULARIZER_SPECS[r].label}`), TERMINAL_COLUMNS, '; '),
  ];
  const others = regs.filter((r) => r !== 'dreg');
  const cdFiles = (status === 'complete' ? analyses.filter((a) => a.comparison && (a.scope === 'pooled' || a.metric === 'clean')) : []).map((a) => ({
    file: a.scope === 'pooled' ? `cd-${a.metric}.svg` : `cd-${a.metric}-${a.scope}.svg`,
    spec: cdDiagramFromComparison(a.comparison!, {
      title: `${a.metric === 'clean' ? 'clean test accuracy' : `accuracy under Gaussian noise (mean over σ = ${NOISE_SIGMAS.join(', ')})`}: ${a.scope === 'pooled' ? 'regularisers pooled over activations' : `${a.scope} networks`} (N = ${a.comparison!.n} data sets)`,
    }) as TopLevelSpec,
  }));
  const lastEpoch = records.filter((r) => r.info?.bestEpoch === net.epochs).length;
  const budgetLine =
    records.length > 0
      ? `Best validation epoch = the last (${net.epochs}) in ${lastEpoch} of ${records.length} runs${lastEpoch > records.length / 4 ? ': many models were still improving when training stopped' : ''}.`
      : '';
  const tauCell = (rs: StudyRecord[]) => mean(rs.map((r) => r.tau)).toFixed(3);
  const secCell = (rs: StudyRecord[]) => mean(rs.map((r) => r.trainSeconds)).toFixed(2);
  const statsIntro = `DREG vs each regulariser over the data sets — cell: Δ = DREG − other (points), Wilcoxon p, Holm p (over ${others.length}):`;
  const noiseText = `σ ∈ {${NOISE_SIGMAS.join(', ')}}`;
  const terminal = [
    ...header,
    '',
    'Clean test accuracy (%), mean over the data sets [average rank of the regulariser in its row, 1 = best]:',
    scoreMatrix(analyses, 'clean', regs),
    '',
    `Accuracy under Gaussian input noise (%), mean over ${noiseText} and the data sets [average rank]:`,
    scoreMatrix(analyses, 'noise', regs),
    '',
    'Accuracy (%) by noise strength, pooled over activations and data sets:',
    noiseCurve(records, analyses, regs),
    '',
    ...(regs.includes('dreg') && others.length > 0
      ? analyses.some((a) => a.comparison)
        ? [statsIntro, testsTable(analyses, 'clean', others), '', testsTable(analyses, 'noise', others), '']
        : ['DREG vs each regulariser: no tests (they need at least 2 complete data sets).', '']
      : []),
    'Friedman / Nemenyi (α = 0.05):',
    ...friedmanLines(analyses.filter((a) => a.scope === 'pooled' || analyses.every((b) => b.scope !== 'pooled'))).flatMap((l) => wrapWords('', l, TERMINAL_COLUMNS, '    ')),
    '',
    'τ = p99/mean of per-sample input-gradient norms on the test rows (mean over runs):',
    fieldMatrix(records, acts, regs, tauCell),
    '',
    'Train seconds per run (mean):',
    fieldMatrix(records, acts, regs, secCell),
    ...(budgetLine ? [budgetLine] : []),
    '',
    `The paper's claims (${DREG_STUDY_PAPER.source.split(',')[0]}) beside ours:`,
    ...claimsList(claims),
    ...(cdFiles.length > 0 ? ['', `CD diagrams: ${cdFiles.map((f) => f.file).join(', ')} (in the results folder).`] : []),
  ].join('\n');

  const markdown = [
    `Protocol: ${input.protocolName}. Cells: per data set, the first ${input.seeds} fold(s) of repeated stratified ${STUDY_FOLDS}-fold (seed ${input.seed}); ` +
      `one cell = one train/test split (test = 1/${STUDY_FOLDS} of the rows) and the seed of every model's initialisation, batch order and noise draws. ` +
      `Rows: ${capText} (a seeded stratified sample keeping ≥ ${STUDY_FOLDS} rows of each class). ` +
      `Median imputation and standardisation fitted on each training part; ${Math.round(100 * net.validationFraction)}% of it (stratified) held out to pick the epoch with the lowest validation cross-entropy. ` +
      `Every model: MLP ${net.hidden.join('-')}, Adam lr ${net.learningRate}, batch ${net.batchSize}, ${net.epochs} epochs, twice-differentiable softmax cross-entropy; cr = cubic polynomial activation (monomial basis, tanh guard, GELU init).`,
    '',
    `Noise: x̃ = x + σ·ε, ε ~ N(0, I) on the standardised test features, ${noiseText}, 5 draws each (the same draws for every model of a cell); noise score = mean accuracy over the strengths.`,
    '',
    'Statistics (Demšar 2006): per data set the score is the mean over its cells; per activation the six regularisers are compared over the N data sets, and "pooled" compares them on the mean over the activations (one score per data set, so the data sets stay the independent units). ' +
      'Average ranks (1 = best); Friedman χ²_F and Iman–Davenport F_F; Nemenyi critical difference (α = 0.05); Wilcoxon signed-rank tests of DREG against each other regulariser with Holm\'s correction over those comparisons, and Demšar\'s rank z test (Holm). ' +
      `With N data sets the smallest two-sided Wilcoxon p is 2/2^N (N = 5: 0.0625; N = 6: 0.031; N = 8: 0.0078; N = 11: 0.00098).`,
    '',
    'How to read a CD diagram: the axis holds the average ranks (best, rank 1, on the right); each regulariser hangs from its average rank; a thick bar joins regularisers whose average ranks differ by less than the critical difference CD (drawn above the axis), i.e. not significantly different by the Nemenyi test.',
    '',
    ...header,
    '',
    '## Clean test accuracy (%), mean over data sets [average rank]',
    '',
    scoreMatrix(analyses, 'clean', regs),
    '',
    `## Accuracy under Gaussian noise (%), mean over ${noiseText} [average rank]`,
    '',
    scoreMatrix(analyses, 'noise', regs),
    '',
    '## Accuracy by noise strength (pooled)',
    '',
    noiseCurve(records, analyses, regs),
    '',
    ...(regs.includes('dreg') && others.length > 0 ? ['## DREG against each regulariser', '', statsIntro, '', testsTable(analyses, 'clean', others), '', testsTable(analyses, 'noise', others), ''] : []),
    '## Friedman and Nemenyi (every analysis)',
    '',
    ...friedmanLines(analyses),
    '',
    '## τ (mean over runs)',
    '',
    fieldMatrix(records, acts, regs, tauCell),
    '',
    '## Train seconds per run (mean)',
    '',
    fieldMatrix(records, acts, regs, secCell),
    '',
    ...(budgetLine ? [budgetLine, ''] : []),
    "## The paper's claims",
    '',
    `Source: ${DREG_STUDY_PAPER.source}.`,
    '',
    claimsTable(claims),
    '',
    '## Notes',
    '',
    ...STUDY_NOTES.map((n) => `- ${n}`),
    '',
    '## Per data set (mean ± std over cells)',
    '',
    ...acts.flatMap((a) => [
      `### ${a}: clean accuracy (%)`,
      '',
      datasetTable(records, a, regs, dsNames, (r) => r.accuracy),
      '',
      `### ${a}: accuracy under noise (%), mean over ${noiseText}`,
      '',
      datasetTable(records, a, regs, dsNames, (r) => r.noiseAccuracy),
      '',
    ]),
  ].join('\n');

  return {
    terminal,
    markdown,
    doc: {
      analyses: analyses.map((a) => ({ ...a })),
      claims,
      paper: DREG_STUDY_PAPER,
      notes: STUDY_NOTES,
      datasets: input.datasets,
      skipped: input.skipped,
    },
    plots: cdFiles,
  };
}
