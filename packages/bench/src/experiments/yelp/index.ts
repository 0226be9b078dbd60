/**
 * `chainz bench yelp`: Yelp Review Full as ordinal regression on frozen
 * sentence embeddings — accuracy, MAE (stars) and quadratic weighted kappa,
 * `cr` (ChainzRule + DREG + ordinal head) against the other heads. On the
 * shared 1000-review sample (reduced scale): stratified k-fold; with the
 * official files: the fixed train/test split over seeds.
 */
import { ConfigError, DataError } from '@chainz/core';
import { getAdapter, registerBuiltinAdapters, repeatedStratifiedKFold, takeRows, type LoadedDataset } from '@chainz/data';
import type { MlpConfig } from '../../models/mlp';
import type { FitResult, TabularFold } from '../../models/types';
import { ORDINAL_HEAD_EQUATION } from '../../models/ordinal';
import { defineExperiment, type Cell, type CellKey } from '../../runner/contract';
import { COMMON_FLAGS, modelsFlag } from '../../runner/flags';
import { dataFlags, foldFlags, withCliFlags } from '../common/cli-flags';
import { unitSeed, type FoldRecord } from '../common/tabular';
import { describeHeadRecord, headRecord, headsReport, type ReferenceRow } from '../common/heads-report';
import { earlierRunsFinder } from '../common/earlier-runs';
import { coverageLine, embeddingInfo, embedWithEncoder, ENCODER_FLAG, encoderCaveat, encoderInfo, parseEncoderSpecs, parsePooling, standardizeOn, type EncodedTexts } from '../common/text-embeddings';
import { buildYelpModels, YELP_MODEL_NAMES } from './models';
import { YELP_DEFAULT_FOLDS, YELP_DEFAULT_SEEDS, YELP_LITERATURE, YELP_PAPER } from './config';

export { YELP_MODEL_NAMES };

/** Options of `chainz bench yelp` (CLI flags in brackets). */
export interface YelpOptions {
  /**
   * Frozen encoder(s) [--encoder]: `use-lite` (default), `glove`, `glove:<file>`,
   * `transformers:<dir-or-id>`, `precomputed:<file>`; a comma list (e.g.
   * `glove,use-lite`) runs every head on each encoder on the same folds/seeds.
   */
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
  /** DREG λ of `cr` and `cr-softmax` [--lambda]. */
  lambda?: number;
  /**
   * With one encoder, show other encoders' rows from the latest completed run
   * of the same protocol beside ours (default true) [--no-earlier-runs: off].
   */
  earlierRuns?: boolean;
  /** Library only (tests, ablations; no CLI flag): fields merged into every head's configuration (recorded in results.json). */
  modelOverrides?: Partial<MlpConfig>;
}

/** `chainz bench yelp`. */
export const yelpExperiment = defineExperiment<YelpOptions, TabularFold, FitResult, FoldRecord>({
  name: 'yelp',
  title: 'Yelp Review Full as ordinal regression on frozen embeddings: accuracy, MAE, QWK (k-fold on the 1000-review sample by default)',
  flags: [
    ENCODER_FLAG,
    COMMON_FLAGS.pooling,
    COMMON_FLAGS.cacheDir,
    { key: 'yelpDir', flag: '--yelp-dir <path>', description: 'official train.csv/test.csv folder (fixed split) or a sample CSV (k-fold); default $CHAINZ_DATA_DIR/yelp', kind: 'path' },
    { ...COMMON_FLAGS.maxRows, description: 'read only the first n reviews of each file (reduced scale)' },
    { ...COMMON_FLAGS.folds, description: `folds of stratified k-fold on a sample (default ${YELP_DEFAULT_FOLDS})` },
    { ...COMMON_FLAGS.repeats, description: 'repetitions of k-fold on a sample (default 1)' },
    { ...COMMON_FLAGS.seeds, description: `seeds on the official split (default ${YELP_DEFAULT_SEEDS})` },
    COMMON_FLAGS.seed,
    modelsFlag(YELP_MODEL_NAMES),
    COMMON_FLAGS.lambda,
    { key: 'earlierRuns', flag: '--no-earlier-runs', description: "with one encoder, do not show other encoders' rows from earlier completed runs of the same protocol", kind: 'negatable' },
  ],
  modelOptions: (o) => ({ ...(o.lambda === undefined ? {} : { lambda: o.lambda }), ...(o.modelOverrides ? { overrides: o.modelOverrides as Record<string, never> } : {}) }),
  models: (mo) => buildYelpModels(mo),
  async plan(o, ctx) {
    const specs = parseEncoderSpecs(o.encoder);
    const pooling = parsePooling(o.pooling, specs);
    const baseSeed = o.seed ?? 0;
    registerBuiltinAdapters();
    const ds: LoadedDataset = await withCliFlags({ ...dataFlags('--yelp-dir'), maxRows: '--max-rows' }, () =>
      getAdapter('yelp').load({ ...(o.yelpDir ? { path: o.yelpDir } : {}), ...(o.maxRows ? { maxRows: o.maxRows } : {}) }),
    );
    const official = ds.splits.train !== undefined && ds.splits.test !== undefined;
    if (!official && !ds.splits.all) {
      throw new DataError(`found split(s) ${Object.keys(ds.splits).join(', ')}; need train.csv and test.csv, or one sample CSV`, { file: ds.provenance.files.join(', ') }, 'pass --yelp-dir with both official files, or a single sample CSV');
    }
    if (official && (o.folds !== undefined || o.repeats !== undefined)) {
      throw new ConfigError('the official train/test split is used as given; --folds/--repeats apply to a sample only (use --seeds)', { option: '--folds' });
    }
    if (!official && o.seeds !== undefined) throw new ConfigError('on a sample the protocol is k-fold: use --folds/--repeats/--seed, not --seeds', { option: '--seeds' });
    const reduced = !official || o.maxRows !== undefined;
    const multi = specs.length > 1;
    // k-fold on a sample: the folds (and their errors) before the minutes-long embedding step.
    const folds = o.folds ?? YELP_DEFAULT_FOLDS;
    const repeats = o.repeats ?? 1;
    const splits = official ? [] : withCliFlags(foldFlags('--yelp-dir'), () => repeatedStratifiedKFold(ds.splits.all.labels, folds, repeats, baseSeed));
    const lists: Record<string, string[]> = official ? { train: ds.splits.train.texts!, test: ds.splits.test.texts! } : { all: ds.splits.all.texts! };
    // Embeddings, one encoder after the other (each is freed before the next is built).
    const encoded: EncodedTexts[] = [];
    for (const spec of specs) encoded.push(await embedWithEncoder(spec, lists, { cwd: ctx.cwd, pooling, cacheDir: o.cacheDir, progress: ctx.progress, title: 'yelp' }));
    const nClasses = ds.classNames.length;
    const keyOf = (emb: EncodedTexts, k: { repeat: number; fold: number }): CellKey => (multi ? { encoder: emb.key, ...k } : k);

    // Cells per encoder; the same folds or seeds on every encoder, so heads pair across encoders.
    let cells: Cell<TabularFold>[];
    let protocol: Record<string, unknown>;
    let protocolText: string;
    let scaleLine: string;
    let sizes: { nTrain: number; nTest: number };
    let nSeeds = 0;
    const encoderProtocol = multi ? { encoders: encoded.map((e) => e.encoder.id) } : { encoder: encoded[0].encoder.id };
    if (official) {
      nSeeds = o.seeds ?? YELP_DEFAULT_SEEDS;
      cells = encoded.flatMap((emb) => {
        const std = standardizeOn(emb.x.train, emb.d, [emb.x.test]);
        const fold: TabularFold = { xTrain: std.train, yTrain: ds.splits.train.labels, xTest: std.others[0], yTest: ds.splits.test.labels, nFeatures: emb.d, nClasses };
        return Array.from({ length: nSeeds }, (_, s) => ({ key: keyOf(emb, { repeat: 0, fold: s }), batchGroup: emb.key, seed: unitSeed(baseSeed, 0, s), payload: () => fold }));
      });
      sizes = { nTrain: ds.splits.train.labels.length, nTest: ds.splits.test.labels.length };
      protocol = { kind: 'fixed split, seeds', seeds: nSeeds, seed: baseSeed, maxRows: o.maxRows ?? null, ...encoderProtocol, pooling, validation: 'stratified 15% of train (epoch selection)', preprocessing: 'z-score per embedding dimension fitted on train' };
      protocolText = `Protocol: official Yelp Review Full train/test files${o.maxRows ? ` (first ${o.maxRows} reviews per file only: reduced scale)` : ''}; every head trains on the training file less a stratified 15% used to choose the epoch; test accuracy, MAE and QWK per seed (${nSeeds} seeds, base seed ${baseSeed}${multi ? '; the same seeds on every encoder' : ''}).`;
      scaleLine = o.maxRows ? `Yelp Review Full, official files, first ${o.maxRows} reviews per file (REDUCED SCALE): train ${sizes.nTrain}, test ${sizes.nTest}.` : `Yelp Review Full, official files: train ${sizes.nTrain}, test ${sizes.nTest}.`;
    } else {
      const y = ds.splits.all.labels;
      cells = encoded.flatMap((emb) =>
        splits.map((sp) => ({
          key: keyOf(emb, { repeat: sp.repeat, fold: sp.fold }),
          batchGroup: emb.key,
          seed: unitSeed(baseSeed, sp.repeat, sp.fold),
          payload: () => {
            const d = emb.d;
            const x = emb.x.all;
            const std = standardizeOn(takeRows(x, d, sp.train), d, [takeRows(x, d, sp.test)]);
            return { xTrain: std.train, yTrain: Int32Array.from(sp.train, (i) => y[i]), xTest: std.others[0], yTest: Int32Array.from(sp.test, (i) => y[i]), nFeatures: d, nClasses };
          },
        })),
      );
      sizes = { nTrain: splits.reduce((s, u) => s + u.train.length, 0) / splits.length, nTest: splits.reduce((s, u) => s + u.test.length, 0) / splits.length };
      protocol = { kind: 'repeated stratified k-fold', folds, repeats, seed: baseSeed, maxRows: o.maxRows ?? null, ...encoderProtocol, pooling, validation: 'stratified 15% of each training fold (epoch selection)', preprocessing: 'z-score per embedding dimension fitted on each training fold' };
      protocolText = `Protocol: reduced scale — the ${y.length}-review sample, stratified ${folds}-fold × ${repeats} repeat(s), seed ${baseSeed}${multi ? ' (the same folds on every encoder)' : ''}; each head trains on the training folds less a stratified 15% used to choose the epoch; test-fold accuracy, MAE and QWK.`;
      scaleLine = `Yelp Review Full, REDUCED SCALE (${y.length}-review sample), stratified ${folds}-fold × ${repeats}.`;
    }
    const statistics = official ? ('seeds' as const) : ('folds' as const);
    const references: ReferenceRow[] = [
      { label: `paper: ${YELP_PAPER.model}`, short: 'paper: ChainzRule, full Yelp', accuracy: YELP_PAPER.accuracyMean.toFixed(2), tau: YELP_PAPER.tau, encoder: 'GloVe' },
      ...YELP_LITERATURE.map((l) => ({
        label: `literature (full Yelp): ${l.model}`,
        short: l.short,
        accuracy: l.accuracy.toFixed(2),
        ...(l.encoder ? { encoder: l.encoder } : {}),
      })),
    ];
    const caveats = encoded.map((emb) => encoderCaveat(emb.spec, 'yelp', emb.label));
    const covLines = encoded.map((emb) => coverageLine(emb.coverage));
    const headerLines = [
      scaleLine,
      ...(multi
        ? [`Encoders (every head on each, same ${official ? 'seeds' : 'folds'}):`, ...encoded.flatMap((emb, i) => [`  ${emb.key}: ${emb.label}.`, ...(covLines[i] ? [`    ${covLines[i]}.`] : [])])]
        : [`Encoder: ${encoded[0].label}, pooling ${pooling}.`, ...(covLines[0] ? [`${covLines[0]}.`] : [])]),
      `Heads: ordinal = cumulative-link head with K−1 ordered thresholds (${ORDINAL_HEAD_EQUATION}); softmax = 5-way cross-entropy.`,
      ...(reduced ? ["NOTE: reduced scale. The paper's 70.17 and the literature rows are on the full data set (650k training reviews); ours are not comparable with them."] : []),
      ...[...new Set(caveats.map((c) => c.header).filter((h): h is string => h !== undefined))],
    ];
    const notes = [
      reduced
        ? "Reduced scale: the paper trains on the full Yelp Review Full training set (650k reviews, 3.2M-parameter model); our default is the shared 1000-review sample (200 per class) with k-fold, so the paper's and the literature's figures are shown for orientation only."
        : 'Full scale: the official Yelp Review Full split.',
      ...caveats.map((c) => c.note),
      ...encoded.flatMap((emb, i) => (covLines[i] ? [`${emb.key} vocabulary coverage: ${covLines[i]}. Out-of-vocabulary words are skipped when averaging.`] : [])),
      "MAE is in stars (|predicted − true| averaged); QWK is Cohen's quadratic weighted kappa. Ordinal heads predict the median of their predictive distribution (#{k : P(y > k) > 1/2}); softmax heads the argmax.",
      "τ = p99/mean of per-sample input-gradient norms of each head's own loss on the test rows (ordinal loss for ordinal heads, cross-entropy for softmax heads). The paper reports τ 1.01–1.02 for ChainzRule vs 1.07–1.09 for standard activations.",
      'Hyper-parameters are fixed in packages/bench/src/experiments/yelp/config.ts (chosen before any test result, never tuned on test folds).',
    ];
    const seedOf = (r: FoldRecord) => unitSeed(baseSeed, 0, Number(r.fold));
    const ids = encoded.map((e) => e.encoder.id);
    // One encoder: other encoders' rows from the latest comparable completed run (read once, at the first report).
    const ro = o as YelpOptions & { out?: string; resume?: string };
    const earlierOf = earlierRunsFinder({
      experiment: 'yelp',
      out: ro.out,
      resume: ro.resume,
      cwd: ctx.cwd,
      enabled: !multi && o.earlierRuns !== false,
      protocol,
      dataSha256: ds.provenance.sha256,
      encoder: encoded[0].key,
    });
    return {
      keyFields: multi ? ['encoder', 'repeat', 'fold'] : ['repeat', 'fold'],
      cells,
      protocol,
      dataFingerprint: [...ds.provenance.sha256, ...ids, pooling, String(o.maxRows ?? '')].join(','),
      data: {
        name: ds.name,
        scale: reduced ? 'reduced' : 'full',
        rows: Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, v.length])),
        classNames: ds.classNames,
        provenance: ds.provenance,
        ...(multi ? { encoders: encoded.map((e) => encoderInfo(e, pooling)) } : { encoder: encoderInfo(encoded[0], pooling) }),
      },
      record: (out, payload) => headRecord(out, payload, true),
      describe: (r) => describeHeadRecord(r, statistics, seedOf),
      report: (records, _status, rc) =>
        headsReport(records, rc.models, {
          statistics,
          ordinal: true,
          expectedUnits: cells.length / encoded.length,
          sizes,
          headerLines,
          references,
          paper: YELP_PAPER,
          protocolText,
          notes,
          ...(multi ? { encoders: encoded.map((e) => ({ key: e.key, label: e.label })) } : { encoder: encoded[0].key, earlier: earlierOf(rc.models) }),
          extra: multi ? { embedding: Object.fromEntries(encoded.map((e) => [e.key, embeddingInfo(e)])) } : { embedding: embeddingInfo(encoded[0]) },
        }),
    };
  },
});
