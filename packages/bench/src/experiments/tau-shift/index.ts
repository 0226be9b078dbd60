/**
 * `chainz bench tau-shift`: is label-free τ a deployment-time proxy for
 * accuracy? ChainzRule + DREG, ChainzRule without DREG, ReLU and GELU MLPs are
 * trained once per (data source, seed) on clean data, then evaluated on inputs
 * under growing shift — the CIFAR-10-C corruptions, and Gaussian feature noise
 * and feature dropout on every registered tabular data set. Per shift level
 * the unit records τ computed without labels, the mean max-softmax confidence
 * (the baseline signal) and the accuracy; the report gives per model the
 * Spearman correlation of each signal with accuracy across shift levels, with
 * a bootstrap interval, and a scatter plot.
 */
import { ConfigError } from '@chainz/core';
import { getAdapter, stratifiedSubsample, type CifarCorruptionData, type Severity } from '@chainz/data';
import { LABEL_FREE_TARGETS, type LabelFreeTarget } from '@chainz/metrics';
import { defineExperiment, type Cell } from '../../runner/contract';
import { COMMON_FLAGS, modelsFlag } from '../../runner/flags';
import { channelStats, loadCifarForRun } from '../common/cifar-data';
import { withCliFlags } from '../common/cli-flags';
import { assertTabularDataset, prepareFold, tabularDatasetNames, tabularMatrix, unitSeed, type TabularMatrix } from '../common/tabular';
import { parseSeverities } from '../cifar10c';
import { TABULAR_SHIFTS, TAU_SHIFT_FIXED, TAU_SHIFT_IMAGE_TRAINING, TAU_SHIFT_MODEL_NAMES, TAU_SHIFT_PROTOCOLS, TAU_SHIFT_TABULAR_MODELS } from './config';
import { buildTauShiftModels, type ShiftPayload, type ShiftUnitOutput } from './models';
import { tauShiftReport, type ShiftRecord } from './report';
import { shiftRepeats, tabularShiftedSets } from './shifts';

export { TAU_SHIFT_MODEL_NAMES };

/** Options of `chainz bench tau-shift` (CLI flags in brackets). */
export interface TauShiftOptions {
  /** `default`: reduced scale (≤ 20 min here); `full`: every severity, all rows, more images and seeds [--protocol]. */
  protocol?: 'default' | 'full';
  /** Data sources: `cifar10c` and/or registered tabular data sets [--datasets a,b]; default all. */
  datasets?: string[];
  /** Seeds per source [--seeds]; default 2 (full: 5). */
  seeds?: number;
  /** Base seed (splits, initialisation, shift draws, bootstrap) [--seed]; default 0. */
  seed?: number;
  /** Subset of the four models [--models]. */
  models?: string[];
  /** The scalar differentiated for τ without labels [--tau-target]; default `predicted-ce`. */
  tauTarget?: LabelFreeTarget;
  /** Row cap of the tabular sets (stratified sample) [--max-rows]; default 1000 (full: none). */
  maxRows?: number;
  /** CIFAR-10 batches folder [--cifar-dir]; official CIFAR-10-C folder [--cifar10c-dir] (default: regenerate). */
  cifarDir?: string;
  cifar10cDir?: string;
  /** Data root instead of CHAINZ_DATA_DIR (library only). */
  dataDir?: string;
  /** First N CIFAR-10 training / test images [--train-size, --test-size]; default 4000 / 500 (full: 4000 / 1000). */
  trainSize?: number;
  testSize?: number;
  /** CIFAR-10-C corruptions and severities [--corruptions, --severities]; default all 15 at severities 1, 3, 5 (full: 1–5). */
  corruptions?: string[];
  severities?: Severity[];
  /** Cache of regenerated corrupted sets [--cache-dir], or none [--no-cache]. */
  cacheDir?: string | null;
  cache?: boolean;
  /** Override the epochs of both model families (quick checks) [--epochs]. */
  epochs?: number;
  /** DREG λ of `cr` [--lambda]; default 10^-2.5. */
  lambda?: number;
}

const CIFAR_FLAGS = { cifarDir: '--cifar-dir', cifar10cDir: '--cifar10c-dir', trainSize: '--train-size', testSize: '--test-size', corruptions: '--corruptions', severities: '--severities' };

/** A 31-bit hash of a source name (FNV-1a), so each source's seeds do not depend on which other sources run. */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 1) % 100000;
}

interface TabularSource {
  name: string;
  matrix: TabularMatrix;
  totalRows: number;
  sha256: string[];
  provenance: unknown;
}

/** `chainz bench tau-shift`. */
export const tauShiftExperiment = defineExperiment<TauShiftOptions, ShiftPayload, ShiftUnitOutput, ShiftRecord>({
  name: 'tau-shift',
  title: 'label-free τ vs accuracy under shift (CIFAR-10-C; tabular noise and feature dropout): does τ track reliability? CR, CR w/o DREG, ReLU, GELU',
  flags: [
    { ...COMMON_FLAGS.protocol, description: 'default = reduced scale (2 seeds, 1000-row cap, 4000/500 CIFAR images, severities 1,3,5); full = everything' },
    { key: 'datasets', flag: '--datasets <list>', description: 'comma-separated data sources: cifar10c and/or registered tabular data sets (default: all)', kind: 'list' },
    { ...COMMON_FLAGS.seeds, description: 'seeds per data source (default 2; full 5)' },
    { ...COMMON_FLAGS.seed, description: 'base seed (splits, row sample, initialisation, batch order, shift draws, bootstrap)' },
    modelsFlag(TAU_SHIFT_MODEL_NAMES),
    { key: 'tauTarget', flag: '--tau-target <name>', description: 'scalar whose input gradient gives τ without labels: predicted-ce (cross-entropy at the predicted class) or logit-margin', kind: 'choice', choices: LABEL_FREE_TARGETS, default: 'predicted-ce' },
    { key: 'maxRows', flag: '--max-rows <n>', description: 'stratified sample of at most n rows per tabular data set (default 1000; full: all rows)', kind: 'int', min: 20 },
    { key: 'cifarDir', flag: '--cifar-dir <dir>', description: 'CIFAR-10 binary batches (default $CHAINZ_DATA_DIR/cifar10)', kind: 'path' },
    { key: 'cifar10cDir', flag: '--cifar10c-dir <dir>', description: 'official CIFAR-10-C folder (default: regenerate the corruptions with our port)', kind: 'path' },
    { key: 'trainSize', flag: '--train-size <n>', description: 'first N CIFAR-10 training images (default 4000)', kind: 'int', min: 10, max: 50000 },
    { key: 'testSize', flag: '--test-size <n>', description: 'first N CIFAR-10 test images, clean and corrupted (default 500; full 1000)', kind: 'int', min: 10, max: 10000 },
    { key: 'corruptions', flag: '--corruptions <list>', description: 'comma-separated subset of the 15 CIFAR-10-C corruptions (default all)', kind: 'list' },
    { key: 'severities', flag: '--severities <list>', description: 'CIFAR-10-C severities 1..5 (default 1,3,5; full 1-5)', kind: 'list', parse: parseSeverities },
    { key: 'cacheDir', flag: '--cache-dir <dir>', description: 'cache of regenerated corrupted sets (default <$CHAINZ_CACHE_DIR or ~/.cache/chainz>/cifar10c-generated)', kind: 'path' },
    { key: 'cache', flag: '--no-cache', description: 'regenerate the corrupted sets without reading or writing the cache', kind: 'negatable' },
    { key: 'epochs', flag: '--epochs <n>', description: 'override the epochs of every model (quick checks; recorded)', kind: 'int', min: 1, max: 10000 },
    { ...COMMON_FLAGS.lambda, description: "DREG λ of cr (default 10^-2.5, the paper's)" },
  ],
  modelOptions: (o) => ({ tauTarget: o.tauTarget ?? 'predicted-ce', ...(o.lambda === undefined ? {} : { lambda: o.lambda }) }),
  models: (mo) => buildTauShiftModels(mo),
  async plan(o, ctx) {
    const protocolName = o.protocol ?? 'default';
    const P = TAU_SHIFT_PROTOCOLS[protocolName];
    const nSeeds = o.seeds ?? P.seeds;
    const baseSeed = o.seed ?? 0;
    const maxRows = o.maxRows ?? P.maxRows;
    const tauTarget = o.tauTarget ?? 'predicted-ce';
    const severities = o.severities ?? (P.severities as Severity[]);

    // ---- which data sources ----
    const tabularNames = tabularDatasetNames();
    const requested = o.datasets ?? ['cifar10c', ...tabularNames];
    const dup = requested.filter((s, i) => requested.indexOf(s) !== i);
    if (dup.length > 0) throw new ConfigError(`names ${dup.join(', ')} more than once`, { option: '--datasets' });
    for (const s of requested) if (s !== 'cifar10c') assertTabularDataset(s, '--datasets', ['cifar10c']);
    const useCifar = requested.includes('cifar10c');
    const tabularRequested = tabularNames.filter((n) => requested.includes(n));
    const cifarOnly = ['cifarDir', 'cifar10cDir', 'trainSize', 'testSize', 'corruptions', 'severities'] as const;
    if (!useCifar) {
      const given = cifarOnly.filter((k) => o[k] !== undefined);
      if (given.length > 0) throw new ConfigError(`applies to cifar10c, which --datasets leaves out`, { option: CIFAR_FLAGS[given[0]] });
    }

    // ---- CIFAR-10 and CIFAR-10-C ----
    const imageTraining = { ...TAU_SHIFT_IMAGE_TRAINING, ...(o.epochs !== undefined ? { epochs: o.epochs } : {}) };
    let cifar: CifarCorruptionData | null = null;
    if (useCifar) {
      cifar = await loadCifarForRun(
        {
          cifarDir: o.cifarDir,
          cifar10cDir: o.cifar10cDir,
          dataDir: o.dataDir,
          trainSize: o.trainSize ?? P.trainSize,
          testSize: o.testSize ?? P.testSize,
          corruptions: o.corruptions,
          severities,
          corruptionSeed: TAU_SHIFT_FIXED.corruptionSeed,
          cacheDir: o.cache === false ? null : o.cacheDir,
        },
        ctx,
        CIFAR_FLAGS,
      );
    }

    // ---- tabular data sets ----
    const tabular: TabularSource[] = [];
    for (const name of tabularRequested) {
      const ds = await withCliFlags({ path: null, dataDir: null }, () => getAdapter(name).load(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}));
      const sha256 = ds.provenance.sha256;
      const provenance = ds.provenance;
      let m = tabularMatrix(ds);
      const totalRows = m.y.length;
      if (maxRows !== null && maxRows < totalRows) {
        const rows = stratifiedSubsample(m.y, maxRows / totalRows, baseSeed ^ 0x5a3c);
        const d = m.nFeatures;
        const x = new Float32Array(rows.length * d);
        rows.forEach((r, i) => x.set(m.x.subarray(r * d, (r + 1) * d), i * d));
        m = { ...m, x, y: Int32Array.from(rows, (i) => m.y[i]) };
      }
      tabular.push({ name, matrix: m, totalRows, sha256, provenance });
    }

    // ---- cells: (source, seed); CIFAR first (its units are the longest), then the larger tabular sets ----
    const cells: Cell<ShiftPayload>[] = [];
    if (cifar) {
      const data = cifar;
      const { mean, std } = channelStats(data.train.images);
      const sets = data.sets.map((s) => ({ level: { family: 'corruption' as const, shift: s.corruption, strength: s.severity }, images: s.images }));
      for (let s = 0; s < nSeeds; s++) {
        const seed = unitSeed(baseSeed, s, nameHash('cifar10c'));
        cells.push({
          key: { source: 'cifar10c', seed: s },
          seed,
          payload: () => {
            const valIdx = stratifiedSubsample(data.train.labels, TAU_SHIFT_FIXED.imageValidationFraction, seed ^ 0x7a1d);
            const inVal = new Uint8Array(data.train.n);
            for (const i of valIdx) inVal[i] = 1;
            const trainIdx = new Int32Array(data.train.n - valIdx.length);
            let k = 0;
            for (let i = 0; i < data.train.n; i++) if (!inVal[i]) trainIdx[k++] = i;
            return { kind: 'image', train: data.train, trainIdx, valIdx, test: data.test, sets, mean, std, nClasses: 10, training: imageTraining };
          },
        });
      }
    }
    for (const src of [...tabular].sort((a, b) => b.matrix.y.length * b.matrix.nFeatures - a.matrix.y.length * a.matrix.nFeatures)) {
      for (let s = 0; s < nSeeds; s++) {
        const seed = unitSeed(baseSeed, s, nameHash(src.name));
        cells.push({
          key: { source: src.name, seed: s },
          seed,
          payload: () => {
            const m = src.matrix;
            const test = stratifiedSubsample(m.y, TAU_SHIFT_FIXED.testFraction, seed ^ 0x3c1f);
            const inTest = new Uint8Array(m.y.length);
            for (const i of test) inTest[i] = 1;
            const train = Int32Array.from({ length: m.y.length - test.length });
            let k = 0;
            for (let i = 0; i < m.y.length; i++) if (!inTest[i]) train[k++] = i;
            const fold = prepareFold(m, train, test);
            return {
              kind: 'tabular',
              xTrain: fold.xTrain,
              yTrain: fold.yTrain,
              yTest: fold.yTest,
              nFeatures: fold.nFeatures,
              nClasses: fold.nClasses,
              sets: tabularShiftedSets(fold.xTest, fold.yTest.length, seed ^ 0x5bd1),
              ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
            };
          },
        });
      }
    }
    const sources = [...(cifar ? ['cifar10c'] : []), ...tabular.map((t) => t.name)];

    // ---- description ----
    const capped = tabular.filter((t) => t.matrix.y.length < t.totalRows);
    const headerLines = [
      `Data: ${[
        ...(cifar ? [`cifar10c (${cifar.source === 'official' ? 'official CIFAR-10-C' : 'regenerated'}; ${cifar.train.n} training / ${cifar.test.n} test images; ${cifar.corruptions.length} corruption(s) × severities ${cifar.severities.join(',')})`] : []),
        ...(tabular.length > 0 ? [`${tabular.length} tabular set(s): ${tabular.map((t) => `${t.name} ${t.matrix.y.length}${t.matrix.y.length < t.totalRows ? `/${t.totalRows}` : ''}`).join(', ')} rows`] : []),
      ].join('; ')}.`,
      `Scale: ${protocolName === 'default' ? 'REDUCED (default protocol; --protocol full for everything)' : 'full protocol'}: ${nSeeds} seed(s)${capped.length > 0 ? `, tabular rows capped at ${maxRows} (stratified sample)` : ''}; τ target ${tauTarget}; ${TAU_SHIFT_FIXED.confidence * 100}% CIs: percentile bootstrap, ${TAU_SHIFT_FIXED.bootstrapResamples} resamples.`,
    ];
    const protocolText =
      `Protocol: per (data source, seed), every model is trained once on clean data (tabular: a stratified ${Math.round(100 * (1 - TAU_SHIFT_FIXED.testFraction))}/${Math.round(100 * TAU_SHIFT_FIXED.testFraction)} train/test split, median imputation and standardisation fitted on the training part, the models and training of \`chainz bench tabular\`; ` +
      `CIFAR-10: the first ${cifar?.train.n ?? '—'} training images, ${Math.round(100 * TAU_SHIFT_FIXED.imageValidationFraction)}% held out to pick the epoch, the MLPs and training of \`chainz bench cifar10c\`${o.epochs !== undefined ? `; epochs overridden to ${o.epochs}` : ''}). ` +
      `Shift levels: tabular — clean, Gaussian feature noise σ ∈ {${TABULAR_SHIFTS.gaussianNoise.join(', ')}} and feature dropout p ∈ {${TABULAR_SHIFTS.featureDropout.join(', ')}} on the standardised test part (each drawn ${TABULAR_SHIFTS.minRows > 0 ? `over ⌈${TABULAR_SHIFTS.minRows}/n_test⌉ copies of the test rows` : 'once'}); CIFAR-10 — the clean test images and every corruption × severity. ` +
      `On every level: accuracy (labels), and without labels τ = Q_${TAU_SHIFT_FIXED.tauQuantile}/mean of the per-sample input-gradient norms of the ${tauTarget === 'predicted-ce' ? 'cross-entropy at the predicted class' : 'logit margin'}, and the mean max-softmax confidence. ` +
      'Spearman ρ between a signal and accuracy across the levels of one model: per data source over its (seed, level) points, and pooled; each point is the change from the same model\'s clean test part of that source and seed (τ / τ_clean, confidence − confidence_clean, accuracy − accuracy_clean), so pooled points are comparable across data sets. ' +
      'Intervals: percentile bootstrap over points (seeded); points of one model and seed are not independent, so the intervals are somewhat narrow.';
    const notes = [
      'τ is a ratio (p99 / mean): it ignores a change of scale of all gradients; the mean gradient norm (recorded per level in results.json) and the confidence do not.',
      'Models: the four MLPs of `chainz bench tabular` (32-32) on tabular data; the parameter-matched 3072-96-96(103)-10 MLPs of `chainz bench cifar10c` on CIFAR-10, with cr-nodreg = cr without DREG. Settings: packages/bench/src/experiments/tau-shift/config.ts.',
      'Shift strengths were fixed before the first run; nothing was tuned on the correlations.',
    ];
    const dataFingerprint = JSON.stringify({ cifar: cifar?.fingerprint ?? null, tabular: tabular.map((t) => [t.name, t.sha256]) });
    return {
      keyFields: ['source', 'seed'],
      cells,
      protocol: {
        name: protocolName,
        seeds: nSeeds,
        seed: baseSeed,
        tauTarget,
        tauQuantile: TAU_SHIFT_FIXED.tauQuantile,
        sources,
        tabular: tabular.length > 0 ? { maxRows, testFraction: TAU_SHIFT_FIXED.testFraction, shifts: TABULAR_SHIFTS, epochs: o.epochs ?? TAU_SHIFT_TABULAR_MODELS.cr.epochs, preprocessing: 'median imputation + standardisation fitted on the training part' } : null,
        cifar: cifar
          ? { trainSize: cifar.train.n, testSize: cifar.test.n, corruptions: cifar.corruptions, severities: cifar.severities, source: cifar.source, corruptionSeed: TAU_SHIFT_FIXED.corruptionSeed, validationFraction: TAU_SHIFT_FIXED.imageValidationFraction, training: imageTraining }
          : null,
        statistics: { test: 'Spearman rank correlation', interval: 'percentile bootstrap over points', resamples: TAU_SHIFT_FIXED.bootstrapResamples, confidence: TAU_SHIFT_FIXED.confidence, points: 'change from the clean test part of the same model, source and seed' },
      },
      dataFingerprint,
      data: {
        sources,
        cifar: cifar ? { description: cifar.description, source: cifar.source, provenance: cifar.provenance, generation: cifar.generation ?? null } : null,
        tabular: tabular.map((t) => ({ name: t.name, rows: t.matrix.y.length, totalRows: t.totalRows, features: t.matrix.nFeatures, classes: t.matrix.classNames.length, testRowsPerCopy: Math.round(t.matrix.y.length * TAU_SHIFT_FIXED.testFraction), copies: shiftRepeats(Math.round(t.matrix.y.length * TAU_SHIFT_FIXED.testFraction)), provenance: t.provenance })),
      },
      record(out, payload, cell) {
        return {
          source: String(cell.key.source),
          seed: Number(cell.key.seed),
          unitSeed: cell.seed,
          levels: out.levels,
          trainSeconds: out.trainSeconds,
          evalSeconds: out.evalSeconds,
          nTrain: out.nTrain,
          nTest: payload.kind === 'tabular' ? payload.yTest.length : payload.test.n,
          info: out.info,
        };
      },
      describe(r) {
        const clean = r.levels[0];
        const worst = r.levels.reduce((a, b) => (b.accuracy < a.accuracy ? b : a), clean);
        return `${r.model} ${r.source} seed ${r.seed}: clean acc ${(100 * clean.accuracy).toFixed(1)}%, τ ${clean.tau?.toFixed(3) ?? '—'}; worst level acc ${(100 * worst.accuracy).toFixed(1)}% (train ${r.trainSeconds.toFixed(1)} s, eval ${r.evalSeconds.toFixed(1)} s)`;
      },
      report: (records, status, rc) => tauShiftReport(records, status, rc, { sources, seeds: nSeeds, seed: baseSeed, headerLines, protocolText, notes, tauTarget }),
    };
  },
});
