import { createHash } from 'node:crypto';
import path from 'node:path';
import { markdownTable } from 'markdown-table';
import type { TopLevelSpec } from 'vega-lite';
import { ConfigError, DataError } from '@chainz/core';
import { fitTabularPreprocessor, loadSst5, loadYelp, pimaAdapter, repeatedStratifiedKFold, stratifiedSubsample, takeRows } from '@chainz/data';
import { meanStd } from '@chainz/metrics';
import { collectEnvironment, type EnvironmentInfo } from '../env';
import { createProgress, type Progress } from '../progress';
import { defaultResultsDir, formatWallTime, ResultsDir, type RunTime, type UnitResult } from '../results';
import { accuracy, type ModelRunner, type TabularFold } from '../models/types';
import { writeVegaLiteSvg } from '../plots';
import { meanAbsoluteError, quadraticWeightedKappa } from '../ordinal-metrics';
import { unitSeed } from './tabular-cv';
import { buildEfficiencyModels } from './efficiency.models';
import { EFFICIENCY_DATASETS, EFFICIENCY_DEFAULT_SEEDS, EFFICIENCY_FOLDS, EFFICIENCY_FRACTIONS, EFFICIENCY_MIN_STEPS, EFFICIENCY_MODEL_NAMES, EFFICIENCY_PAPER, type EfficiencyDataset } from './efficiency.config';
import { embedWithEncoder, parseEncoderSpec, parsePooling } from './text-embeddings';
import { checkInt, checkLambda, checkPositiveInt, makeExecutor, resolveResultsDir, selectModels } from './text-common';
import type { ExperimentRunOptions } from './run-options';
import { dataFlags, withCliFlags } from './cli-flags';
import { describePimaData } from './pima';

export { EFFICIENCY_MODEL_NAMES };

/** Options of `chainz bench efficiency` (CLI flags in brackets). */
export interface EfficiencyBenchOptions extends ExperimentRunOptions {
  /** Dataset [--dataset]: sst5 (default), pima, yelp. */
  dataset?: string;
  /** Training-data fractions in (0, 1] [--fractions, given in percent]; default 1, 5, 10, 25, 50, 100 %. */
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

/** What {@link runEfficiencyBench} returns. */
export interface EfficiencyOutput {
  dir: string;
  dataset: EfficiencyDataset;
  cells: EfficiencyCell[];
  /** Accuracy table, τ table and the paper's claims beside ours (Markdown). */
  table: string;
  plots: string[];
  /** Wall time of the run, seconds, summed over its sessions (`--resume`). */
  wallSeconds: number;
  computedUnits: number;
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

/**
 * Data-efficiency sweep: every model trained on stratified fractions of the
 * training set over seeds; accuracy and τ per (fraction, model), two SVG
 * line plots, and the paper's τ and RNTN claims printed beside ours.
 */
export async function runEfficiencyBench(opts: EfficiencyBenchOptions): Promise<EfficiencyOutput> {
  const startedAt = performance.now();
  const cwd = opts.cwd ?? process.cwd();
  const dataset = (opts.dataset ?? 'sst5') as EfficiencyDataset;
  if (!EFFICIENCY_DATASETS.includes(dataset)) throw new ConfigError(`unknown dataset '${opts.dataset}'; choose from ${EFFICIENCY_DATASETS.join(', ')}`, { option: '--dataset' });
  checkPositiveInt(opts.seeds, '--seeds');
  checkInt(opts.seed, '--seed');
  checkLambda(opts.lambda);
  const fractions = opts.fractions ?? [...EFFICIENCY_FRACTIONS];
  if (fractions.length === 0 || fractions.some((f) => !(f > 0 && f <= 1))) throw new ConfigError(`fractions must be in (0, 1], got ${fractions.join(', ')}`, { option: '--fractions' });
  if (dataset === 'pima' && (opts.encoder || opts.pooling || opts.yelpDir)) throw new ConfigError('pima is tabular: --encoder, --pooling and --yelp-dir do not apply', { option: opts.encoder ? '--encoder' : opts.pooling ? '--pooling' : '--yelp-dir' });
  if (dataset === 'yelp' && opts.data) throw new ConfigError('for yelp, give the data with --yelp-dir', { option: '--data' });
  if (dataset === 'sst5' && opts.yelpDir) throw new ConfigError('--yelp-dir applies to --dataset yelp only', { option: '--yelp-dir' });
  const modelOptions = { dataset, ...(opts.lambda === undefined ? {} : { lambda: opts.lambda }) };
  const models = selectModels(buildEfficiencyModels(modelOptions), opts.models);
  const nSeeds = opts.seeds ?? EFFICIENCY_DEFAULT_SEEDS;
  const baseSeed = opts.seed ?? 0;
  const results = resolveResultsDir(opts, defaultResultsDir(cwd, `efficiency-${dataset}`));
  const progress = createProgress(opts.progress ?? 'auto');

  const source = dataset === 'pima' ? await pimaSource(opts, cwd, nSeeds, baseSeed) : await textSource(dataset, opts, cwd, nSeeds, baseSeed, progress);

  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ dataset, fractions, seeds: nSeeds, seed: baseSeed, data: source.dataFingerprint, models: models.map((m) => [m.name, m.config]) }))
    .digest('hex');
  const identity = { experiment: `efficiency-${dataset}`, fingerprint };
  const store = results.resume ? await ResultsDir.resume(results.dir, identity, { startedAt }) : await ResultsDir.create(results.dir, identity, { startedAt });

  // Unit (fraction index fi, seed index s): ResultsDir key repeat = fi, fold = s.
  const pending: { fi: number; s: number; model: ModelRunner }[] = [];
  let resumed = 0;
  for (let fi = 0; fi < fractions.length; fi++) {
    for (let s = 0; s < nSeeds; s++) {
      for (const model of models) {
        if (store.has(model.name, fi, s)) resumed++;
        else pending.push({ fi, s, model });
      }
    }
  }
  const executor = await makeExecutor('efficiency', models, opts.backend, opts.workers, modelOptions);
  const environment = { ...collectEnvironment(opts.backend, opts.backendNotes), workers: executor.concurrency };
  const plots = [path.join(results.dir, 'accuracy.svg'), path.join(results.dir, 'tau.svg')];
  const dataCache = new Map<string, TabularFold>();
  const dataOf = (fi: number, s: number) => {
    const key = `${fi}/${s}`;
    let f = dataCache.get(key);
    if (!f) {
      f = source.unit(fractions[fi], s, unitSeed(baseSeed, 7919, s));
      dataCache.set(key, f);
      if (dataCache.size > 4) dataCache.delete(dataCache.keys().next().value!);
    }
    return f;
  };

  const flush = async (status: 'running' | 'complete') => {
    const units = store.all();
    const cells = aggregate(units, models, fractions);
    const table = renderEfficiency(dataset, source, cells, models, fractions, nSeeds);
    const doc = {
      status,
      protocol: { kind: 'data-fraction sweep', dataset, fractions, seeds: nSeeds, seed: baseSeed, minSteps: EFFICIENCY_MIN_STEPS, text: source.protocolText },
      data: source.dataDescription,
      models: models.map((m) => ({ name: m.name, description: m.description, config: m.config })),
      cells,
      paper: EFFICIENCY_PAPER,
      notes: source.notes,
      plots: plots.map((p) => path.basename(p)),
      ...(source.extra ?? {}),
      environment,
    };
    await store.flush(doc, (t) => renderEfficiencySummary(dataset, source, table, status, environment, t));
    return { cells, table };
  };

  let computed = 0;
  let flushing: Promise<unknown> = Promise.resolve();
  progress.start(fractions.length * nSeeds * models.length, `efficiency-${dataset}`);
  progress.skip(resumed, 'resumed from an earlier run');
  try {
    let next = 0;
    const loop = async () => {
      while (next < pending.length) {
        const { fi, s, model } = pending[next++];
        const fold = dataOf(fi, s);
        const r = await executor.run(model.name, fold, unitSeed(baseSeed, 0, s));
        const info: Record<string, number | string> = { ...(r.info ?? {}), fraction: fractions[fi] };
        if (source.ordinal) {
          info.mae = meanAbsoluteError(r.predictions, fold.yTest);
          info.qwk = quadraticWeightedKappa(r.predictions, fold.yTest, source.nClasses);
        }
        const unit: UnitResult = { model: model.name, repeat: fi, fold: s, accuracy: accuracy(r.predictions, fold.yTest), tau: r.tau, trainSeconds: r.trainSeconds, nTrain: fold.yTrain.length, nTest: fold.yTest.length, info };
        store.add(unit);
        computed++;
        flushing = flushing.then(() => flush('running'));
        await flushing;
        progress.tick(`${model.name} ${pctLabel(fractions[fi])} (n=${fold.yTrain.length}) seed ${s}: acc ${(100 * unit.accuracy).toFixed(2)}%${r.tau !== null ? ` τ ${r.tau.toFixed(3)}` : ''} (${r.trainSeconds.toFixed(1)} s)`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, executor.concurrency) }, loop));
  } finally {
    progress.stop();
    await executor.close();
  }
  const final = await flush('complete');
  await writeVegaLiteSvg(plots[0], lineSpec(final.cells, 'accuracy', `${dataset}: test accuracy vs training data (mean ± std over ${nSeeds} seed(s))`));
  await writeVegaLiteSvg(plots[1], lineSpec(final.cells, 'tau', `${dataset}: gradient tail ratio τ vs training data (mean ± std over ${nSeeds} seed(s))`));
  return { dir: results.dir, dataset, cells: final.cells, table: final.table, plots, wallSeconds: store.time().wallSeconds, computedUnits: computed };
}

/** Mean ± std per (model, fraction). */
function aggregate(units: UnitResult[], models: ModelRunner[], fractions: number[]): EfficiencyCell[] {
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
function renderEfficiency(dataset: EfficiencyDataset, source: SweepSource, cells: EfficiencyCell[], models: ModelRunner[], fractions: number[], nSeeds: number): string {
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
  return lines.join('\n');
}

function renderEfficiencySummary(dataset: EfficiencyDataset, source: SweepSource, table: string, status: string, env: EnvironmentInfo, time: RunTime): string {
  return [
    `# efficiency (${dataset}): results${status === 'complete' ? '' : ' (partial, run in progress or interrupted)'}`,
    '',
    source.protocolText,
    '',
    table,
    '',
    'Plots: accuracy.svg, tau.svg (mean ± std band over seeds; x axis log scale).',
    '',
    ...source.notes.map((n) => `- ${n}`),
    '',
    `Backend: ${env.backend}; Node ${env.node}; tfjs ${env.tfjs}; ${env.cpus} × ${env.cpuModel}; wall time ${formatWallTime(time)} (whole command); git ${env.gitCommit ?? 'unknown'}.`,
    '',
  ].join('\n');
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

/** Pima: seed index s uses fold s mod k of a stratified k-fold (seeded); labelled rows subsampled from its training part. */
async function pimaSource(opts: EfficiencyBenchOptions, cwd: string, nSeeds: number, baseSeed: number): Promise<SweepSource> {
  const ds = await withCliFlags(dataFlags('--data'), () => pimaAdapter.load(opts.data ? { path: path.resolve(cwd, opts.data) } : {}));
  const data = describePimaData(ds);
  const split = ds.splits.all;
  const x = Float32Array.from(split.features!.dataSync() as Float32Array);
  const d = split.features!.shape[1];
  const y = split.labels;
  ds.dispose();
  const folds = sweepFolds(y, nSeeds, baseSeed, '--data');
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
  return {
    nClasses: ds.classNames.length,
    ordinal: false,
    dataFingerprint: ds.provenance.sha256.join(','),
    dataDescription: { name: ds.name, rows: y.length, features: ds.featureNames, classNames: ds.classNames, provenance: ds.provenance },
    headerLines: [`Pima Indians Diabetes (${y.length} rows): seed i tests on fold i of a stratified ${EFFICIENCY_FOLDS}-fold split and trains on a stratified fraction of the other folds.`, ...data.headerLines],
    notes: [...(data.comparable ? [] : [data.headerLines.join(' ')]), ...commonNotes('pima')],
    protocolText: `Protocol: seed i uses fold (i mod ${EFFICIENCY_FOLDS}) of a stratified ${EFFICIENCY_FOLDS}-fold split (seed ${baseSeed}) as test set; each fraction keeps a stratified random subset of the training folds' labelled rows (nested across fractions for a seed); 15% of the subset (stratified, at least one per class) chooses the epoch; at least ${EFFICIENCY_MIN_STEPS} optimiser steps.`,
    fullTrain: (s) => folds[s].train.length,
    unit(fraction, s, subSeed) {
      const f = folds[s];
      const yTr = Int32Array.from(f.train, (i) => y[i]);
      const sub = stratifiedSubsample(yTr, fraction, subSeed);
      const p = prep(s);
      return { xTrain: takeRows(p.xTrain, d, sub), yTrain: Int32Array.from(sub, (i) => yTr[i]), xTest: p.xTest, yTest: Int32Array.from(f.test, (i) => y[i]), nFeatures: d, nClasses: ds.classNames.length };
    },
  };
}

/** SST-5 (train / dev / test) or Yelp (sample: k-fold by seed; official: train / test) on frozen embeddings. */
async function textSource(dataset: 'sst5' | 'yelp', opts: EfficiencyBenchOptions, cwd: string, nSeeds: number, baseSeed: number, progress: Progress): Promise<SweepSource> {
  const spec = parseEncoderSpec(opts.encoder);
  const pooling = parsePooling(opts.pooling, spec);
  const ds =
    dataset === 'sst5'
      ? await withCliFlags(dataFlags('--data'), () => loadSst5(opts.data ? { path: path.resolve(cwd, opts.data) } : {}))
      : await withCliFlags(dataFlags('--yelp-dir'), () => loadYelp(opts.yelpDir ? { path: path.resolve(cwd, opts.yelpDir) } : {}));
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
    dataDescription: { name: ds.name, rows: Object.fromEntries(names.map((s) => [s, lists[s].length])), classNames: ds.classNames, provenance: ds.provenance, encoder: { id: encoder.id, description: encoder.description, dimension: d, pooling } },
    extra: { embedding: { seconds: embeddingSeconds, cacheHits: emb.cacheHits, encoder: encoder.id, notBert } },
  };
  const encLine = `Encoder: ${label}, pooling ${pooling}.${notBert ? ' NOT BERT: not comparable with the paper\'s BERT figures.' : ''}`;
  const notes = [...commonNotes(dataset), ...(notBert ? ['Encoder caveat: USE-lite is not BERT; absolute accuracies are not comparable with the paper\'s (BERT) figures.'] : [])];

  if (names.length === 1) {
    // Yelp sample: seed i tests on fold i mod k.
    const y = ds.splits.all.labels;
    const x = emb.x.all;
    const folds = sampleFolds;
    const prepared = new Map<number, { xTrain: Float32Array; xTest: Float32Array }>();
    return {
      ...base,
      headerLines: [`Yelp Review Full, REDUCED SCALE (${y.length}-review sample): seed i tests on fold i of a stratified ${EFFICIENCY_FOLDS}-fold split.`, encLine],
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
      encLine,
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

function commonNotes(dataset: EfficiencyDataset): string[] {
  return [
    `Models: cr exactly as in \`chainz bench ${dataset}\`, cr-nodreg, MLPs of the same width with ReLU, GELU, SiLU and tanh, and logistic regression; ${dataset === 'yelp' ? 'all with the ordinal head' : 'softmax heads'}; training settings from ${dataset}.config.ts plus at least ${EFFICIENCY_MIN_STEPS} optimiser steps (efficiency.config.ts). SVM and gradient-boosted trees are not in the sweep (no gradients, so no τ).`,
    'Preprocessing statistics (z-score per feature; Pima also median imputation) are label-free and fitted on the whole training split/fold; only the labelled training examples are subsampled.',
    'τ = p99/mean of per-sample input-gradient norms ‖∂ℓ_i/∂x_i‖₂ on the test rows, measured after training with the same code for every model (DESIGN §4).',
    'The subsample for a seed is nested across fractions (1% ⊂ 5% ⊂ …): stratifiedSubsample with the same seed keeps a prefix of each class\'s shuffled order.',
  ];
}
