import path from 'node:path';
import { markdownTable } from 'markdown-table';
import type { TopLevelSpec } from 'vega-lite';
import { ConfigError, DataError } from '@chainz/core';
import { fitTabularPreprocessor, getAdapter, registerBuiltinAdapters, repeatedStratifiedKFold, stratifiedSubsample, takeRows } from '@chainz/data';
import { meanStd } from '@chainz/metrics';
import type { Progress } from '../../progress';
import type { FitResult, TabularFold } from '../../models/types';
import { defineExperiment, type Cell, type JsonObject } from '../../runner/contract';
import { COMMON_FLAGS, modelsFlag } from '../../runner/flags';
import { assertTabularDataset, foldRecord, tabularMatrix, unitSeed, type FoldRecord } from '../common/tabular';
import { headRecord, TERMINAL_COLUMNS, wrapLine } from '../common/heads-report';
import { buildEfficiencyModels, type EfficiencyModelOptions } from './models';
import { efficiencyFamily, EFFICIENCY_DEFAULT_SEEDS, EFFICIENCY_FOLDS, EFFICIENCY_FRACTIONS, EFFICIENCY_MIN_STEPS, EFFICIENCY_MODEL_NAMES, EFFICIENCY_PAPER } from './config';
import { coverageLine, embedWithEncoder, ENCODER_FLAG, encoderCaveat, parseEncoderSpecs, parsePooling } from '../common/text-embeddings';
import { dataFlags, withCliFlags } from '../common/cli-flags';
import { describePimaData, loadPimaData } from '../pima';

export { EFFICIENCY_MODEL_NAMES };

/** Options of `chainz bench efficiency` (CLI flags in brackets). */
export interface EfficiencyOptions {
  /** Data set [--dataset]: sst5 (default), yelp, or a registered tabular data set (pima, sonar, …). */
  dataset?: string;
  /** Training-data fractions in (0, 1] [--fractions, given in percent: 1,5,10]; default 1, 5, 10, 25, 50, 100 %. */
  fractions?: number[];
  /** Seeds per (fraction, model) [--seeds], default 3; base seed [--seed], default 0. */
  seeds?: number;
  seed?: number;
  models?: string[];
  /** Text datasets: encoder, pooling, cache folder (as `bench sst5`). */
  encoder?: string;
  pooling?: string;
  cacheDir?: string;
  /** SST-5 trees folder or Pima CSV [--data]; Yelp data [--yelp-dir]. */
  data?: string;
  yelpDir?: string;
  lambda?: number;
}

/** Aggregate of one (model, fraction) cell over seeds. */
export interface EfficiencyCell {
  model: string;
  fraction: number;
  /** Mean training-set size over the cell's units (after subsampling, before the validation hold-out). */
  nTrain: number;
  units: number;
  accuracy: { mean: number; std: number };
  tau: { mean: number; std: number } | null;
  trainSeconds: number;
}

/** A dataset prepared for the sweep: how to build the unit of (fraction, seed index). */
interface SweepSource {
  nClasses: number;
  ordinal: boolean;
  dataFingerprint: string;
  dataDescription: Record<string, unknown>;
  headerLines: string[];
  notes: string[];
  protocolText: string;
  /** Full training-set size for seed index s. */
  fullTrain(s: number): number;
  /** Data of a unit (labelled rows subsampled from the training split of seed index s). */
  unit(fraction: number, s: number, subsampleSeed: number): TabularFold;
  extra?: Record<string, unknown>;
}

/** Parse `--fractions` given in percent, e.g. `1,5,10,25,50,100`. @throws ConfigError (option `--fractions`). */
export function parseFractions(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new ConfigError('give at least one percentage, e.g. 1,5,10,25,50,100', { option: '--fractions' });
  const out = parts.map((p) => {
    const v = Number(p.replace(/%$/, ''));
    if (!(Number.isFinite(v) && v > 0 && v <= 100)) throw new ConfigError(`'${p}' is not a percentage in (0, 100]`, { option: '--fractions' });
    return v / 100;
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

const pctLabel = (f: number) => `${+(f * 100).toFixed(4)}%`;

/** The model options as sent to worker threads, read back with their types. */
function efficiencyModelOptions(mo: JsonObject): EfficiencyModelOptions {
  const { dataset, lambda } = mo;
  if (typeof dataset !== 'string') throw new ConfigError(`model options need a data set name, got ${JSON.stringify(dataset)}`, { option: '--dataset' });
  if (lambda !== undefined && typeof lambda !== 'number') throw new ConfigError(`must be a number, got ${JSON.stringify(lambda)}`, { option: '--lambda' });
  return { dataset, ...(lambda === undefined ? {} : { lambda }) };
}

/**
 * `chainz bench efficiency`: data-efficiency sweep — every model trained on
 * stratified fractions of the training set over seeds; accuracy and τ per
 * (fraction, model), two SVG line plots, and the paper's τ and RNTN claims
 * printed beside ours. Data: SST-5, Yelp, or any registered tabular data set.
 */
export const efficiencyExperiment = defineExperiment<EfficiencyOptions, TabularFold, FitResult, FoldRecord>({
  name: 'efficiency',
  title: 'data-efficiency sweep: accuracy and gradient tail ratio τ vs share of training data, per model; SVG plots',
  flags: [
    { key: 'dataset', flag: '--dataset <name>', description: 'sst5, yelp, or a registered tabular data set (pima, sonar, …; `chainz datasets`)', kind: 'string', default: 'sst5' },
    { key: 'fractions', flag: '--fractions <list>', description: 'percentages of the training set (default 1,5,10,25,50,100)', kind: 'list', parse: parseFractions },
    { ...COMMON_FLAGS.seeds, description: `seeds per fraction and model (default ${EFFICIENCY_DEFAULT_SEEDS})` },
    COMMON_FLAGS.seed,
    { key: 'data', flag: '--data <path>', description: 'SST-5 trees folder (sst5) or the Pima CSV (pima)', kind: 'path' },
    { key: 'yelpDir', flag: '--yelp-dir <path>', description: 'Yelp data (yelp): official train/test folder or a sample CSV', kind: 'path' },
    { ...ENCODER_FLAG, description: 'frozen sentence encoder for sst5/yelp: use-lite (default; not BERT), glove (fixed GloVe word vectors, averaged), glove:<file>, transformers:<model dir or id>, precomputed:<file>' },
    COMMON_FLAGS.pooling,
    COMMON_FLAGS.cacheDir,
    modelsFlag(EFFICIENCY_MODEL_NAMES),
    COMMON_FLAGS.lambda,
  ],
  runName: (o) => `efficiency-${o.dataset ?? 'sst5'}`,
  modelOptions: (o) => ({ dataset: o.dataset ?? 'sst5', ...(o.lambda === undefined ? {} : { lambda: o.lambda }) }),
  models: (mo) => buildEfficiencyModels(efficiencyModelOptions(mo)),
  async plan(opts, ctx) {
    const dataset = opts.dataset ?? 'sst5';
    const fractions = opts.fractions ?? [...EFFICIENCY_FRACTIONS];
    if (fractions.length === 0 || fractions.some((f) => !(f > 0 && f <= 1))) throw new ConfigError(`fractions must be in (0, 1], got ${fractions.join(', ')}`, { option: '--fractions' });
    const text = dataset === 'sst5' || dataset === 'yelp';
    if (!text && (opts.encoder || opts.pooling || opts.yelpDir)) throw new ConfigError(`${dataset} is tabular: --encoder, --pooling and --yelp-dir do not apply`, { option: opts.encoder ? '--encoder' : opts.pooling ? '--pooling' : '--yelp-dir' });
    if (dataset === 'yelp' && opts.data) throw new ConfigError('for yelp, give the data with --yelp-dir', { option: '--data' });
    if (dataset === 'sst5' && opts.yelpDir) throw new ConfigError('--yelp-dir applies to --dataset yelp only', { option: '--yelp-dir' });
    if (!text && dataset !== 'pima' && opts.data) throw new ConfigError('--data gives another copy of the Pima CSV (or the SST-5 trees); other tabular data sets are read through their adapter', { option: '--data' });
    if (!text) assertTabularDataset(dataset, '--dataset', ['sst5', 'yelp']);
    const nSeeds = opts.seeds ?? EFFICIENCY_DEFAULT_SEEDS;
    const baseSeed = opts.seed ?? 0;
    const source = text ? await textSource(dataset, opts, ctx.cwd, nSeeds, baseSeed, ctx.progress) : await tabularSource(dataset, opts, nSeeds, baseSeed);
    const cells: Cell<TabularFold>[] = [];
    for (let fi = 0; fi < fractions.length; fi++) {
      for (let s = 0; s < nSeeds; s++) {
        // Cell (fraction index fi, seed index s): stored as repeat = fi, fold = s.
        cells.push({ key: { repeat: fi, fold: s }, seed: unitSeed(baseSeed, 0, s), payload: () => source.unit(fractions[fi], s, unitSeed(baseSeed, 7919, s)) });
      }
    }
    return {
      keyFields: ['repeat', 'fold'],
      cells,
      protocol: { kind: 'data-fraction sweep', dataset, fractions, seeds: nSeeds, seed: baseSeed, minSteps: EFFICIENCY_MIN_STEPS, text: source.protocolText },
      dataFingerprint: source.dataFingerprint,
      data: source.dataDescription,
      record(out, fold, cell) {
        const rec = source.ordinal ? headRecord(out, fold, true) : foldRecord(out, fold);
        return { ...rec, info: { ...(rec.info ?? {}), fraction: fractions[Number(cell.key.repeat)] } };
      },
      describe: (r) => `${r.model} ${pctLabel(fractions[Number(r.repeat)])} (n=${r.nTrain}) seed ${String(r.fold)}: acc ${(100 * r.accuracy).toFixed(2)}%${r.tau !== null ? ` τ ${r.tau.toFixed(3)}` : ''} (${r.trainSeconds.toFixed(1)} s)`,
      report(records, status, rc) {
        const cells = aggregate(records, rc.models, fractions);
        const table = renderEfficiency(dataset, source, cells, rc.models, fractions, nSeeds);
        return {
          terminal: table,
          markdown: [source.protocolText, '', table, '', 'Plots: accuracy.svg, tau.svg (mean ± std band over seeds; x axis log scale).', '', ...source.notes.map((n) => `- ${n}`)].join('\n'),
          doc: { cells, paper: EFFICIENCY_PAPER, notes: source.notes, plots: ['accuracy.svg', 'tau.svg'], ...(source.extra ?? {}) },
          plots:
            status === 'complete'
              ? [
                  { file: 'accuracy.svg', spec: lineSpec(cells, 'accuracy', `${dataset}: test accuracy vs training data (mean ± std over ${nSeeds} seed(s))`) },
                  { file: 'tau.svg', spec: lineSpec(cells, 'tau', `${dataset}: gradient tail ratio τ vs training data (mean ± std over ${nSeeds} seed(s))`) },
                ]
              : [],
        };
      },
    };
  },
});

/** Mean ± std per (model, fraction). */
function aggregate(units: FoldRecord[], models: { name: string }[], fractions: number[]): EfficiencyCell[] {
  const cells: EfficiencyCell[] = [];
  for (const m of models) {
    for (let fi = 0; fi < fractions.length; fi++) {
      const us = units.filter((u) => u.model === m.name && u.repeat === fi);
      if (us.length === 0) continue;
      const a = meanStd(us.map((u) => u.accuracy));
      const taus = us.map((u) => u.tau).filter((t): t is number => t !== null && Number.isFinite(t));
      const t = taus.length > 0 ? meanStd(taus) : null;
      cells.push({
        model: m.name,
        fraction: fractions[fi],
        nTrain: us.reduce((s, u) => s + u.nTrain, 0) / us.length,
        units: us.length,
        accuracy: { mean: a.mean, std: a.std },
        tau: t ? { mean: t.mean, std: t.std } : null,
        trainSeconds: us.reduce((s, u) => s + u.trainSeconds, 0) / us.length,
      });
    }
  }
  return cells;
}

const fmt = (m: number, s: number, d: number, scale = 1) => `${(m * scale).toFixed(d)}${Number.isFinite(s) ? ` ± ${(s * scale).toFixed(d)}` : ''}`;

/** Accuracy and τ tables (models × fractions) with the paper's claims beside ours. */
function renderEfficiency(dataset: string, source: SweepSource, cells: EfficiencyCell[], models: { name: string }[], fractions: number[], nSeeds: number): string {
  const cell = (m: string, f: number) => cells.find((c) => c.model === m && c.fraction === f);
  const header = ['model', ...fractions.map((f) => {
    const n = cells.find((c) => c.fraction === f)?.nTrain;
    return `${pctLabel(f)}${n !== undefined ? ` (n=${Math.round(n)})` : ''}`;
  })];
  const acc: string[][] = [header];
  const tau: string[][] = [header];
  for (const m of models) {
    acc.push([m.name, ...fractions.map((f) => {
      const c = cell(m.name, f);
      return c ? fmt(c.accuracy.mean, c.accuracy.std, 2, 100) + (c.units < nSeeds ? ` (${c.units}/${nSeeds})` : '') : '—';
    })]);
    tau.push([m.name, ...fractions.map((f) => {
      const c = cell(m.name, f);
      return c?.tau ? fmt(c.tau.mean, c.tau.std, 3) : '—';
    })]);
  }
  const align = { align: ['l' as const, ...fractions.map(() => 'r' as const)] };
  const tauRange = (names: string[]) => {
    const v = cells.filter((c) => names.includes(c.model) && c.tau).map((c) => c.tau!.mean);
    return v.length ? `${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)}` : 'not measured';
  };
  const standard = ['relu-mlp', 'gelu-mlp', 'silu-mlp', 'tanh-mlp'].filter((n) => models.some((m) => m.name === n));
  const lines = [
    ...source.headerLines,
    '',
    `Test accuracy % (mean ± std over ${nSeeds} seed(s)) by share of the training set used (n = labelled training examples):`,
    '',
    markdownTable(acc, align),
    '',
    'Gradient tail ratio τ = p99/mean of per-sample input-gradient norms on the test rows (mean ± std over seeds):',
    '',
    markdownTable(tau, align),
    '',
    `paper (claim): ${EFFICIENCY_PAPER.tau.text}.`,
    `ours (range of the per-fraction means): cr τ ${tauRange(['cr'])}; standard activations (${standard.join(', ') || 'none run'}) τ ${tauRange(standard)}.`,
  ];
  if (dataset === 'sst5') {
    const f5 = fractions.find((f) => Math.abs(f - EFFICIENCY_PAPER.rntn.fraction) < 1e-9);
    const c = f5 !== undefined ? cell('cr', f5) : undefined;
    lines.push(
      `paper (claim): "${EFFICIENCY_PAPER.rntn.text}" — RNTN ${EFFICIENCY_PAPER.rntn.rntnAccuracy} (Socher et al. 2013, trained on all phrases of the training trees).`,
      c
        ? `ours: cr with 5% of the training sentences (n=${Math.round(c.nTrain)}): ${fmt(c.accuracy.mean, c.accuracy.std, 2, 100)}% — ${100 * c.accuracy.mean > EFFICIENCY_PAPER.rntn.rntnAccuracy ? 'above' : 'below'} RNTN's 45.7 with this encoder.`
        : 'ours: not measured (5% is not among --fractions, or cr was not run).',
    );
  }
  // Prose lines wrapped to the terminal width (tables are kept whole).
  return lines.flatMap((l) => (l.startsWith('|') ? [l] : wrapLine(l, TERMINAL_COLUMNS))).join('\n');
}

/** Vega-Lite spec: mean line with points and a mean ± std band per model; x = % of training data (log). */
export function lineSpec(cells: EfficiencyCell[], metric: 'accuracy' | 'tau', title: string): TopLevelSpec {
  const values = cells
    .filter((c) => metric === 'accuracy' || c.tau)
    .map((c) => {
      const m = metric === 'accuracy' ? c.accuracy : c.tau!;
      const scale = metric === 'accuracy' ? 100 : 1;
      const sd = Number.isFinite(m.std) ? m.std : 0;
      return { model: c.model, percent: c.fraction * 100, mean: m.mean * scale, lo: (m.mean - sd) * scale, hi: (m.mean + sd) * scale };
    });
  const x = { field: 'percent', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'training data used (%)' };
  const yTitle = metric === 'accuracy' ? 'test accuracy (%)' : 'τ = p99 / mean of input-gradient norms';
  const layers: unknown[] = [
    { mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: yTitle }, y2: { field: 'hi' }, color: { field: 'model', type: 'nominal' } } },
    { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: yTitle }, color: { field: 'model', type: 'nominal', title: 'model' } } },
  ];
  if (metric === 'tau') {
    const bands = [
      { lo: EFFICIENCY_PAPER.tau.chainzRule[0], hi: EFFICIENCY_PAPER.tau.chainzRule[1] },
      { lo: EFFICIENCY_PAPER.tau.standard[0], hi: EFFICIENCY_PAPER.tau.standard[1] },
    ];
    const label = [{ y: EFFICIENCY_PAPER.tau.standard[1], text: 'grey bands: paper claim, ChainzRule τ 1.01–1.02 (lower), standard τ 1.07–1.09 (upper)' }];
    layers.unshift(
      { data: { values: bands }, mark: { type: 'rect', color: '#888', opacity: 0.35 }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      { data: { values: label }, mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -3, fontSize: 10, color: '#444' }, encoding: { x: { value: 0 }, y: { field: 'y', type: 'quantitative' }, text: { field: 'text' } } },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 320,
    data: { values },
    // Legend symbols as solid strokes (the merged legend would otherwise take the bands' faint fill).
    config: { legend: { symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 2 } },
    layer: layers,
  } as unknown as TopLevelSpec;
}

/**
 * A tabular data set (Pima — the embedded copy or `--data` — or any registered
 * tabular adapter): seed index s uses fold s mod k of a stratified k-fold
 * (seeded); labelled rows subsampled from its training part.
 */
async function tabularSource(dataset: string, opts: EfficiencyOptions, nSeeds: number, baseSeed: number): Promise<SweepSource> {
  registerBuiltinAdapters();
  const ds = dataset === 'pima' ? await loadPimaData(opts.data) : await withCliFlags({ ...dataFlags('--data'), dataset: '--dataset' }, () => getAdapter(dataset).load({}));
  const described = dataset === 'pima' ? describePimaData(ds) : { comparable: true, headerLines: [] as string[] };
  const provenance = ds.provenance;
  const featureNames = ds.featureNames;
  const name = ds.name;
  const { x, y, nFeatures: d, classNames } = tabularMatrix(ds);
  const folds = sweepFolds(y, nSeeds, baseSeed, dataset === 'pima' ? '--data' : '--dataset');
  const prepared = new Map<number, { xTrain: Float32Array; xTest: Float32Array }>();
  const prep = (s: number) => {
    let p = prepared.get(s);
    if (!p) {
      const f = folds[s];
      // Label-free statistics (median imputation, z-score) of the whole training fold.
      const pre = fitTabularPreprocessor(x, y.length, d, { impute: 'median', standardize: true, rows: f.train });
      p = { xTrain: pre.transform(takeRows(x, d, f.train), f.train.length), xTest: pre.transform(takeRows(x, d, f.test), f.test.length) };
      prepared.set(s, p);
    }
    return p;
  };
  const title = dataset === 'pima' ? 'Pima Indians Diabetes' : name;
  return {
    nClasses: classNames.length,
    ordinal: false,
    dataFingerprint: provenance.sha256.join(','),
    dataDescription: { name, rows: y.length, features: featureNames, classNames, provenance },
    headerLines: [`${title} (${y.length} rows): seed i tests on fold i of a stratified ${EFFICIENCY_FOLDS}-fold split and trains on a stratified fraction of the other folds.`, ...described.headerLines],
    notes: [...(described.comparable ? [] : [described.headerLines.join(' ')]), ...commonNotes(dataset)],
    protocolText: `Protocol: seed i uses fold (i mod ${EFFICIENCY_FOLDS}) of a stratified ${EFFICIENCY_FOLDS}-fold split (seed ${baseSeed}) as test set; each fraction keeps a stratified random subset of the training folds' labelled rows (nested across fractions for a seed); 15% of the subset (stratified, at least one per class) chooses the epoch; at least ${EFFICIENCY_MIN_STEPS} optimiser steps.`,
    fullTrain: (s) => folds[s].train.length,
    unit(fraction, s, subSeed) {
      const f = folds[s];
      const yTr = Int32Array.from(f.train, (i) => y[i]);
      const sub = stratifiedSubsample(yTr, fraction, subSeed);
      const p = prep(s);
      return { xTrain: takeRows(p.xTrain, d, sub), yTrain: Int32Array.from(sub, (i) => yTr[i]), xTest: p.xTest, yTest: Int32Array.from(f.test, (i) => y[i]), nFeatures: d, nClasses: classNames.length };
    },
  };
}

/** SST-5 (train / dev / test) or Yelp (sample: k-fold by seed; official: train / test) on frozen embeddings. */
async function textSource(dataset: 'sst5' | 'yelp', opts: EfficiencyOptions, cwd: string, nSeeds: number, baseSeed: number, progress: Progress): Promise<SweepSource> {
  const specs = parseEncoderSpecs(opts.encoder);
  if (specs.length > 1) {
    throw new ConfigError('the sweep takes one encoder; run it once per encoder (an encoder list is for `chainz bench sst5` and `chainz bench yelp`)', { option: '--encoder' });
  }
  const spec = specs[0];
  const pooling = parsePooling(opts.pooling, spec);
  const ds =
    dataset === 'sst5'
      ? await withCliFlags(dataFlags('--data'), () => getAdapter('sst5').load(opts.data ? { path: path.resolve(cwd, opts.data) } : {}))
      : await withCliFlags(dataFlags('--yelp-dir'), () => getAdapter('yelp').load(opts.yelpDir ? { path: path.resolve(cwd, opts.yelpDir) } : {}));
  const names = dataset === 'sst5' ? ['train', 'dev', 'test'] : ds.splits.train && ds.splits.test ? ['train', 'test'] : ['all'];
  for (const s of names) if (!ds.splits[s]) throw new DataError(`${dataset} split '${s}' not found`, { file: ds.provenance.files.join(', ') });
  // Yelp sample: the folds (and their errors) before the minutes-long embedding step.
  const sampleFolds = names.length === 1 ? sweepFolds(ds.splits.all.labels, nSeeds, baseSeed, '--yelp-dir') : [];
  const lists = Object.fromEntries(names.map((s) => [s, ds.splits[s].texts!]));
  const emb = await embedWithEncoder(spec, lists, { cwd, pooling, cacheDir: opts.cacheDir, progress, title: `efficiency-${dataset}` });
  const { label, notBert, encoder, seconds: embeddingSeconds } = emb;
  const d = emb.d;
  const nClasses = ds.classNames.length;
  const ordinal = dataset === 'yelp';
  const z = (rows: Float32Array) => fitTabularPreprocessor(rows, rows.length / d, d, { standardize: true });
  const base = {
    nClasses,
    ordinal,
    dataFingerprint: [...ds.provenance.sha256, encoder.id, pooling].join(','),
    dataDescription: {
      name: ds.name,
      rows: Object.fromEntries(names.map((s) => [s, lists[s].length])),
      classNames: ds.classNames,
      provenance: ds.provenance,
      encoder: { id: encoder.id, description: encoder.description, dimension: d, pooling, ...(emb.coverage ? { coverage: emb.coverage } : {}) },
    },
    extra: { embedding: { seconds: embeddingSeconds, cacheHits: emb.cacheHits, encoder: encoder.id, notBert, ...(emb.coverage ? { coverage: emb.coverage } : {}) } },
  };
  const caveat = encoderCaveat(spec, dataset, label);
  const coverage = coverageLine(emb.coverage);
  const encLines = [`Encoder: ${label}, pooling ${pooling}.`, ...(coverage ? [`${coverage}.`] : []), ...(caveat.header ? [caveat.header] : [])];
  const notes = [...commonNotes(dataset), caveat.note, ...(coverage ? [`${emb.key} vocabulary coverage: ${coverage}. Out-of-vocabulary words are skipped when averaging.`] : [])];

  if (names.length === 1) {
    // Yelp sample: seed i tests on fold i mod k.
    const y = ds.splits.all.labels;
    const x = emb.x.all;
    const folds = sampleFolds;
    const prepared = new Map<number, { xTrain: Float32Array; xTest: Float32Array }>();
    return {
      ...base,
      headerLines: [`Yelp Review Full, REDUCED SCALE (${y.length}-review sample): seed i tests on fold i of a stratified ${EFFICIENCY_FOLDS}-fold split.`, ...encLines],
      notes,
      protocolText: `Protocol: reduced scale (${y.length}-review sample); seed i uses fold (i mod ${EFFICIENCY_FOLDS}) of a stratified ${EFFICIENCY_FOLDS}-fold split (seed ${baseSeed}) as test set; each fraction keeps a stratified random subset of the training folds (nested across fractions); 15% of it chooses the epoch; ordinal heads; at least ${EFFICIENCY_MIN_STEPS} optimiser steps.`,
      fullTrain: (s) => folds[s].train.length,
      unit(fraction, s, subSeed) {
        const f = folds[s];
        let p = prepared.get(s);
        if (!p) {
          const tr = takeRows(x, d, f.train);
          const pre = z(tr);
          p = { xTrain: pre.transform(tr, f.train.length), xTest: pre.transform(takeRows(x, d, f.test), f.test.length) };
          prepared.set(s, p);
        }
        const yTr = Int32Array.from(f.train, (i) => y[i]);
        const sub = stratifiedSubsample(yTr, fraction, subSeed);
        return { xTrain: takeRows(p.xTrain, d, sub), yTrain: Int32Array.from(sub, (i) => yTr[i]), xTest: p.xTest, yTest: Int32Array.from(f.test, (i) => y[i]), nFeatures: d, nClasses };
      },
    };
  }
  // Fixed split (SST-5 train/dev/test; Yelp official train/test).
  const pre = z(emb.x.train);
  const nTr = lists.train.length;
  const xTrain = pre.transform(emb.x.train, nTr);
  const yTrain = ds.splits.train.labels;
  const xTest = pre.transform(emb.x.test, lists.test.length);
  const dev = dataset === 'sst5' ? { xVal: pre.transform(emb.x.dev, lists.dev.length), yVal: ds.splits.dev.labels } : {};
  return {
    ...base,
    headerLines: [
      dataset === 'sst5'
        ? `SST-5: fractions of the ${nTr} training sentences; epoch chosen on the full dev split (${lists.dev.length}); test ${lists.test.length}.`
        : `Yelp Review Full, official files: fractions of the ${nTr} training reviews; test ${lists.test.length}.`,
      ...encLines,
    ],
    notes: dataset === 'sst5' ? [...notes, 'The dev split (1101 sentences) is used whole for epoch selection at every fraction (the standard SST protocol keeps dev fixed); only the training sentences are subsampled.'] : notes,
    protocolText:
      `Protocol: each fraction keeps a stratified random subset of the training split (nested across fractions for a seed; seeds ${nSeeds}, base ${baseSeed}); ` +
      (dataset === 'sst5' ? 'the epoch is chosen on the full dev split; ' : '15% of the subset chooses the epoch; ') +
      `test on the full test split; at least ${EFFICIENCY_MIN_STEPS} optimiser steps.`,
    fullTrain: () => nTr,
    unit(fraction, _s, subSeed) {
      const sub = stratifiedSubsample(yTrain, fraction, subSeed);
      return { xTrain: takeRows(xTrain, d, sub), yTrain: Int32Array.from(sub, (i) => yTrain[i]), ...dev, xTest, yTest: ds.splits.test.labels, nFeatures: d, nClasses };
    },
  };
}

/**
 * The sweep's test folds on data without a test split: a stratified
 * {@link EFFICIENCY_FOLDS}-fold split (fixed, no flag), enough repeats for
 * `nSeeds` (seed i tests on fold i).
 * @throws DataError (option `dataFlag`) when a class has fewer than EFFICIENCY_FOLDS rows.
 */
function sweepFolds(y: Int32Array, nSeeds: number, baseSeed: number, dataFlag: string): ReturnType<typeof repeatedStratifiedKFold> {
  const counts = new Map<number, number>();
  for (const c of y) counts.set(c, (counts.get(c) ?? 0) + 1);
  const [c, n] = [...counts].sort((a, b) => a[0] - b[0]).reduce((a, b) => (b[1] < a[1] ? b : a), [-1, Infinity]);
  if (n < EFFICIENCY_FOLDS) {
    throw new DataError(
      `too few rows per class for the sweep: class ${c} has only ${n}; every seed tests on one fold of a stratified ${EFFICIENCY_FOLDS}-fold split, so each class needs at least ${EFFICIENCY_FOLDS}`,
      { option: dataFlag },
      `give a file with at least ${EFFICIENCY_FOLDS} rows of every class`,
    );
  }
  return withCliFlags({ labels: dataFlag }, () => repeatedStratifiedKFold(y, EFFICIENCY_FOLDS, Math.ceil(nSeeds / EFFICIENCY_FOLDS), baseSeed));
}

function commonNotes(dataset: string): string[] {
  const family = efficiencyFamily(dataset);
  return [
    `Models: cr exactly as in \`chainz bench ${family === 'tabular' ? (dataset === 'pima' ? 'pima' : `tabular --dataset ${dataset}`) : dataset}\`, cr-nodreg, MLPs of the same width with ReLU, GELU, SiLU and tanh, and logistic regression; ${dataset === 'yelp' ? 'all with the ordinal head' : 'softmax heads'}; training settings from ${family}/config.ts plus at least ${EFFICIENCY_MIN_STEPS} optimiser steps (efficiency/config.ts). SVM and gradient-boosted trees are not in the sweep (no gradients, so no τ).`,
    'Preprocessing statistics (z-score per feature; tabular sets also median imputation) are label-free and fitted on the whole training split/fold; only the labelled training examples are subsampled.',
    'τ = p99/mean of per-sample input-gradient norms ‖∂ℓ_i/∂x_i‖₂ on the test rows, measured after training with the same code for every model (docs/metrics.md).',
    'The subsample for a seed is nested across fractions (1% ⊂ 5% ⊂ …): stratifiedSubsample with the same seed keeps a prefix of each class\'s shuffled order.',
  ];
}
