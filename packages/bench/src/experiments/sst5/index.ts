/**
 * `chainz bench sst5`: SST-5 with frozen sentence embeddings. Every head
 * trains on the training split, its epoch is chosen on dev, and test accuracy
 * is reported over seeds, with τ and paired tests of `cr` against every other
 * head; the paper's and the literature's figures beside ours.
 */
import { ConfigError, DataError } from '@chainz/core';
import { getAdapter, registerBuiltinAdapters, type LoadedDataset, type Sst5LoadOptions } from '@chainz/data';
import type { MlpConfig } from '../../models/mlp';
import type { FitResult, TabularFold } from '../../models/types';
import { defineExperiment, type Cell } from '../../runner/contract';
import { COMMON_FLAGS, modelsFlag } from '../../runner/flags';
import { dataFlags, withCliFlags } from '../common/cli-flags';
import { unitSeed, type FoldRecord } from '../common/tabular';
import { describeHeadRecord, headRecord, headsReport, type ReferenceRow } from '../common/heads-report';
import { earlierRunsFinder } from '../common/earlier-runs';
import { coverageLine, embeddingInfo, embedWithEncoder, ENCODER_FLAG, encoderCaveat, encoderInfo, parseEncoderSpecs, parsePooling, standardizeOn, type EncodedTexts } from '../common/text-embeddings';
import { buildSst5Models, SST5_MODEL_NAMES } from './models';
import { SST5_DEFAULT_SEEDS, SST5_LITERATURE, SST5_PAPER } from './config';

export { SST5_MODEL_NAMES };

/** Options of `chainz bench sst5` (CLI flags in brackets). */
export interface Sst5Options {
  /**
   * Frozen encoder(s) [--encoder]: `use-lite` (default), `glove`, `glove:<file>`,
   * `transformers:<dir-or-id>`, `precomputed:<file>`; a comma list (e.g.
   * `glove,use-lite`) runs every head on each encoder with the same seeds.
   */
  encoder?: string;
  /** Pooling for token-level encoders [--pooling]: `mean` (default) or `cls`. */
  pooling?: string;
  /** Embedding cache folder [--cache-dir]; default `$CHAINZ_CACHE_DIR/embeddings` or `~/.cache/chainz/embeddings`. */
  cacheDir?: string;
  /** SST-5 tree files folder [--data]; default `$CHAINZ_DATA_DIR/sst5`. */
  data?: string;
  /** Number of seeds [--seeds], default 5; base seed [--seed], default 0. */
  seeds?: number;
  seed?: number;
  /** Subset of heads [--models]. */
  models?: string[];
  /** DREG λ of `cr` [--lambda]; default 10^-2.5. */
  lambda?: number;
  /**
   * Quick first runs (REDUCED SCALE, labelled so in the table and results.json):
   * keep this share of the training sentences, in (0, 1] [--train-fraction],
   * and/or at most this many [--max-train]; at most this many dev and test
   * sentences each [--max-rows]. Stratified by label, drawn with `--seed`.
   */
  trainFraction?: number;
  maxTrain?: number;
  maxRows?: number;
  /**
   * With one encoder, show other encoders' rows from the latest completed run
   * of the same protocol beside ours (default true) [--no-earlier-runs: off].
   */
  earlierRuns?: boolean;
  /** Library only (tests, ablations; no CLI flag): fields merged into every head's configuration (recorded in results.json). */
  modelOverrides?: Partial<MlpConfig>;
}

/** The row order of a row-order precomputed file (`.npy`, JSON matrix) for SST-5: train, then dev, then test. */
export const SST5_PRECOMPUTED_ROW_ORDER = 'train sentences, then dev, then test, each in file order';

/** `chainz bench sst5`. */
export const sst5Experiment = defineExperiment<Sst5Options, TabularFold, FitResult, FoldRecord>({
  name: 'sst5',
  title: 'SST-5: frozen sentence embeddings → ChainzRule head vs MLP/logistic heads; train, select epoch on dev, test over seeds',
  flags: [
    ENCODER_FLAG,
    COMMON_FLAGS.pooling,
    COMMON_FLAGS.cacheDir,
    { key: 'data', flag: '--data <dir>', description: 'folder with the SST-5 PTB trees train.txt, dev.txt, test.txt (default: $CHAINZ_DATA_DIR/sst5)', kind: 'path' },
    { ...COMMON_FLAGS.seeds, description: `number of seeds (default ${SST5_DEFAULT_SEEDS})` },
    COMMON_FLAGS.seed,
    modelsFlag(SST5_MODEL_NAMES),
    COMMON_FLAGS.lambda,
    { key: 'earlierRuns', flag: '--no-earlier-runs', description: "with one encoder, do not show other encoders' rows from earlier completed runs of the same protocol", kind: 'negatable' },
    { key: 'trainFraction', flag: '--train-fraction <f>', description: 'quick run: train on this share of the training sentences, in (0, 1] (stratified, drawn with --seed; REDUCED SCALE)', kind: 'number', min: 0, max: 1 },
    { key: 'maxTrain', flag: '--max-train <n>', description: 'quick run: at most n training sentences (stratified, drawn with --seed; REDUCED SCALE)', kind: 'int', min: 1 },
    { ...COMMON_FLAGS.maxRows, description: 'smoke run: at most n dev and n test sentences (stratified, drawn with --seed; REDUCED SCALE, not the SST-5 figure)' },
  ],
  modelOptions: (o) => ({ ...(o.lambda === undefined ? {} : { lambda: o.lambda }), ...(o.modelOverrides ? { overrides: o.modelOverrides as Record<string, never> } : {}) }),
  models: (mo) => buildSst5Models(mo),
  async plan(o, ctx) {
    // Every option is checked before the (possibly minutes-long) embedding step.
    const specs = parseEncoderSpecs(o.encoder);
    const pooling = parsePooling(o.pooling, specs);
    const nSeeds = o.seeds ?? SST5_DEFAULT_SEEDS;
    const baseSeed = o.seed ?? 0;
    if (o.trainFraction !== undefined && !(o.trainFraction > 0 && o.trainFraction <= 1)) {
      throw new ConfigError(`must be a share of the training sentences in (0, 1], e.g. 0.1, got ${o.trainFraction}`, { option: '--train-fraction' });
    }
    const reduceOptions = {
      ...(o.trainFraction !== undefined && o.trainFraction < 1 ? { trainFraction: o.trainFraction } : {}),
      ...(o.maxTrain !== undefined ? { maxTrain: o.maxTrain } : {}),
      ...(o.maxRows !== undefined ? { maxRows: o.maxRows } : {}),
    };
    const reduceRequested = Object.keys(reduceOptions).length > 0;
    registerBuiltinAdapters();
    const full: LoadedDataset = await withCliFlags(dataFlags('--data'), () => getAdapter('sst5').load(o.data ? { path: o.data } : {}));
    const ds: LoadedDataset = reduceRequested
      ? await withCliFlags({ ...dataFlags('--data'), trainFraction: '--train-fraction', maxTrain: '--max-train', maxRows: '--max-rows', sampleSeed: '--seed' }, () =>
          getAdapter<Sst5LoadOptions>('sst5').load({ ...(o.data ? { path: o.data } : {}), ...reduceOptions, sampleSeed: baseSeed }),
        )
      : full;
    for (const s of ['train', 'dev', 'test']) {
      if (!ds.splits[s]) throw new DataError(`SST-5 split '${s}' not found (need train.txt, dev.txt, test.txt)`, { file: ds.provenance.files.join(', ') });
    }
    const texts = { train: ds.splits.train.texts!, dev: ds.splits.dev.texts!, test: ds.splits.test.texts! };
    const fullRows = { train: full.splits.train.labels.length, dev: full.splits.dev.labels.length, test: full.splits.test.labels.length };
    const rows = { train: texts.train.length, dev: texts.dev.length, test: texts.test.length };
    const reduced = rows.train < fullRows.train || rows.dev < fullRows.dev || rows.test < fullRows.test;
    const multi = specs.length > 1;

    // Embeddings, one encoder after the other (each is freed before the next is built).
    const encoded: EncodedTexts[] = [];
    for (const spec of specs) encoded.push(await embedWithEncoder(spec, texts, { cwd: ctx.cwd, pooling, cacheDir: o.cacheDir, progress: ctx.progress, title: 'sst5' }));
    const folds = encoded.map((emb): TabularFold => {
      const std = standardizeOn(emb.x.train, emb.d, [emb.x.dev, emb.x.test]);
      return { xTrain: std.train, yTrain: ds.splits.train.labels, xVal: std.others[0], yVal: ds.splits.dev.labels, xTest: std.others[1], yTest: ds.splits.test.labels, nFeatures: emb.d, nClasses: ds.classNames.length };
    });
    // Units: (encoder ×) seeds; the same seeds on every encoder, so heads pair across encoders.
    const cells: Cell<TabularFold>[] = encoded.flatMap((emb, e) =>
      Array.from({ length: nSeeds }, (_, s): Cell<TabularFold> => ({ key: multi ? { encoder: emb.key, repeat: 0, fold: s } : { repeat: 0, fold: s }, batchGroup: emb.key, seed: unitSeed(baseSeed, 0, s), payload: () => folds[e] })),
    );
    const references: ReferenceRow[] = [
      { label: `paper: ${SST5_PAPER.model}`, short: 'paper: ChainzRule head, frozen BERT', accuracy: `${SST5_PAPER.accuracyMean.toFixed(2)} ± ${SST5_PAPER.accuracyStd.toFixed(2)}`, tau: SST5_PAPER.tau, encoder: 'BERT' },
      { label: `literature: ${SST5_LITERATURE.rntn.model}`, short: 'literature: RNTN (all phrases)', accuracy: SST5_LITERATURE.rntn.accuracy.toFixed(1) },
      { label: `literature: ${SST5_LITERATURE.bertBaseFineTuned.model}`, short: 'literature: BERT-base fine-tuned', accuracy: SST5_LITERATURE.bertBaseFineTuned.accuracy.toFixed(1), encoder: 'BERT' },
    ];
    const caveats = encoded.map((emb) => encoderCaveat(emb.spec, 'sst5', emb.label));
    const covLines = encoded.map((emb) => coverageLine(emb.coverage));
    const scale = reducedScaleText(o, rows, fullRows, baseSeed);
    const headerLines = [
      `SST-5 test accuracy (${rows.test} sentences), ${nSeeds} seed(s)${multi ? ' per encoder' : ''}; epoch chosen on dev (${rows.dev}); trained on ${rows.train} training sentences.`,
      ...(reduced ? [`REDUCED SCALE (quick run): ${scale}. Not the SST-5 figure: compare rows with each other only.`] : []),
      ...(multi
        ? ['Encoders (every head on each, same seeds):', ...encoded.flatMap((emb, i) => [`  ${emb.key}: ${emb.label}.`, ...(covLines[i] ? [`    ${covLines[i]}.`] : [])])]
        : [`Encoder: ${encoded[0].label}, pooling ${pooling}.`, ...(covLines[0] ? [`${covLines[0]}.`] : [])]),
      ...uniq(caveats.map((c) => c.header).filter((h): h is string => h !== undefined)),
    ];
    const notes = [
      ...(reduced ? [`REDUCED SCALE: ${scale}; ${ds.provenance.notes?.filter((n) => n.startsWith('reduced-scale')).join('; ')}. Accuracies on a subsample are not the SST-5 figure.`] : []),
      ...caveats.map((c) => c.note),
      ...encoded.flatMap((emb, i) => (covLines[i] ? [`${emb.key} vocabulary coverage: ${covLines[i]}. Out-of-vocabulary words are skipped when averaging.`] : [])),
      `RNTN (45.7) was trained on all ~159k labelled phrases of the training trees; our heads see only the ${rows.train} training sentences (root labels).`,
      'τ = p99/mean of per-sample input-gradient norms ‖∂ℓ_i/∂x_i‖₂ on the test sentences (x = standardised embedding), measured after training with the same code for every head. The paper reports τ 1.01–1.02 for ChainzRule vs 1.07–1.09 for standard activations.',
      'Hyper-parameters are fixed in packages/bench/src/experiments/sst5/config.ts (chosen before any test result, never tuned on test).',
      `With ${nSeeds} seeds the smallest two-sided exact Wilcoxon p is ${(2 / 2 ** nSeeds).toFixed(4)}.`,
    ];
    const seedOf = (r: FoldRecord) => unitSeed(baseSeed, 0, Number(r.fold));
    const ids = encoded.map((emb) => emb.encoder.id);
    const protocolText =
      `Protocol: SST-5 standard split${reduced ? ` (REDUCED SCALE: ${scale})` : ''}; every head trains on the ${rows.train} training sentences, its epoch is chosen by the lowest dev cross-entropy, and test accuracy is measured once per seed (${nSeeds} seeds, base seed ${baseSeed})` +
      (multi
        ? `, on each encoder (${encoded.map((e) => e.key).join(', ')}; same seeds). Inputs: frozen embeddings (pooling ${pooling}), z-scored with training-split statistics.`
        : `. Inputs: frozen ${encoded[0].label} embeddings (pooling ${pooling}), z-scored with training-split statistics.`);
    const protocol = {
      kind: 'fixed split, seeds',
      seeds: nSeeds,
      seed: baseSeed,
      train: 'train',
      validation: 'dev (epoch selection)',
      test: 'test',
      ...(multi ? { encoders: ids } : { encoder: ids[0] }),
      pooling,
      preprocessing: 'z-score per embedding dimension fitted on train',
      ...(reduceRequested ? { reduced: { ...reduceOptions, sampleSeed: baseSeed } } : {}),
    };
    // One encoder: other encoders' rows from the latest comparable completed run (read once, at the first report).
    const ro = o as Sst5Options & { out?: string; resume?: string };
    const earlierOf = earlierRunsFinder({
      experiment: 'sst5',
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
      dataFingerprint: [...ds.provenance.sha256, ...ids, pooling, ...(reduceRequested ? [JSON.stringify(reduceOptions)] : [])].join(','),
      data: {
        name: ds.name,
        scale: reduced ? 'reduced' : 'full',
        rows,
        ...(reduced ? { fullRows } : {}),
        classNames: ds.classNames,
        provenance: ds.provenance,
        ...(multi ? { encoders: encoded.map((e) => encoderInfo(e, pooling)) } : { encoder: encoderInfo(encoded[0], pooling) }),
      },
      record: (out, payload) => headRecord(out, payload, false),
      describe: (r) => describeHeadRecord(r, 'seeds', seedOf),
      report: (records, _status, rc) =>
        headsReport(records, rc.models, {
          statistics: 'seeds',
          ordinal: false,
          expectedUnits: nSeeds,
          sizes: { nTrain: rows.train, nTest: rows.test },
          headerLines,
          references,
          paper: SST5_PAPER,
          protocolText,
          notes,
          ...(multi ? { encoders: encoded.map((e) => ({ key: e.key, label: e.label })) } : { encoder: encoded[0].key, earlier: earlierOf(rc.models) }),
          extra: multi ? { embedding: Object.fromEntries(encoded.map((e) => [e.key, embeddingInfo(e)])) } : { embedding: embeddingInfo(encoded[0]) },
        }),
    };
  },
});

const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];

/** E.g. `trained on 854 of 8544 training sentences (--train-fraction 0.1), dev 300 of 1101 and test 300 of 2210 (--max-rows 300); stratified, drawn with seed 0`. */
function reducedScaleText(o: Sst5Options, rows: Record<'train' | 'dev' | 'test', number>, full: Record<'train' | 'dev' | 'test', number>, seed: number): string {
  const parts: string[] = [];
  if (rows.train < full.train) {
    const why = [o.trainFraction !== undefined && o.trainFraction < 1 ? `--train-fraction ${o.trainFraction}` : '', o.maxTrain !== undefined ? `--max-train ${o.maxTrain}` : ''].filter(Boolean).join(', ');
    parts.push(`${rows.train} of ${full.train} training sentences (${why})`);
  }
  const capped = (['dev', 'test'] as const).filter((s) => rows[s] < full[s]);
  if (capped.length > 0) parts.push(`${capped.map((s) => `${s} ${rows[s]} of ${full[s]}`).join(' and ')} (--max-rows ${o.maxRows})`);
  return `${parts.join(', ')}; stratified by label, drawn with seed ${seed}`;
}
