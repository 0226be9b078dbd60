/**
 * `chainz bench suite`: the tabular experiment on every registered tabular
 * data set (Pima, the UCI sets, plugins) with the same eight models, one table
 * (rows: data sets; columns: models), the per-data-set ranks, average ranks
 * with the Friedman test and the Nemenyi critical difference (Demšar 2006),
 * and a critical-difference diagram.
 */
import { ConfigError } from '@chainz/core';
import { getAdapter, planStratifiedFolds, registerBuiltinAdapters } from '@chainz/data';
import { multipleComparison, type MultipleComparisonResult } from '@chainz/metrics';
import { markdownTable } from 'markdown-table';
import type { TopLevelSpec } from 'vega-lite';
import type { FitResult, TabularFold } from '../../models/types';
import { defineExperiment, type Cell } from '../../runner/contract';
import { COMMON_FLAGS, modelsFlag } from '../../runner/flags';
import { dataFlags, foldFlags, withCliFlags } from '../common/cli-flags';
import { assertTabularDataset, cappedStratifiedRows, foldRecord, prepareFold, subsetRows, tabularDatasetNames, tabularMatrix, unitSeed, type FoldRecord, type TabularMatrix } from '../common/tabular';
import { buildTabularModels, TABULAR_MODEL_NAMES } from '../tabular/models';
import { cdDiagramFromComparison } from '../../plots/cd-diagram';
import { SUITE_PROTOCOLS } from './config';

/** Options of `chainz bench suite` (CLI flags in brackets). */
export interface SuiteOptions {
  /** Data sets [--datasets a,b]; default every registered tabular data set. */
  datasets?: string[];
  /** `default`: 10-fold, at most 5000 rows per set; `full`: 10-fold on every row [--protocol]. */
  protocol?: 'default' | 'full';
  /** Overrides of the protocol [--folds, --repeats, --seed, --max-rows]. */
  folds?: number;
  repeats?: number;
  seed?: number;
  maxRows?: number;
  /** Subset of models [--models]. */
  models?: string[];
  /** DREG λ of `cr` [--lambda]. */
  lambda?: number;
}

/** One data set of the suite as loaded: its rows (possibly sampled) and how it was sampled. */
interface SuiteSet {
  name: string;
  matrix: TabularMatrix;
  totalRows: number;
  sha256: string[];
  source: string;
}

const pct = (x: number) => (100 * x).toFixed(2);

/** `chainz bench suite`. */
export const suiteExperiment = defineExperiment<SuiteOptions, TabularFold, FitResult, FoldRecord>({
  name: 'suite',
  title: 'every tabular data set (Pima, UCI, plugins): the eight models, one table, ranks, Friedman + Nemenyi, a critical-difference diagram',
  flags: [
    { key: 'datasets', flag: '--datasets <list>', description: 'comma-separated tabular data sets (default: every registered one; `chainz datasets` lists them)', kind: 'list' },
    { ...COMMON_FLAGS.protocol, description: 'default = 10-fold, at most 5000 rows per data set (stratified sample); full = 10-fold on every row' },
    COMMON_FLAGS.folds,
    COMMON_FLAGS.repeats,
    COMMON_FLAGS.seed,
    { key: 'maxRows', flag: '--max-rows <n>', description: 'stratified sample of at most about n rows per data set (default 5000; full: none)', kind: 'int', min: 20 },
    modelsFlag(TABULAR_MODEL_NAMES),
    COMMON_FLAGS.lambda,
  ],
  modelOptions: (o) => (o.lambda === undefined ? {} : { lambda: o.lambda }),
  models: (mo) => buildTabularModels(mo),
  async plan(o, ctx) {
    registerBuiltinAdapters();
    const protocol = SUITE_PROTOCOLS[o.protocol ?? 'default'];
    const folds = o.folds ?? protocol.folds;
    const repeats = o.repeats ?? protocol.repeats;
    const seed = o.seed ?? 0;
    const maxRows = o.maxRows ?? protocol.maxRows ?? undefined;
    const names = o.datasets ?? tabularDatasetNames();
    if (names.length < 2) throw new ConfigError(`needs at least two tabular data sets to rank models across data sets, got ${names.join(', ') || 'none'}`, { option: '--datasets' });
    if (new Set(names).size !== names.length) throw new ConfigError('lists a data set twice', { option: '--datasets' });
    for (const n of names) assertTabularDataset(n, '--datasets');

    const sets: SuiteSet[] = [];
    for (const name of names) {
      const t0 = performance.now();
      const ds = await withCliFlags({ ...dataFlags('--datasets') }, () => getAdapter(name).load({}));
      const sha256 = ds.provenance.sha256;
      const source = ds.provenance.source;
      let m = tabularMatrix(ds);
      const totalRows = m.y.length;
      // A rare class keeps min(its rows, k) rows, so the k-fold split can place it (shuttle's 10-row class in 58,000).
      if (maxRows !== undefined && totalRows > maxRows) m = subsetRows(m, cappedStratifiedRows(m.y, maxRows, folds, seed ^ 0x5a3c));
      sets.push({ name, matrix: m, totalRows, sha256, source });
      ctx.log(`suite: ${name} loaded (${m.y.length}${m.y.length < totalRows ? ` of ${totalRows}` : ''} rows, ${m.nFeatures} features, ${m.classNames.length} classes, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }

    const cells: Cell<TabularFold>[] = [];
    const splitsOf = new Map<string, number>();
    const foldNotes: string[] = [];
    for (const s of sets) {
      const plan = withCliFlags({ ...foldFlags('--datasets') }, () => planStratifiedFolds(s.matrix.y, { k: folds, repeats, seed, classNames: s.matrix.classNames }));
      const splits = plan.folds;
      foldNotes.push(...plan.notes.map((n) => `${s.name}: ${n}.`));
      splitsOf.set(s.name, splits.length);
      for (const sp of splits) {
        cells.push({ key: { dataset: s.name, repeat: sp.repeat, fold: sp.fold }, batchGroup: s.name, seed: unitSeed(seed, sp.repeat, sp.fold), payload: () => prepareFold(s.matrix, sp.train, sp.test) });
      }
    }
    const protocolText =
      `Protocol: on each data set, stratified ${folds}-fold × ${repeats} repeat(s), seed ${seed}` +
      (maxRows !== undefined ? `, on a stratified sample of at most ${maxRows} rows (seeded, every class keeping at least min(its rows, k) so the folds can place it; sets with more rows are marked)` : ', on every row') +
      '; median imputation and standardisation fitted on each training fold only; the eight models and hyper-parameters of `chainz bench pima` (tabular/config.ts), never tuned per data set. ' +
      'Across data sets (Demšar 2006): per-data-set ranks of the mean accuracies (1 = best, ties averaged), average ranks, the Friedman test with the Iman–Davenport correction, and the Nemenyi critical difference at α = 0.05.';
    return {
      keyFields: ['dataset', 'repeat', 'fold'],
      cells,
      protocol: { kind: 'tabular suite, repeated stratified k-fold per data set', datasets: names, folds, repeats, seed, maxRows: maxRows ?? null, preprocessing: 'median imputation + standardisation fitted on each training fold' },
      dataFingerprint: sets.map((s) => `${s.name}:${s.sha256.join('+')}`).join(','),
      data: { datasets: sets.map((s) => ({ name: s.name, rows: s.matrix.y.length, totalRows: s.totalRows, features: s.matrix.nFeatures, classes: s.matrix.classNames.length, source: s.source })) },
      record: (out, fold) => foldRecord(out, fold),
      describe: (r) => `${String(r.dataset)} ${r.model} f${String(r.fold)}: acc ${(100 * r.accuracy).toFixed(1)}% (${r.trainSeconds.toFixed(1)} s)`,
      cost: (m) => ({ cr: 3, 'cr-nodreg': 2.5, 'gelu-mlp': 2.2, 'relu-mlp': 2, logreg: 1.2, 'svm-rbf': 1, xgboost: 1 })[m] ?? 1,
      report: (records, status, rc) => suiteReport(records, status, rc.models.map((m) => m.name), sets, splitsOf, protocolText, foldNotes),
    };
  },
});

/** Mean and std (over folds) of one model on one data set; NaN std for one fold. */
function cellStats(records: FoldRecord[], dataset: string, model: string): { mean: number; std: number; n: number; seconds: number } | undefined {
  const us = records.filter((r) => r.dataset === dataset && r.model === model);
  if (us.length === 0) return undefined;
  const acc = us.map((u) => u.accuracy);
  const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
  const std = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1)) : Number.NaN;
  return { mean, std, n: us.length, seconds: us.reduce((a, u) => a + u.trainSeconds, 0) / us.length };
}

function suiteReport(records: FoldRecord[], status: 'running' | 'complete', models: string[], sets: SuiteSet[], splitsOf: Map<string, number>, protocolText: string, foldNotes: string[]) {
  const rowLabel = (s: SuiteSet) => `${s.name}${s.matrix.y.length < s.totalRows ? `*` : ''}`;
  const full: string[][] = [['data set', 'rows', 'k', ...models, 's/fold (all models)']];
  const compact: string[][] = [['data set', 'rows', 'k', ...models, 's/fold']];
  const complete: { set: SuiteSet; means: number[] }[] = [];
  for (const s of sets) {
    const stats = models.map((m) => cellStats(records, s.name, m));
    const expected = splitsOf.get(s.name) ?? 0;
    const seconds = stats.reduce((a, x) => a + (x?.seconds ?? 0), 0);
    const rows = s.matrix.y.length < s.totalRows ? `${s.matrix.y.length}/${s.totalRows}` : String(s.totalRows);
    full.push([rowLabel(s), rows, String(s.matrix.classNames.length), ...stats.map((x) => (x ? `${pct(x.mean)} ± ${Number.isFinite(x.std) ? pct(x.std) : '—'}${x.n < expected ? ` (${x.n}/${expected})` : ''}` : '—')), seconds.toFixed(2)]);
    compact.push([rowLabel(s), rows, String(s.matrix.classNames.length), ...stats.map((x) => (x ? `${(100 * x.mean).toFixed(1)}${x.n < expected ? '…' : ''}` : '—')), seconds.toFixed(1)]);
    if (stats.every((x) => x && x.n === expected)) complete.push({ set: s, means: stats.map((x) => x!.mean) });
  }
  const align = { align: ['l' as const, 'r' as const, 'r' as const, ...models.map(() => 'r' as const), 'r' as const] };
  let cmp: MultipleComparisonResult | null = null;
  const rankRows: string[][] = [['data set', ...models]];
  if (complete.length >= 2 && models.length >= 2) {
    cmp = multipleComparison(complete.map((c) => c.means), models, { alpha: 0.05, control: models.includes('cr') ? 'cr' : undefined });
  }
  const lines: string[] = [];
  let rankText = '';
  if (cmp) {
    // per-data-set ranks (1 = best)
    complete.forEach((c) => {
      const order = c.means.map((v, j) => ({ v, j })).sort((a, b) => b.v - a.v);
      const ranks = new Array<number>(models.length);
      for (let i = 0; i < order.length; ) {
        let e = i;
        while (e + 1 < order.length && order[e + 1].v === order[i].v) e++;
        for (let t = i; t <= e; t++) ranks[order[t].j] = (i + e) / 2 + 1;
        i = e + 1;
      }
      rankRows.push([rowLabel(c.set), ...ranks.map((r) => r.toFixed(1))]);
    });
    rankRows.push(['**average rank**', ...cmp.averageRanks.map((r) => `**${r.toFixed(2)}**`)]);
    const f = cmp.friedman;
    const fmtP = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
    rankText = [
      `Average ranks over ${cmp.n} data sets (1 = best): ${models.map((m, j) => `${m} ${cmp!.averageRanks[j].toFixed(2)}`).join(', ')}.`,
      `Friedman χ²_F = ${f.chiSquare.toFixed(2)} (df ${f.df}, p ${fmtP(f.p)}); Iman–Davenport F_F = ${f.imanDavenport.statistic.toFixed(2)} (p ${fmtP(f.imanDavenport.p)}). Nemenyi CD (α = 0.05) = ${cmp.nemenyi.cd.toFixed(2)}: models whose average ranks differ by less are not significantly different.`,
      ...(cmp.control
        ? [
            `cr vs each (Wilcoxon signed-rank over data sets, Holm): ${cmp.control.comparisons.map((c) => `${c.method} ${c.wins}/${c.ties}/${c.losses} p ${fmtP(c.pHolm)}`).join('; ')} (wins/ties/losses of cr).`,
          ]
        : []),
    ].join('\n');
  } else {
    rankText = 'Ranks, the Friedman test and the critical-difference diagram need every model complete on at least two data sets.';
  }
  const sampled = sets.some((s) => s.matrix.y.length < s.totalRows) ? ['* stratified sample of the rows (rows used/total).'] : [];
  lines.push('Test accuracy % (mean over folds) per data set and model; rows: data sets, columns: models.', '', markdownTable(compact, align), ...sampled, '', rankText);
  const md = [protocolText, '', 'Test accuracy % (mean ± std over folds):', '', markdownTable(full, align), ...sampled, '', 'Ranks per data set (1 = best):', '', markdownTable(rankRows, { align: ['l', ...models.map(() => 'r' as const)] }), '', rankText, '', ...foldNotes.map((n) => `- Folds, ${n}`), '- The paper reports one tabular data set (Pima, 85.71 ± 2.01 for ChainzRule, protocol not stated) and claims the method helps on tabular data in general; this table is our test of that claim.'].join('\n');
  const plots: { file: string; spec: TopLevelSpec }[] = status === 'complete' && cmp ? [{ file: 'cd-diagram.svg', spec: cdDiagramFromComparison(cmp, { title: `Average ranks over ${cmp.n} tabular data sets (Nemenyi CD = ${cmp.nemenyi.cd.toFixed(2)}, α = 0.05)` }) }] : [];
  return {
    terminal: lines.join('\n'),
    markdown: md,
    doc: { comparison: cmp, datasets: sets.map((s) => ({ name: s.name, rows: s.matrix.y.length, totalRows: s.totalRows, classes: s.matrix.classNames.length })) },
    plots,
  };
}
