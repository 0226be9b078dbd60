/**
 * `chainz bench dreg-study`: DREG as a general-purpose penalty — every
 * (activation, regulariser) pair of {cr, relu, gelu, tanh} × {none, weight
 * decay, input-gradient penalty, spectral normalisation, Jacobian random
 * projections, DREG} trained on every registered tabular data set × seeds,
 * compared across data sets as Demšar (2006) recommends (average ranks,
 * Friedman with the Nemenyi critical difference and a CD diagram, Wilcoxon
 * signed-rank tests of DREG against each other regulariser with Holm's
 * correction), with the paper's claims printed beside ours.
 */
import { ChainzError, ConfigError, DataError, isChainzError } from '@chainz/core';
import { getAdapter, registerBuiltinAdapters, repeatedStratifiedKFold, stratifiedSubsample } from '@chainz/data';
import { defineExperiment, type Cell } from '../../runner/contract';
import { COMMON_FLAGS } from '../../runner/flags';
import { dataFlags, withCliFlags } from '../common/cli-flags';
import { assertTabularDataset, cappedStratifiedRows, prepareFold, subsetRows, tabularDatasetNames, tabularMatrix, unitSeed, type TabularMatrix } from '../common/tabular';
import { NOISE_DRAWS, NOISE_SIGMAS, STUDY_ACTIVATIONS, STUDY_FOLDS, STUDY_PROTOCOLS, STUDY_REGULARIZERS, type StudyActivation, type StudyRegularizer } from './config';
import { buildStudyModels, studyNetwork, type StudyModelOptions, type StudyOutput, type StudyPayload } from './models';
import { studyReport, type StudyDataset, type StudyRecord } from './report';

export { STUDY_MODEL_NAMES } from './models';

/** Options of `chainz bench dreg-study` (CLI flags in brackets). */
export interface DregStudyOptions {
  /** `default`: the reduced grid (about 20 minutes on 2 cores); `full`: the whole grid [--protocol]. */
  protocol?: 'default' | 'full';
  /** Registered tabular data sets to use [--datasets a,b]; default every registered one whose data are found. */
  datasets?: string[];
  /** Subset of the activations [--activations]; default cr, relu, gelu, tanh. */
  activations?: StudyActivation[];
  /** Subset of the regularisers [--regularizers]; default all six. */
  regularizers?: StudyRegularizer[];
  /** Cells per data set [--seeds]: the first n folds of repeated stratified 5-fold; default 1 (default protocol) or 5 (full). */
  seeds?: number;
  /** Base seed of the partitions, initialisations, batch orders and noise [--seed]; default 0. */
  seed?: number;
  /** Row cap per data set [--max-rows]; default 500 (default protocol) or none (full). */
  maxRows?: number;
  /** Override the protocol's epochs (quick checks; recorded) [--epochs]. */
  epochs?: number;
}

/** Flags of the experiment. */
const FLAGS = [
  { ...COMMON_FLAGS.protocol, description: `default = reduced grid (${STUDY_PROTOCOLS.default.seeds} cell per data set, ≤ ${STUDY_PROTOCOLS.default.maxRows} rows, MLP ${STUDY_PROTOCOLS.default.network.hidden.join('-')}, ${STUDY_PROTOCOLS.default.network.epochs} epochs); full = 5 cells (a complete 5-fold partition), all rows, MLP ${STUDY_PROTOCOLS.full.network.hidden.join('-')}, ${STUDY_PROTOCOLS.full.network.epochs} epochs` },
  { key: 'datasets', flag: '--datasets <list>', description: 'comma-separated registered tabular data sets (default: every one whose data are found; `chainz datasets` lists them)', kind: 'list' },
  { key: 'activations', flag: '--activations <list>', description: `comma-separated subset of: ${STUDY_ACTIVATIONS.join(', ')} (default: all)`, kind: 'list', choices: STUDY_ACTIVATIONS },
  { key: 'regularizers', flag: '--regularizers <list>', description: `comma-separated subset of: ${STUDY_REGULARIZERS.join(', ')} (default: all)`, kind: 'list', choices: STUDY_REGULARIZERS },
  { ...COMMON_FLAGS.seeds, description: `cells per data set: the first n folds of repeated stratified ${STUDY_FOLDS}-fold (default ${STUDY_PROTOCOLS.default.seeds}; full ${STUDY_PROTOCOLS.full.seeds})`, max: 100 },
  COMMON_FLAGS.seed,
  { key: 'maxRows', flag: '--max-rows <n>', description: `row cap per data set: a seeded stratified sample keeping ≥ ${STUDY_FOLDS} rows of each class (default ${STUDY_PROTOCOLS.default.maxRows}; full: all rows)`, kind: 'int', min: 20 },
  { key: 'epochs', flag: '--epochs <n>', description: 'override the protocol\'s epochs (for quick checks; recorded in results.json)', kind: 'int', min: 1, max: 10000 },
] as const;

/** 31-bit FNV-1a hash of a data set name (so the cells of different data sets get different seeds). */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 1;
}


/**
 * The payload of a cell: imputation and standardisation fitted on the training
 * part, then a stratified `validationFraction` of it held out (seeded) to pick
 * the epoch — when every class has ≥ 2 training rows.
 */
function cellPayload(m: TabularMatrix, train: Int32Array, test: Int32Array, validationFraction: number, seed: number): StudyPayload {
  const fold = prepareFold(m, train, test);
  const counts = new Map<number, number>();
  for (const c of fold.yTrain) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (validationFraction <= 0 || [...counts.values()].some((c) => c < 2)) return fold;
  const d = fold.nFeatures;
  const val = stratifiedSubsample(fold.yTrain, validationFraction, seed ^ 0x7a1d);
  const inVal = new Uint8Array(fold.yTrain.length);
  for (const i of val) inVal[i] = 1;
  const tr: number[] = [];
  for (let i = 0; i < fold.yTrain.length; i++) if (!inVal[i]) tr.push(i);
  const pick = (idx: ArrayLike<number>) => {
    const out = new Float32Array(idx.length * d);
    for (let j = 0; j < idx.length; j++) out.set(fold.xTrain.subarray(idx[j] * d, (idx[j] + 1) * d), j * d);
    return out;
  };
  return {
    ...fold,
    xTrain: pick(tr),
    yTrain: Int32Array.from(tr, (i) => fold.yTrain[i]),
    xVal: pick(val),
    yVal: Int32Array.from(val, (i) => fold.yTrain[i]),
  };
}

/** `chainz bench dreg-study`. */
export const dregStudyExperiment = defineExperiment<DregStudyOptions, StudyPayload, StudyOutput, StudyRecord>({
  name: 'dreg-study',
  title: 'DREG as a general-purpose penalty: 4 activations × 6 regularisers × the tabular suite × seeds, Demšar statistics and CD diagrams',
  flags: FLAGS,
  modelOptions: (o): StudyModelOptions => ({
    protocol: o.protocol ?? 'default',
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.activations ? { activations: o.activations } : {}),
    ...(o.regularizers ? { regularizers: o.regularizers } : {}),
  }),
  models: (mo) => buildStudyModels(mo as StudyModelOptions),
  async plan(o, ctx) {
    registerBuiltinAdapters();
    const protocolName = o.protocol ?? 'default';
    const proto = STUDY_PROTOCOLS[protocolName];
    const seeds = o.seeds ?? proto.seeds;
    const seed = o.seed ?? 0;
    const maxRows = o.maxRows ?? proto.maxRows;
    const network = studyNetwork({ protocol: protocolName, ...(o.epochs !== undefined ? { epochs: o.epochs } : {}) });
    const explicit = o.datasets !== undefined;
    const names = explicit ? [...new Set(o.datasets)] : tabularDatasetNames();
    for (const n of names) assertTabularDataset(n, '--datasets');
    if (names.length === 0) throw new ConfigError('no tabular data set is registered', { option: '--datasets' });

    const datasets: StudyDataset[] = [];
    const skipped: { name: string; reason: string }[] = [];
    const cells: Cell<StudyPayload>[] = [];
    const fingerprints: string[] = [];
    const repeats = Math.ceil(seeds / STUDY_FOLDS);
    for (const name of names) {
      let m: TabularMatrix;
      let provenance;
      try {
        const ds = await withCliFlags(dataFlags('--datasets'), () => getAdapter(name).load({}));
        provenance = ds.provenance;
        m = tabularMatrix(ds);
      } catch (e) {
        // Without --datasets, a registered set whose data are not on this machine is skipped (and said so).
        if (!explicit && isChainzError(e)) {
          skipped.push({ name, reason: e.message.split('\n')[0] });
          ctx.log(`dreg-study: skipping data set '${name}': ${e.message.split('\n')[0]}`);
          continue;
        }
        throw e;
      }
      const totalRows = m.y.length;
      if (maxRows !== null && maxRows < totalRows) m = subsetRows(m, cappedStratifiedRows(m.y, maxRows, STUDY_FOLDS, seed ^ nameHash(name) ^ 0x5a3c));
      let splits;
      try {
        splits = repeatedStratifiedKFold(m.y, STUDY_FOLDS, repeats, seed).slice(0, seeds);
      } catch (e) {
        if (!isChainzError(e)) throw e;
        throw new DataError(`data set '${name}' cannot be split into ${STUDY_FOLDS} stratified folds: ${e.message}`, { option: '--datasets' }, `every class needs at least ${STUDY_FOLDS} rows; leave '${name}' out of --datasets`, { cause: e });
      }
      const counts = new Map<number, number>();
      for (const c of m.y) counts.set(c, (counts.get(c) ?? 0) + 1);
      const matrix = m;
      datasets.push({ name, rows: m.y.length, totalRows, features: m.nFeatures, classes: m.classNames.length, smallestClass: Math.min(...counts.values()) });
      fingerprints.push(`${name}:${provenance.sha256.join('+')}`);
      for (const s of splits) {
        const cellSeed = (unitSeed(seed, s.repeat, s.fold) ^ nameHash(name)) >>> 0;
        cells.push({
          key: { dataset: name, repeat: s.repeat, fold: s.fold },
          seed: cellSeed,
          payload: () => cellPayload(matrix, s.train, s.test, network.validationFraction, cellSeed),
        });
      }
    }
    if (datasets.length === 0) {
      throw new ChainzError('E_DATA', `none of the registered tabular data sets could be loaded: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`, { option: '--datasets' }, 'set CHAINZ_DATA_DIR to the folder holding the data, or name data sets with --datasets');
    }
    const protocol = {
      name: protocolName,
      cells: `the first ${seeds} fold(s) of repeated stratified ${STUDY_FOLDS}-fold (seed ${seed}) per data set`,
      seeds,
      seed,
      folds: STUDY_FOLDS,
      maxRows,
      preprocessing: 'median imputation + standardisation fitted on each training part; a stratified hold-out of it picks the epoch',
      noise: { sigmas: [...NOISE_SIGMAS], draws: NOISE_DRAWS, on: 'standardised test features, x + σ·ε, ε ~ N(0, I)' },
      network,
      datasets: datasets.map((d) => d.name),
    };
    return {
      keyFields: ['dataset', 'repeat', 'fold'],
      cells,
      protocol,
      dataFingerprint: fingerprints.join(','),
      data: { datasets, skipped },
      // the runner adds the model and the cell key (dataset, repeat, fold)
      record: (out, payload) =>
        ({
        accuracy: out.accuracy,
        noisyAccuracy: out.noisyAccuracy,
        noiseAccuracy: out.noisyAccuracy.reduce((a, b) => a + b, 0) / out.noisyAccuracy.length,
        tau: out.tau,
        trainSeconds: out.trainSeconds,
        nTrain: payload.yTrain.length + (payload.yVal?.length ?? 0),
        nTest: payload.yTest.length,
        info: out.info,
      }) as unknown as Omit<StudyRecord, 'model'>,
      describe: (r) => `${r.model} ${r.dataset} r${r.repeat} f${r.fold}: acc ${(100 * r.accuracy).toFixed(1)}%, noise ${(100 * r.noiseAccuracy).toFixed(1)}%, τ ${r.tau.toFixed(3)} (${r.trainSeconds.toFixed(1)} s)`,
      report: (records, status, rc) =>
        studyReport(records, status, rc.models, {
          datasets,
          skipped,
          seeds,
          protocolName,
          maxRows,
          network,
          seed,
        }),
    };
  },
});
