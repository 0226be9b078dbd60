import path from 'node:path';
import { ConfigError, DataError } from '@chainz/core';
import { loadYelp, repeatedStratifiedKFold, takeRows } from '@chainz/data';
import { collectEnvironment } from '../env';
import type { MlpConfig } from '../models/mlp';
import { createProgress } from '../progress';
import { defaultResultsDir } from '../results';
import type { TabularFold } from '../models/types';
import { unitSeed } from './tabular-cv';
import { runHeadExperiment, type HeadExperimentOutput, type HeadUnitSpec, type ReferenceRow } from './heads-runner';
import { buildYelpModels, YELP_MODEL_NAMES } from './yelp.models';
import { YELP_DEFAULT_FOLDS, YELP_DEFAULT_SEEDS, YELP_LITERATURE, YELP_PAPER } from './yelp.config';
import { embedWithEncoder, parseEncoderSpec, parsePooling, standardizeOn } from './text-embeddings';
import { checkInt, checkLambda, checkPositiveInt, makeExecutor, resolveResultsDir, selectModels } from './text-common';
import { ORDINAL_HEAD_EQUATION } from '../models/ordinal';
import type { ExperimentRunOptions } from './run-options';
import { dataFlags, foldFlags, withCliFlags } from './cli-flags';

export { YELP_MODEL_NAMES };

/** Options of `chainz bench yelp` (CLI flags in brackets). */
export interface YelpBenchOptions extends ExperimentRunOptions {
  /** Frozen encoder [--encoder]: `use-lite` (default), `transformers:<dir-or-id>`, `precomputed:<file>`. */
  encoder?: string;
  pooling?: string;
  cacheDir?: string;
  /**
   * Yelp data [--yelp-dir]: a folder with the official `train.csv`/`test.csv`
   * (fixed split, seeds) or a sample CSV (k-fold); default
   * `$CHAINZ_DATA_DIR/yelp/` (the 1000-review sample).
   */
  yelpDir?: string;
  /** First N reviews per file only [--max-rows] (reduced scale). */
  maxRows?: number;
  /** k-fold on a sample [--folds] (default 5) × [--repeats] (default 1). */
  folds?: number;
  repeats?: number;
  /** Seeds on the official split [--seeds] (default 3). */
  seeds?: number;
  /** Base seed [--seed] (folds, initialisation, batch order). */
  seed?: number;
  models?: string[];
  /** Library only (tests, ablations; no CLI flag): fields merged into every head's configuration (recorded in results.json). */
  modelOverrides?: Partial<MlpConfig>;
  /** DREG λ of `cr` and `cr-softmax` [--lambda]. */
  lambda?: number;
}

/**
 * Yelp Review Full as ordinal regression on frozen sentence embeddings:
 * accuracy, MAE (stars) and quadratic weighted kappa, `cr` (ChainzRule +
 * DREG + ordinal head) against the other heads. On the shared 1000-review
 * sample (reduced scale): stratified k-fold; with the official files: the
 * fixed train/test split over seeds.
 */
export async function runYelpBench(opts: YelpBenchOptions): Promise<HeadExperimentOutput> {
  const startedAt = performance.now();
  const cwd = opts.cwd ?? process.cwd();
  checkPositiveInt(opts.seeds, '--seeds');
  checkPositiveInt(opts.repeats, '--repeats');
  checkPositiveInt(opts.maxRows, '--max-rows');
  checkInt(opts.seed, '--seed');
  if (opts.folds !== undefined && !(Number.isInteger(opts.folds) && opts.folds >= 2)) throw new ConfigError(`must be an integer ≥ 2, got ${opts.folds}`, { option: '--folds' });
  checkLambda(opts.lambda);
  const spec = parseEncoderSpec(opts.encoder);
  const pooling = parsePooling(opts.pooling, spec);
  const modelOptions = { ...(opts.lambda === undefined ? {} : { lambda: opts.lambda }), ...(opts.modelOverrides ? { overrides: opts.modelOverrides } : {}) };
  const models = selectModels(buildYelpModels(modelOptions), opts.models);
  const reference = models.some((m) => m.name === 'cr') ? 'cr' : models[0].name;
  const baseSeed = opts.seed ?? 0;
  const results = resolveResultsDir(opts, defaultResultsDir(cwd, 'yelp'));
  const progress = createProgress(opts.progress ?? 'auto');

  const ds = await withCliFlags({ ...dataFlags('--yelp-dir'), maxRows: '--max-rows' }, () =>
    loadYelp({ ...(opts.yelpDir ? { path: path.resolve(cwd, opts.yelpDir) } : {}), ...(opts.maxRows ? { maxRows: opts.maxRows } : {}) }),
  );
  const official = ds.splits.train !== undefined && ds.splits.test !== undefined;
  if (!official && !ds.splits.all) {
    throw new DataError(`found split(s) ${Object.keys(ds.splits).join(', ')}; need train.csv and test.csv, or one sample CSV`, { file: ds.provenance.files.join(', ') }, 'pass --yelp-dir with both official files, or a single sample CSV');
  }
  if (official && (opts.folds !== undefined || opts.repeats !== undefined)) {
    throw new ConfigError('the official train/test split is used as given; --folds/--repeats apply to a sample only (use --seeds)', { option: '--folds' });
  }
  if (!official && opts.seeds !== undefined) throw new ConfigError('on a sample the protocol is k-fold: use --folds/--repeats/--seed, not --seeds', { option: '--seeds' });
  const reduced = !official || opts.maxRows !== undefined;
  // k-fold on a sample: the folds (and their errors) before the minutes-long embedding step.
  const folds = opts.folds ?? YELP_DEFAULT_FOLDS;
  const repeats = opts.repeats ?? 1;
  const splits = official ? [] : withCliFlags(foldFlags('--yelp-dir'), () => repeatedStratifiedKFold(ds.splits.all.labels, folds, repeats, baseSeed));
  const lists: Record<string, string[]> = official ? { train: ds.splits.train.texts!, test: ds.splits.test.texts! } : { all: ds.splits.all.texts! };
  const emb = await embedWithEncoder(spec, lists, { cwd, pooling, cacheDir: opts.cacheDir, progress, title: 'yelp' });
  const { label: encLabel, notBert, encoder, seconds: embeddingSeconds } = emb;
  const d = emb.d;
  const nClasses = ds.classNames.length;

  let units: HeadUnitSpec[];
  let protocol: Record<string, unknown>;
  let protocolText: string;
  let scaleLine: string;
  if (official) {
    const nSeeds = opts.seeds ?? YELP_DEFAULT_SEEDS;
    const std = standardizeOn(emb.x.train, d, [emb.x.test]);
    const fold: TabularFold = { xTrain: std.train, yTrain: ds.splits.train.labels, xTest: std.others[0], yTest: ds.splits.test.labels, nFeatures: d, nClasses };
    units = Array.from({ length: nSeeds }, (_, s) => ({ repeat: 0, fold: s, seed: unitSeed(baseSeed, 0, s), nTrain: fold.yTrain.length, nTest: fold.yTest.length, data: () => fold }));
    protocol = { kind: 'fixed split, seeds', seeds: nSeeds, seed: baseSeed, maxRows: opts.maxRows ?? null, encoder: encoder.id, pooling, validation: 'stratified 15% of train (epoch selection)', preprocessing: 'z-score per embedding dimension fitted on train' };
    protocolText = `Protocol: official Yelp Review Full train/test files${opts.maxRows ? ` (first ${opts.maxRows} reviews per file only: reduced scale)` : ''}; every head trains on the training file less a stratified 15% used to choose the epoch; test accuracy, MAE and QWK per seed (${nSeeds} seeds, base seed ${baseSeed}).`;
    scaleLine = opts.maxRows ? `Yelp Review Full, official files, first ${opts.maxRows} reviews per file (REDUCED SCALE): train ${fold.yTrain.length}, test ${fold.yTest.length}.` : `Yelp Review Full, official files: train ${fold.yTrain.length}, test ${fold.yTest.length}.`;
  } else {
    const y = ds.splits.all.labels;
    const x = emb.x.all;
    units = splits.map((sp) => ({
      repeat: sp.repeat,
      fold: sp.fold,
      seed: unitSeed(baseSeed, sp.repeat, sp.fold),
      nTrain: sp.train.length,
      nTest: sp.test.length,
      data: () => {
        const std = standardizeOn(takeRows(x, d, sp.train), d, [takeRows(x, d, sp.test)]);
        return { xTrain: std.train, yTrain: Int32Array.from(sp.train, (i) => y[i]), xTest: std.others[0], yTest: Int32Array.from(sp.test, (i) => y[i]), nFeatures: d, nClasses };
      },
    }));
    protocol = { kind: 'repeated stratified k-fold', folds, repeats, seed: baseSeed, maxRows: opts.maxRows ?? null, encoder: encoder.id, pooling, validation: 'stratified 15% of each training fold (epoch selection)', preprocessing: 'z-score per embedding dimension fitted on each training fold' };
    protocolText = `Protocol: reduced scale — the ${y.length}-review sample, stratified ${folds}-fold × ${repeats} repeat(s), seed ${baseSeed}; each head trains on the training folds less a stratified 15% used to choose the epoch; test-fold accuracy, MAE and QWK.`;
    scaleLine = `Yelp Review Full, REDUCED SCALE (${y.length}-review sample), stratified ${folds}-fold × ${repeats}.`;
  }

  const references: ReferenceRow[] = [
    { label: `paper: ${YELP_PAPER.model}`, accuracy: YELP_PAPER.accuracyMean.toFixed(2), tau: YELP_PAPER.tau },
    ...YELP_LITERATURE.map((l) => ({ label: `literature (full Yelp): ${l.model}`, accuracy: l.accuracy.toFixed(2) })),
  ];
  const headerLines = [
    scaleLine,
    `Encoder: ${encLabel}, pooling ${pooling}.`,
    `Heads: ordinal = cumulative-link head with K−1 ordered thresholds (${ORDINAL_HEAD_EQUATION}); softmax = 5-way cross-entropy.`,
    ...(reduced ? ['NOTE: reduced scale. The paper\'s 70.17 and the literature rows are on the full data set (650k training reviews); ours are not comparable with them.'] : []),
    ...(notBert ? ['NOTE: the encoder is not BERT (USE-lite).'] : []),
  ];
  const notes = [
    reduced
      ? 'Reduced scale: the paper trains on the full Yelp Review Full training set (650k reviews, 3.2M-parameter model); our default is the shared 1000-review sample (200 per class) with k-fold, so the paper\'s and the literature\'s figures are shown for orientation only.'
      : 'Full scale: the official Yelp Review Full split.',
    notBert ? 'Encoder caveat: USE-lite (Universal Sentence Encoder lite) is not BERT; it is the only pretrained sentence encoder available offline here.' : `Encoder: ${encLabel}.`,
    'MAE is in stars (|predicted − true| averaged); QWK is Cohen\'s quadratic weighted kappa. Ordinal heads predict the median of their predictive distribution (#{k : P(y > k) > 1/2}); softmax heads the argmax.',
    'τ = p99/mean of per-sample input-gradient norms of each head\'s own loss on the test rows (ordinal loss for ordinal heads, cross-entropy for softmax heads). The paper reports τ 1.01–1.02 for ChainzRule vs 1.07–1.09 for standard activations.',
    'Hyper-parameters are fixed in packages/bench/src/experiments/yelp.config.ts (chosen before any test result, never tuned on test folds).',
  ];

  const executor = await makeExecutor('yelp', models, opts.backend, opts.workers, modelOptions);
  try {
    return await runHeadExperiment({
      experiment: 'yelp',
      units,
      models,
      reference,
      protocol,
      protocolText,
      statistics: official ? 'seeds' : 'folds',
      ordinal: true,
      nClasses,
      dataFingerprint: [...ds.provenance.sha256, encoder.id, pooling, String(opts.maxRows ?? '')].join(','),
      dataDescription: { name: ds.name, scale: reduced ? 'reduced' : 'full', rows: Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, v.length])), classNames: ds.classNames, provenance: ds.provenance, encoder: { id: encoder.id, description: encoder.description, dimension: d, pooling } },
      headerLines,
      references,
      paper: YELP_PAPER,
      notes,
      environment: collectEnvironment(opts.backend, opts.backendNotes),
      results,
      progress,
      executor,
      startedAt,
      extra: { embedding: { seconds: embeddingSeconds, cacheHits: emb.cacheHits, encoder: encoder.id, notBert } },
    });
  } finally {
    await executor.close();
  }
}
