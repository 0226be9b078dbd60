/**
 * The report of the frozen-embedding head experiments (sst5, yelp): accuracy
 * (and MAE / QWK for ordinal tasks), τ, best epoch, parameters, and paired
 * comparisons of the reference head with every other head — paired t and
 * Wilcoxon over seeds on one fixed split, or the Nadeau–Bengio corrected t and
 * Wilcoxon over k-fold units — Holm-adjusted, with the paper's and the
 * literature's figures on their own labelled rows.
 *
 * With several encoders (`--encoder glove,use-lite`) every head ran on each:
 * the rows are grouped by encoder (an `encoder` column), head comparisons stay
 * within one encoder, and an "encoder effect" table compares each head on the
 * first encoder with the same head on every other encoder, paired by unit
 * (same seeds, same split or folds).
 */
import { markdownTable } from 'markdown-table';
import { adjustPValues, meanAbsoluteError, meanStd, quadraticWeightedKappa } from '@chainz/metrics';
import type { TabularFold, FitResult } from '../../models/types';
import type { ExperimentReport, ReportContext } from '../../runner/contract';
import { compareModels, summarize, type Comparison, type ModelSummary, type SummaryUnit } from './model-summary';
import { foldRecord, type FoldRecord } from './tabular';
import type { EarlierEncoderRun } from './earlier-runs';
import { TERMINAL_COLUMNS, wrapLine } from '../../runner/terminal';

export { TERMINAL_COLUMNS, wrapLine };


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
  /** The encoder behind the figure (e.g. `BERT`, `GloVe`), shown in the encoder column of multi-encoder tables. */
  encoder?: string;
}

/** One encoder of a multi-encoder run; its units carry `encoder: key`. */
export interface EncoderGroup {
  /** Short name in tables and unit keys (e.g. `glove`, `use-lite`). */
  key: string;
  /** One line describing it. */
  label: string;
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
  /** Units every model should have (per encoder). */
  expectedUnits: number;
  /** Mean training / test rows per unit (for the corrected t-test). */
  sizes: { nTrain: number; nTest: number };
  /** Lines printed above the table (encoder, data scale); wrapped to {@link TERMINAL_COLUMNS} on the terminal. */
  headerLines: string[];
  references: ReferenceRow[];
  /** The paper's figures as stored in results.json. */
  paper: Record<string, unknown>;
  /** One paragraph describing the protocol for summary.md. */
  protocolText: string;
  notes: string[];
  /** Extra facts for results.json (e.g. embedding seconds, cache hits). */
  extra?: Record<string, unknown>;
  /** Two or more encoders: records carry an `encoder` field, rows are grouped by it, plus the encoder-effect table. */
  encoders?: EncoderGroup[];
  /**
   * One-encoder runs: this run's encoder (short name) and other encoders'
   * units from earlier completed runs of the same protocol
   * ({@link findEarlierEncoderRuns}), shown below ours with `†` and the run's
   * folder; they take no part in this run's statistics.
   */
  encoder?: string;
  earlier?: EarlierEncoderRun[];
}

/** Mean ± std of MAE and QWK over a model's units (ordinal tasks). */
export interface OrdinalSummary {
  name: string;
  mae: { mean: number; std: number };
  qwk: { mean: number; std: number };
}

/**
 * A head on the first encoder (`a`) against the same head on another encoder
 * (`b`), paired by unit; `meanDifference` = accuracy on `a` − on `b`
 * (fraction); p Holm-adjusted over the heads, per test and encoder pair.
 */
export interface EncoderComparison {
  model: string;
  a: string;
  b: string;
  test: Comparison['test'];
  statistic: number;
  p: number;
  pAdjusted: number;
  meanDifference: number;
  note?: string;
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

/** One progress line for a head's unit (with its encoder in multi-encoder runs). */
export function describeHeadRecord(r: FoldRecord, statistics: 'seeds' | 'folds', seedOf?: (r: FoldRecord) => number): string {
  const where = statistics === 'seeds' ? `seed ${seedOf ? seedOf(r) : String(r.fold)}` : `r${String(r.repeat)} f${String(r.fold)}`;
  const enc = typeof r.encoder === 'string' ? ` [${r.encoder}]` : '';
  const extra = typeof r.info?.mae === 'number' ? ` MAE ${Number(r.info.mae).toFixed(3)} QWK ${Number(r.info.qwk).toFixed(3)}` : '';
  return `${r.model}${enc} ${where}: acc ${(100 * r.accuracy).toFixed(2)}%${extra}${r.tau !== null ? ` τ ${r.tau.toFixed(3)}` : ''} (${r.trainSeconds.toFixed(1)} s)`;
}

/** The results of one encoder (or of the whole run when there is one). */
interface Group {
  encoder?: string;
  units: SummaryUnit[];
  summaries: ModelSummary[];
  ordinal: OrdinalSummary[];
  comparisons: Comparison[];
}

/** The report of a heads run: full table in summary.md, a compact one (≤ ~120 columns) on the terminal. */
export function headsReport(records: FoldRecord[], models: ReportContext['models'], input: HeadsReportInput): ExperimentReport {
  const reference = input.reference ?? (models.some((m) => m.name === 'cr') ? 'cr' : models[0].name);
  const all = records;
  const encoders = input.encoders && input.encoders.length > 1 ? input.encoders : undefined;
  const groups: Group[] = (encoders ? encoders.map((e) => e.key) : [undefined]).map((encoder) => {
    const units = encoder === undefined ? all : all.filter((u) => u.encoder === encoder);
    let comparisons = compareModels(units, reference, models.map((m) => m.name).filter((n) => n !== reference), input.sizes);
    if (input.statistics === 'seeds') comparisons = comparisons.filter((c) => c.test !== 'corrected-resampled-t');
    return {
      encoder,
      units,
      summaries: summarize(units, models, input.expectedUnits),
      ordinal: input.ordinal ? summarizeOrdinal(units, models) : [],
      comparisons: encoder === undefined ? comparisons : comparisons.map((c) => ({ ...c, encoder })),
    };
  });
  const encoderComparisons = encoders ? compareEncoders(all, models, encoders.map((e) => e.key), input) : [];
  // One encoder: other encoders' rows from earlier runs, below ours, marked †.
  const earlier = !encoders && input.encoder !== undefined ? (input.earlier ?? []) : [];
  const earlierGroups: Group[] = earlier.map((run) => {
    let comparisons = compareModels(run.units, reference, models.map((m) => m.name).filter((n) => n !== reference), input.sizes);
    if (input.statistics === 'seeds') comparisons = comparisons.filter((c) => c.test !== 'corrected-resampled-t');
    return { encoder: `${run.encoder}†`, units: run.units, summaries: summarize(run.units, models, input.expectedUnits), ordinal: input.ordinal ? summarizeOrdinal(run.units, models) : [], comparisons };
  });
  if (earlier.length > 0) groups[0].encoder = input.encoder;
  const shown = [...groups, ...earlierGroups];
  const earlierLines = earlier.map(
    (run) =>
      `† ${run.encoder}: from the completed run ${run.dir} (${run.finishedAt.replace(/\.\d+Z$/, 'Z')}) with the same protocol, data and head settings; ` +
      `not paired with this run (for a paired comparison: --encoder ${input.encoder},${run.encoder}).`,
  );
  const tableInput: HeadTableInput = { reference, statistics: input.statistics, ordinal: input.ordinal, headerLines: input.headerLines, references: input.references, models, multiEncoder: Boolean(encoders) || earlier.length > 0 };
  const table = renderGroupedTable(tableInput, shown);
  const testText =
    input.statistics === 'seeds'
      ? `p-values: paired t-test and Wilcoxon signed-rank test of \`${reference}\` against each model over seeds (same split, so no resampling correction is needed), Holm-adjusted within each test's family${encoders ? ' (per encoder)' : ''}; raw p first, adjusted in brackets.`
      : `p-values: Nadeau–Bengio corrected resampled t-test and Wilcoxon signed-rank test of \`${reference}\` against each model over folds, Holm-adjusted within each test's family${encoders ? ' (per encoder)' : ''}; raw p first, adjusted in brackets.`;
  const effect = encoders ? renderEncoderEffect(encoders.map((e) => e.key), groups, encoderComparisons, input.statistics, false) : '';
  const effectCompact = encoders ? renderEncoderEffect(encoders.map((e) => e.key), groups, encoderComparisons, input.statistics, true) : '';
  const claimed = input.references.some((r) => r.tau && /claimed/.test(r.tau));
  const footnote = claimed ? ['* τ as claimed by the paper, for all tasks.'] : [];
  return {
    terminal: [renderCompactGroupedTable(tableInput, shown), ...footnote, ...earlierLines.flatMap((l) => wrapLine(l, TERMINAL_COLUMNS)), ...(effectCompact ? ['', effectCompact] : [])].join('\n'),
    markdown: [input.protocolText, '', testText, '', table, ...(earlierLines.length > 0 ? ['', ...earlierLines] : []), ...(effect ? ['', effect] : []), '', ...input.notes.map((n) => `- ${n}`)].join('\n'),
    doc: {
      models: groups.flatMap((g) =>
        g.summaries.map((s) => ({
          ...(g.encoder !== undefined ? { encoder: g.encoder } : {}),
          ...s,
          ...(input.ordinal ? { mae: g.ordinal.find((o) => o.name === s.name)?.mae, qwk: g.ordinal.find((o) => o.name === s.name)?.qwk } : {}),
          config: models.find((m) => m.name === s.name)?.config,
        })),
      ),
      comparisons: groups.flatMap((g) => g.comparisons),
      ...(encoders ? { encoderComparisons } : {}),
      ...(earlier.length > 0
        ? {
            earlierRuns: earlier.map((run, i) => ({
              encoder: run.encoder,
              encoderId: run.encoderId,
              dir: run.dir,
              finishedAt: run.finishedAt,
              models: earlierGroups[i].summaries.map((s) => ({
                ...s,
                ...(input.ordinal ? { mae: earlierGroups[i].ordinal.find((o) => o.name === s.name)?.mae, qwk: earlierGroups[i].ordinal.find((o) => o.name === s.name)?.qwk } : {}),
              })),
            })),
          }
        : {}),
      paper: input.paper,
      references: input.references,
      notes: input.notes,
      ...(input.extra ?? {}),
    },
  };
}

/**
 * Each head on the first encoder against the same head on every other
 * encoder, paired by (repeat, fold): the test the run's statistics call for
 * (paired t over seeds, corrected resampled t over folds) and Wilcoxon, Holm
 * over the heads per (test, encoder pair).
 */
function compareEncoders(all: FoldRecord[], models: { name: string }[], keys: string[], input: HeadsReportInput): EncoderComparison[] {
  const [first, ...others] = keys;
  const tests: Comparison['test'][] = input.statistics === 'seeds' ? ['paired-t', 'wilcoxon'] : ['corrected-resampled-t', 'paired-t', 'wilcoxon'];
  const out: EncoderComparison[] = [];
  for (const b of others) {
    const raw: Omit<EncoderComparison, 'pAdjusted'>[] = [];
    for (const m of models) {
      // The same head on two encoders, renamed so the head comparison pairs them by unit.
      const pair = all
        .filter((u) => u.model === m.name)
        .flatMap((u) => {
          const enc = u.encoder;
          return enc === first ? [{ ...u, model: 'a' }] : enc === b ? [{ ...u, model: 'b' }] : [];
        });
      for (const c of compareModels(pair, 'a', ['b'], input.sizes)) {
        if (tests.includes(c.test)) raw.push({ model: m.name, a: first, b, test: c.test, statistic: c.statistic, p: c.p, meanDifference: c.meanDifference, ...(c.note ? { note: c.note } : {}) });
      }
    }
    for (const test of tests) {
      const fam = raw.filter((r) => r.test === test);
      const adj = fam.length > 0 ? adjustPValues(fam.map((r) => r.p), 'holm') : [];
      fam.forEach((r, i) => out.push({ ...r, pAdjusted: adj[i] }));
    }
  }
  return out;
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
const fmtP = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '—' : p === 0 ? '0' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const pCell = (c: { p: number; pAdjusted: number } | undefined) => (c ? `${fmtP(c.p)} (${fmtP(c.pAdjusted)})` : '—');
const signed = (x: number, digits: number) => `${x > 0 ? '+' : x < 0 ? '−' : ''}${Math.abs(x).toFixed(digits)}`;

/** What the head tables show. */
export interface HeadTableInput {
  reference: string;
  statistics: 'seeds' | 'folds';
  ordinal: boolean;
  headerLines: string[];
  references: ReferenceRow[];
  models: ReportContext['models'];
  /** Add an `encoder` column (rows grouped by encoder). */
  multiEncoder?: boolean;
}

/** The results table: our models, then the labelled reference rows (paper, literature). */
export function renderHeadTable(input: HeadTableInput, summaries: ModelSummary[], ordinal: OrdinalSummary[], comparisons: Comparison[], units: SummaryUnit[]): string {
  return renderGroupedTable({ ...input, multiEncoder: false }, [{ units, summaries, ordinal, comparisons }]);
}

function renderGroupedTable(input: HeadTableInput, groups: Group[]): string {
  const ref = input.reference;
  const multi = Boolean(input.multiEncoder);
  const tests = input.statistics === 'seeds' ? (['paired-t', 'wilcoxon'] as const) : (['corrected-resampled-t', 'wilcoxon'] as const);
  const testName = { 'paired-t': 'paired t', wilcoxon: 'Wilcoxon', 'corrected-resampled-t': 'corrected t' } as const;
  const unitWord = input.statistics === 'seeds' ? 'seed' : 'fold';
  const header = [
    'model',
    ...(multi ? ['encoder'] : []),
    ...(input.ordinal ? ['head'] : []),
    'accuracy % (mean ± std)',
    ...(input.ordinal ? ['MAE', 'QWK'] : []),
    'τ (p99/mean)',
    'best epoch',
    'params',
    `train s/${unitWord}`,
    ...tests.map((t) => `p vs ${ref}, ${testName[t]} (Holm${multi ? ', per encoder' : ''})`),
  ];
  const rows: string[][] = [header];
  for (const g of groups) {
    for (const s of g.summaries) {
      const o = g.ordinal.find((x) => x.name === s.name);
      const us = s.units < s.expectedUnits ? ` (${s.units}/${s.expectedUnits})` : '';
      const cfg = input.models.find((m) => m.name === s.name)?.config as { head?: string } | undefined;
      rows.push([
        s.name,
        ...(multi ? [g.encoder ?? '—'] : []),
        ...(input.ordinal ? [cfg?.head ?? 'softmax'] : []),
        `${pct(s.accuracy.mean)} ± ${Number.isFinite(s.accuracy.std) ? pct(s.accuracy.std) : '—'}${us}`,
        ...(input.ordinal ? [o ? pm(o.mae.mean, o.mae.std, 3) : '—', o ? pm(o.qwk.mean, o.qwk.std, 3) : '—'] : []),
        s.tau ? pm(s.tau.mean, s.tau.std, 3) : 'n/a',
        meanBestEpoch(g.units, s.name),
        s.parameters !== undefined ? String(s.parameters) : '—',
        s.trainSeconds.toFixed(1),
        ...tests.map((t) => (s.name === ref ? '(reference)' : pCell(g.comparisons.find((c) => c.test === t && c.b === s.name)))),
      ]);
    }
  }
  for (const r of input.references) {
    rows.push([
      r.label,
      ...(multi ? [r.encoder ?? '—'] : []),
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
  return [...input.headerLines, '', markdownTable(rows, { align: alignOf(header) })].join('\n');
}

/** Column alignment: names (model, encoder) left, numbers right. */
const alignOf = (header: string[]) => header.map((h, i) => (i === 0 || h === 'encoder' ? ('l' as const) : ('r' as const)));

/**
 * The terminal table: model (encoder, head), accuracy, MAE/QWK, τ and the
 * headline p-value (paired t over seeds, corrected t over folds;
 * Holm-adjusted in brackets); best epoch, parameters, timings and the
 * Wilcoxon test are in summary.md. Header lines are wrapped to
 * {@link TERMINAL_COLUMNS}; the paper's τ claim is marked `*`.
 */
export function renderCompactHeadTable(input: HeadTableInput, summaries: ModelSummary[], ordinal: OrdinalSummary[], comparisons: Comparison[]): string {
  return renderCompactGroupedTable({ ...input, multiEncoder: false }, [{ units: [], summaries, ordinal, comparisons }]);
}

function renderCompactGroupedTable(input: HeadTableInput, groups: Group[]): string {
  const ref = input.reference;
  const multi = Boolean(input.multiEncoder);
  const test = input.statistics === 'seeds' ? 'paired-t' : 'corrected-resampled-t';
  const header = ['model', ...(multi ? ['encoder'] : []), ...(input.ordinal ? ['head'] : []), 'accuracy %', ...(input.ordinal ? ['MAE', 'QWK'] : []), 'τ', `p vs ${ref} (Holm)`];
  const rows: string[][] = [header];
  for (const g of groups) {
    for (const s of g.summaries) {
      const o = g.ordinal.find((x) => x.name === s.name);
      const cfg = input.models.find((m) => m.name === s.name)?.config as { head?: string } | undefined;
      const us = s.units < s.expectedUnits ? ` (${s.units}/${s.expectedUnits})` : '';
      rows.push([
        s.name,
        ...(multi ? [g.encoder ?? '—'] : []),
        ...(input.ordinal ? [cfg?.head ?? 'softmax'] : []),
        `${pct(s.accuracy.mean)} ± ${Number.isFinite(s.accuracy.std) ? pct(s.accuracy.std) : '—'}${us}`,
        ...(input.ordinal ? [o ? o.mae.mean.toFixed(3) : '—', o ? o.qwk.mean.toFixed(3) : '—'] : []),
        s.tau ? s.tau.mean.toFixed(3) : 'n/a',
        s.name === ref ? '(reference)' : pCell(g.comparisons.find((c) => c.test === test && c.b === s.name)),
      ]);
    }
  }
  for (const r of input.references) {
    rows.push([
      r.short ?? r.label,
      ...(multi ? [r.encoder ?? '—'] : []),
      ...(input.ordinal ? ['—'] : []),
      r.accuracy,
      ...(input.ordinal ? [r.mae ?? '—', r.qwk ?? '—'] : []),
      r.tau ? r.tau.replace(/\s*\(claimed.*\)$/, '*') : '—',
      '—',
    ]);
  }
  const head = input.headerLines.flatMap((l) => wrapLine(l, TERMINAL_COLUMNS));
  return [...head, '', markdownTable(rows, { align: alignOf(header) })].join('\n');
}

/**
 * The encoder-effect table: each head's accuracy on every encoder and the
 * paired difference first − other with its p-value(s), Holm over heads.
 * Compact: the run's headline test only.
 */
function renderEncoderEffect(keys: string[], groups: Group[], comparisons: EncoderComparison[], statistics: 'seeds' | 'folds', compact: boolean): string {
  const [first, ...others] = keys;
  const headline: Comparison['test'] = statistics === 'seeds' ? 'paired-t' : 'corrected-resampled-t';
  const tests: Comparison['test'][] = compact ? [headline] : [headline, 'wilcoxon'];
  const testName = { 'paired-t': 'paired t', wilcoxon: 'Wilcoxon', 'corrected-resampled-t': 'corrected t' } as const;
  const header = [
    'model',
    ...keys.map((k) => `${k} %`),
    ...others.flatMap((b) => [`Δ ${first} − ${b}`, ...tests.map((t) => (compact ? 'p (Holm)' : `p, ${testName[t]} (Holm)`))]),
  ];
  const rows: string[][] = [header];
  const names = [...new Set(groups.flatMap((g) => g.summaries.map((s) => s.name)))];
  for (const name of names) {
    const acc = keys.map((k) => groups.find((g) => g.encoder === k)?.summaries.find((s) => s.name === name));
    rows.push([
      name,
      ...acc.map((s) => (s ? pct(s.accuracy.mean) : '—')),
      ...others.flatMap((b) => {
        const c = comparisons.filter((x) => x.model === name && x.b === b);
        // Without a test (fewer than 2 paired units) the difference of the means is still shown.
        const sb = groups.find((g) => g.encoder === b)?.summaries.find((s) => s.name === name);
        const diff = c[0] ? c[0].meanDifference : acc[0] && sb ? acc[0].accuracy.mean - sb.accuracy.mean : undefined;
        return [diff !== undefined ? signed(100 * diff, 2) : '—', ...tests.map((t) => pCell(c.find((x) => x.test === t)))];
      }),
    ]);
  }
  const unit = statistics === 'seeds' ? 'seed (same split)' : 'fold (same folds)';
  const title = `Encoder effect: each head on ${first} vs on ${others.join(', ')}, accuracy points, paired by ${unit}; ${compact ? testName[headline] : `${testName[headline]} and Wilcoxon`}, Holm over heads.`;
  return [...wrapLine(title, TERMINAL_COLUMNS), '', markdownTable(rows, { align: ['l', ...header.slice(1).map(() => 'r' as const)] })].join('\n');
}

