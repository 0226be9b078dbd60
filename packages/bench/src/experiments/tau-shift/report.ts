/**
 * Tables, statistics and plot of `chainz bench tau-shift`: per model, the
 * Spearman correlation between label-free τ and accuracy across shift levels
 * (per data source, pooled over the tabular sets, pooled over everything),
 * with a seeded bootstrap interval, the same for the max-softmax confidence
 * baseline, a plain verdict, and the paper's claim beside ours.
 */
import { markdownTable } from 'markdown-table';
import { TERMINAL_COLUMNS, wrapLine } from '../../runner/terminal';
import type { TopLevelSpec } from 'vega-lite';
import { spearmanCorrelation, type SpearmanResult } from '@chainz/metrics';
import type { ExperimentReport, ReportContext, UnitRecord } from '../../runner/contract';
import { TAU_SHIFT_FIXED, TAU_SHIFT_PAPER } from './config';
import type { LevelResult } from './models';
import type { ShiftFamily } from './shifts';

/** The stored result of one (model, data source, seed) unit. */
export interface ShiftRecord extends UnitRecord {
  model: string;
  /** Data source: `cifar10c` or a tabular data set's name. */
  source: string;
  /** Seed index 0..n−1 (the cell key). */
  seed: number;
  /** The seed the unit ran with (initialisation, batch order), derived from --seed, the source and the index. */
  unitSeed: number;
  /** Clean first, then every shift level. */
  levels: LevelResult[];
  trainSeconds: number;
  evalSeconds: number;
  nTrain: number;
  nTest: number;
  info: Record<string, number | string>;
}

/** One point of a correlation: a shift level, relative to the same model's clean test part (same source and seed). */
export interface ShiftPoint {
  model: string;
  source: string;
  seed: number;
  family: ShiftFamily;
  shift: string;
  strength: number;
  /** τ / τ_clean (null when either τ is undefined). */
  tauRatio: number | null;
  /** Confidence − confidence_clean. */
  confidenceChange: number;
  /** Accuracy − accuracy_clean (fraction). */
  accuracyChange: number;
  /** Raw values. */
  tau: number | null;
  accuracy: number;
  confidence: number;
}

/** A correlation of a signal with accuracy over a group of points; null when fewer than 4 points or the signal or accuracy is constant. */
export interface Correlation {
  n: number;
  rho: number | null;
  ci: [number, number] | null;
  pValue: number | null;
  /** Why no value (fewer than 4 points, a constant variable), else absent. */
  note?: string;
}

/** The correlations of one model over one group of points. */
export interface GroupCorrelation {
  model: string;
  /** A data source, `tabular noise` / `tabular dropout` (one family, clean points included, pooled over the tabular sets), `tabular (pooled)` or `all (pooled)`. */
  group: string;
  tau: Correlation;
  confidence: Correlation;
  /** Points left out of the τ correlation because τ was undefined (all gradient norms zero). */
  tauUndefined: number;
}

export const POOLED_TABULAR = 'tabular (pooled)';
export const POOLED_NOISE = 'tabular noise';
export const POOLED_DROPOUT = 'tabular dropout';
export const POOLED_ALL = 'all (pooled)';

/** Points of every level of every record (clean included: its changes are 0 and its ratio 1). */
export function shiftPoints(records: ShiftRecord[]): ShiftPoint[] {
  const out: ShiftPoint[] = [];
  for (const r of records) {
    const clean = r.levels.find((l) => l.family === 'clean');
    if (!clean) continue;
    for (const l of r.levels) {
      out.push({
        model: r.model,
        source: r.source,
        seed: r.seed,
        family: l.family,
        shift: l.shift,
        strength: l.strength,
        tauRatio: l.tau !== null && clean.tau !== null && clean.tau > 0 ? l.tau / clean.tau : null,
        confidenceChange: l.confidence - clean.confidence,
        accuracyChange: l.accuracy - clean.accuracy,
        tau: l.tau,
        accuracy: l.accuracy,
        confidence: l.confidence,
      });
    }
  }
  return out;
}

/** Spearman ρ of x and y with the bootstrap interval (`withInterval`), or the reason there is none. */
export function correlate(x: number[], y: number[], withInterval: boolean, seed: number): Correlation {
  const n = x.length;
  if (n < 4) return { n, rho: null, ci: null, pValue: null, note: 'fewer than 4 points' };
  const r: SpearmanResult = spearmanCorrelation(x, y, { resamples: withInterval ? TAU_SHIFT_FIXED.bootstrapResamples : 1, confidence: TAU_SHIFT_FIXED.confidence, seed });
  if (Number.isNaN(r.rho)) return { n, rho: null, ci: null, pValue: null, note: 'a constant variable' };
  return { n, rho: r.rho, ci: withInterval ? r.ci : null, pValue: r.pValue };
}

/**
 * The correlations of every model over every data source and the two pools.
 * Within a source, τ ratio, confidence change and accuracy change per (seed,
 * level) are compared; pooled groups put the points of several sources
 * together (changes relative to each source's own clean test part, since raw
 * levels differ between data sets).
 * @param withInterval compute the bootstrap intervals (slow; only for the final report).
 */
export function correlations(points: ShiftPoint[], models: string[], sources: string[], seed: number, withInterval: boolean): GroupCorrelation[] {
  const tabular = sources.filter((s) => s !== 'cifar10c');
  const groups: [string, (p: ShiftPoint) => boolean][] = sources.map((s) => [s, (p: ShiftPoint) => p.source === s]);
  if (tabular.length > 0) {
    // one family of tabular shifts at a time (with the clean points), pooled over the tabular sets
    groups.push([POOLED_NOISE, (p) => p.source !== 'cifar10c' && (p.family === 'gaussian-noise' || p.family === 'clean')]);
    groups.push([POOLED_DROPOUT, (p) => p.source !== 'cifar10c' && (p.family === 'feature-dropout' || p.family === 'clean')]);
  }
  if (tabular.length > 1) groups.push([POOLED_TABULAR, (p) => p.source !== 'cifar10c']);
  if (tabular.length > 0 && sources.includes('cifar10c')) groups.push([POOLED_ALL, () => true]);
  const out: GroupCorrelation[] = [];
  for (const model of models) {
    const mine = points.filter((p) => p.model === model);
    if (mine.length === 0) continue;
    for (const [group, keep] of groups) {
      const pts = mine.filter(keep);
      if (pts.length === 0) continue;
      const withTau = pts.filter((p) => p.tauRatio !== null);
      out.push({
        model,
        group,
        tau: correlate(withTau.map((p) => p.tauRatio!), withTau.map((p) => p.accuracyChange), withInterval, seed),
        confidence: correlate(pts.map((p) => p.confidenceChange), pts.map((p) => p.accuracyChange), withInterval, seed),
        tauUndefined: pts.length - withTau.length,
      });
    }
  }
  return out;
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;

/** `−0.42 [−0.61, −0.20]`, or `—` with the reason. */
export function formatCorrelation(c: Correlation): string {
  if (c.rho === null) return `— (${c.note})`;
  return c.ci ? `${signed(c.rho)} [${signed(c.ci[0])}, ${signed(c.ci[1])}]` : signed(c.rho);
}

/**
 * A plain verdict on τ for one group: does its interval exclude 0, in which
 * direction, and is it stronger or weaker than the confidence baseline.
 */
export function verdict(g: GroupCorrelation): string {
  const t = g.tau;
  const c = g.confidence;
  if (t.rho === null) return `τ: no correlation (${t.note})`;
  if (!t.ci) return `τ ρ ${signed(t.rho)} (interval at the end of the run)`;
  const excludes = t.ci[0] > 0 || t.ci[1] < 0;
  const dir = t.rho < 0 ? 'higher τ went with lower accuracy' : 'higher τ went with higher accuracy';
  const head = excludes ? `yes, ${dir}` : 'no (interval includes 0)';
  if (c.rho === null) return head;
  const cmp = Math.abs(t.rho) > Math.abs(c.rho) ? 'stronger than' : Math.abs(t.rho) < Math.abs(c.rho) ? 'weaker than' : 'as strong as';
  return `${head}; ${cmp} confidence (|ρ| ${Math.abs(t.rho).toFixed(2)} vs ${Math.abs(c.rho).toFixed(2)})`;
}

const FAMILY_LABEL: Record<ShiftFamily, string> = { clean: 'clean', 'gaussian-noise': 'noise σ', 'feature-dropout': 'dropout p', corruption: 'CIFAR-10-C severity' };
const FAMILY_TITLE: Record<ShiftFamily, string> = { clean: 'clean', 'gaussian-noise': 'Gaussian feature noise', 'feature-dropout': 'feature dropout', corruption: 'CIFAR-10-C corruptions' };

/** Mean of the finite values (NaN when none). */
function mean(xs: number[]): number {
  const v = xs.filter(Number.isFinite);
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/**
 * Per shift level (family, strength), per model: mean accuracy change (pp)
 * and mean τ ratio over sources, seeds (and corruptions), one cell
 * `Δacc / τ ratio` per model (say so above the table).
 */
export function levelTable(points: ShiftPoint[], models: string[]): string {
  const levels = new Map<string, { family: ShiftFamily; strength: number }>();
  for (const p of points) levels.set(`${p.family}/${p.strength}`, { family: p.family, strength: p.strength });
  const order: ShiftFamily[] = ['clean', 'gaussian-noise', 'feature-dropout', 'corruption'];
  const sorted = [...levels.values()].sort((a, b) => order.indexOf(a.family) - order.indexOf(b.family) || a.strength - b.strength);
  const rows = [['shift', 'level', ...models]];
  for (const l of sorted) {
    if (l.family === 'clean') continue;
    const row = [FAMILY_LABEL[l.family], String(l.strength)];
    for (const m of models) {
      const pts = points.filter((p) => p.model === m && p.family === l.family && p.strength === l.strength);
      const da = mean(pts.map((p) => 100 * p.accuracyChange));
      const tr = mean(pts.map((p) => p.tauRatio ?? Number.NaN));
      row.push(`${Number.isNaN(da) ? '—' : signed(da)} / ${Number.isNaN(tr) ? '—' : tr.toFixed(3)}`);
    }
    rows.push(row);
  }
  return markdownTable(rows, { align: ['l', 'r', ...models.map(() => 'r' as const)] });
}

/** Clean accuracy and τ per model and source (mean over seeds). */
export function cleanTable(records: ShiftRecord[], models: string[], sources: string[]): string {
  const rows = [['source', ...models.map((m) => `${m} acc % / τ`)]];
  for (const s of sources) {
    const row = [s];
    for (const m of models) {
      const cl = records.filter((r) => r.model === m && r.source === s).map((r) => r.levels.find((l) => l.family === 'clean')!);
      row.push(cl.length === 0 ? '—' : `${(100 * mean(cl.map((l) => l.accuracy))).toFixed(1)} / ${mean(cl.map((l) => l.tau ?? Number.NaN)).toFixed(3)}`);
    }
    rows.push(row);
  }
  return markdownTable(rows, { align: ['l', ...models.map(() => 'r' as const)] });
}

/** Scatter of τ ratio (top) and confidence change (bottom) vs accuracy change, one column per shift family, coloured by model. */
export function scatterSpec(points: ShiftPoint[], models: string[], title: string): TopLevelSpec {
  const values = points
    .filter((p) => p.family !== 'clean')
    .map((p) => ({
      model: p.model,
      source: p.source,
      family: FAMILY_TITLE[p.family],
      strength: p.strength,
      tauRatio: p.tauRatio,
      confidenceChange: 100 * p.confidenceChange,
      accuracyChange: 100 * p.accuracyChange,
    }));
  const order: ShiftFamily[] = ['corruption', 'gaussian-noise', 'feature-dropout'];
  const families = order.map((f) => FAMILY_TITLE[f]).filter((t) => values.some((v) => v.family === t));
  const panel = (field: 'tauRatio' | 'confidenceChange', axis: string, log: boolean) => ({
    data: { values },
    transform: field === 'tauRatio' ? [{ filter: 'isValid(datum.tauRatio)' }] : [],
    facet: { column: { field: 'family', type: 'nominal', sort: families, title: null } },
    spec: {
      width: 220,
      height: 200,
      // no per-point ARIA labels or tooltips: a thousand points would make a megabyte of SVG
      mark: { type: 'point', filled: true, opacity: 0.45, size: 22, aria: false },
      encoding: {
        x: { field, type: 'quantitative', title: axis, scale: log ? { type: 'log', nice: false } : { zero: false } },
        y: { field: 'accuracyChange', type: 'quantitative', title: 'accuracy − clean accuracy (pp)' },
        color: { field: 'model', type: 'nominal', sort: models },
        shape: { field: 'model', type: 'nominal', sort: models },
      },
    },
    resolve: { scale: { x: 'independent' } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    vconcat: [panel('tauRatio', 'τ / τ on the clean test part (log scale)', true), panel('confidenceChange', 'mean max-softmax confidence − clean (pp)', false)],
  } as unknown as TopLevelSpec;
}

/** What the report needs beside the records. */
export interface TauShiftReportInput {
  /** Data sources in table order (cifar10c first when run). */
  sources: string[];
  /** Seeds per source (for the completeness count). */
  seeds: number;
  /** Base seed (bootstrap). */
  seed: number;
  /** Lines above the tables (data, scale). */
  headerLines: string[];
  /** Protocol paragraph of summary.md. */
  protocolText: string;
  notes: string[];
  tauTarget: string;
}

/** Wrap `text` for the terminal (continuation lines indented by two spaces). */
export const wrap = (text: string, width = TERMINAL_COLUMNS): string[] => wrapLine(text, width);

/**
 * The measured answer in one sentence per signal, over one group of every
 * model: how many models' τ intervals exclude 0 (and in which direction), how
 * many of the confidence baseline's, and for how many τ is the stronger.
 */
export function statement(corr: GroupCorrelation[], group: string, models: string[]): string {
  const gs = models.map((m) => corr.find((c) => c.model === m && c.group === group)).filter((c): c is GroupCorrelation => c !== undefined && c.tau.ci !== null);
  if (gs.length === 0) return `no intervals yet for ${group}`;
  const list = (f: (c: GroupCorrelation) => boolean) => gs.filter(f).map((c) => c.model);
  const neg = list((c) => c.tau.ci![1] < 0);
  const pos = list((c) => c.tau.ci![0] > 0);
  const confYes = list((c) => c.confidence.ci !== null && (c.confidence.ci[0] > 0 || c.confidence.ci[1] < 0));
  const tauStronger = list((c) => c.tau.rho !== null && c.confidence.rho !== null && Math.abs(c.tau.rho) > Math.abs(c.confidence.rho));
  const names = (xs: string[]) => (xs.length > 0 ? ` (${xs.join(', ')})` : '');
  const rhos = gs.map((c) => `${c.model} ${formatCorrelation(c.tau)}`).join('; ');
  return (
    `over ${group}, τ's ${Math.round(100 * TAU_SHIFT_FIXED.confidence)}% interval excluded 0 for ${neg.length + pos.length} of ${gs.length} models` +
    `${neg.length > 0 ? `, negative${names(neg)}` : ''}${pos.length > 0 ? `, positive${names(pos)}` : ''}` +
    ` — ρ(τ, acc): ${rhos}. The confidence baseline's excluded 0 for ${confYes.length} of ${gs.length}; |ρ| of τ exceeded that of confidence for ${tauStronger.length} of ${gs.length}${names(tauStronger)}.`
  );
}

/** The report of a tau-shift run. */
export function tauShiftReport(records: ShiftRecord[], status: 'running' | 'complete', ctx: ReportContext, input: TauShiftReportInput): ExperimentReport {
  const models = ctx.models.map((m) => m.name).filter((m) => records.some((r) => r.model === m));
  const sources = input.sources.filter((s) => records.some((r) => r.source === s));
  const points = shiftPoints(records);
  const corr = correlations(points, models, sources, input.seed, status === 'complete');
  const expected = input.sources.length * input.seeds * ctx.models.length;
  const partial = records.length < expected ? ` (${records.length}/${expected} units)` : '';
  const tabularSources = sources.filter((s) => s !== 'cifar10c');
  const hasAll = tabularSources.length > 0 && sources.includes('cifar10c');
  const summaryGroup = hasAll ? POOLED_ALL : tabularSources.length > 1 ? POOLED_TABULAR : sources[0];
  const table = (groups: string[]) => {
    const rows = [['model', 'data', 'points', `ρ(τ, acc) [${Math.round(100 * TAU_SHIFT_FIXED.confidence)}% CI]`, 'ρ(confidence, acc) [CI]']];
    for (const m of models) {
      for (const g of groups) {
        const c = corr.find((x) => x.model === m && x.group === g);
        if (c) rows.push([m, g, String(c.tau.n), formatCorrelation(c.tau), formatCorrelation(c.confidence)]);
      }
    }
    return markdownTable(rows, { align: ['l', 'l', 'r', 'r', 'r'] });
  };
  const familyGroups = tabularSources.length > 0 ? [POOLED_NOISE, POOLED_DROPOUT] : [];
  const pooledGroups = [
    ...(sources.includes('cifar10c') ? ['cifar10c'] : []),
    ...(tabularSources.length === 1 ? tabularSources : []),
    ...familyGroups,
    ...(tabularSources.length > 1 ? [POOLED_TABULAR] : []),
    ...(hasAll ? [POOLED_ALL] : []),
  ];
  const verdictRows = [['model', `did τ predict accuracy under shift? (${summaryGroup ?? '—'})`]];
  for (const m of models) {
    const c = corr.find((x) => x.model === m && x.group === summaryGroup);
    if (c) verdictRows.push([m, verdict(c)]);
  }
  const verdictTable = markdownTable(verdictRows, { align: ['l', 'l'] });
  const signCounts = models.map((m) => {
    const per = corr.filter((c) => c.model === m && sources.includes(c.group) && c.tau.ci);
    const neg = per.filter((c) => c.tau.ci![1] < 0).length;
    const pos = per.filter((c) => c.tau.ci![0] > 0).length;
    return `${m}: τ's interval below 0 in ${neg}, above 0 in ${pos}, including 0 in ${per.length - neg - pos} of ${per.length} data sources`;
  });
  const statements = status === 'complete' ? [...new Set([summaryGroup, ...pooledGroups])].filter((g): g is string => g !== undefined).map((g) => statement(corr, g, models)) : [];
  const paper = `paper (claim): ${TAU_SHIFT_PAPER.claim}; ${TAU_SHIFT_PAPER.evidence}.`;
  const ours = statements.length > 0 ? `ours (measured, τ target ${input.tauTarget}): ${statements[0]}` : `ours (measured): the statement follows when the run is complete.`;
  const levelsNote = 'Mean change per shift level (over sources, seeds and corruptions); each cell: accuracy − clean accuracy (pp) / τ ÷ clean τ.';
  const terminal = [
    ...input.headerLines.flatMap((l) => wrap(l)),
    '',
    table(pooledGroups) + partial,
    '',
    verdictTable,
    '',
    ...wrap(paper),
    ...wrap(ours),
    '',
    ...wrap(levelsNote),
    levelTable(points, models),
  ].join('\n');
  const perSource = table([...sources, ...familyGroups, ...(tabularSources.length > 1 ? [POOLED_TABULAR] : []), ...(hasAll ? [POOLED_ALL] : [])]);
  const markdown = [
    ...input.headerLines,
    '',
    input.protocolText,
    '',
    '## Did τ predict accuracy under shift?',
    '',
    verdictTable,
    '',
    `- ${paper}`,
    ...(statements.length > 0 ? statements.map((l, i) => `- ${i === 0 ? `ours (measured, τ target ${input.tauTarget})` : 'ours'}: ${l}`) : [`- ${ours}`]),
    ...(status === 'complete' ? signCounts.map((l) => `- ${l}`) : []),
    '',
    '## Spearman correlations per data source and pooled',
    '',
    `Points: one per (seed, shift level) of a model, as changes from its clean test part; \`${POOLED_NOISE}\` / \`${POOLED_DROPOUT}\`: one shift family (with the clean points) pooled over the tabular sets.`,
    '',
    perSource + partial,
    '',
    '## Mean change per shift level',
    '',
    levelsNote,
    '',
    levelTable(points, models),
    '',
    '## Clean test part (mean over seeds)',
    '',
    cleanTable(records, models, sources),
    '',
    ...input.notes.map((n) => `- ${n}`),
  ].join('\n');
  const verdictOf = (m: string) => {
    const c = corr.find((x) => x.model === m && x.group === summaryGroup);
    return c ? verdict(c) : null;
  };
  return {
    terminal,
    markdown,
    doc: {
      correlations: corr,
      verdicts: models.map((m) => ({ model: m, group: summaryGroup ?? null, verdict: verdictOf(m) })),
      statements,
      paper: TAU_SHIFT_PAPER,
      notes: input.notes,
    },
    plots: status === 'complete' && points.length > 0 ? [{ file: 'tau-vs-accuracy.svg', spec: scatterSpec(points, models, `label-free τ (${input.tauTarget}) and confidence vs accuracy under shift`) }] : [],
  };
}
