/**
 * The playground's datasets: a toy set, the embedded Pima data or a CSV the
 * user dropped, split 80/20 per class (train/test) and standardised with the
 * training rows' statistics (`@chainz/data`'s preprocessor: median imputation
 * of missing cells, zero mean, unit variance).
 */
import { ConfigError, DataError } from '@chainz/core';
import { fitTabularPreprocessor, loadCsvDataset, loadPima, stratifiedSubsample, takeRows, type LoadedDataset } from '@chainz/data';
import { makeToy, TOY_SETS, type ToySet } from './toy';

/** A dataset ready for training: standardised features, split in train and test rows. */
export interface Dataset {
  /** Short name shown in the page and stored in exported models. */
  name: string;
  /** Feature count d. */
  d: number;
  classNames: string[];
  featureNames: string[];
  /** `[nTrain, d]` row-major, standardised. */
  xTrain: Float32Array;
  yTrain: Int32Array;
  /** `[nTest, d]` row-major, standardised. */
  xTest: Float32Array;
  yTest: Int32Array;
  /** The standardisation applied to raw inputs (x − mean) / std, per feature; raw inputs for toy sets (mean 0, std 1). */
  means: number[];
  stds: number[];
  /** Where the data came from (one line). */
  source: string;
}

/** Data settings of the page. */
export interface DataSettings {
  dataset: ToySet | 'pima' | 'csv';
  points: number;
  noise: number;
  seed: number;
  /** CSV text (dataset `csv`) and its file name. */
  csvText?: string;
  csvName?: string;
  /** 1-based label column for CSV; undefined = last. */
  labelColumn?: number;
}

/** Share of each class used for training; the rest is the test set. */
export const TRAIN_FRACTION = 0.8;

function split(x: Float32Array, labels: Int32Array, d: number, seed: number) {
  const train = stratifiedSubsample(labels, TRAIN_FRACTION, seed);
  const inTrain = new Uint8Array(labels.length);
  for (const i of train) inTrain[i] = 1;
  const test = Int32Array.from({ length: labels.length }, (_, i) => i).filter((i) => inTrain[i] === 0);
  if (test.length === 0) throw new DataError(`too few rows (${labels.length}) to hold out a test set`, { option: 'points' });
  return { train, test };
}

function fromTable(name: string, source: string, x: Float32Array, labels: Int32Array, d: number, classNames: string[], featureNames: string[], seed: number): Dataset {
  const { train, test } = split(x, labels, d, seed);
  const pre = fitTabularPreprocessor(x, labels.length, d, { rows: train });
  const xTrain = pre.transform(takeRows(x, d, train), train.length);
  const xTest = pre.transform(takeRows(x, d, test), test.length);
  return {
    name,
    d,
    classNames,
    featureNames,
    xTrain,
    yTrain: Int32Array.from(train, (i) => labels[i]),
    xTest,
    yTest: Int32Array.from(test, (i) => labels[i]),
    means: Array.from(pre.means),
    stds: Array.from(pre.stds),
    source,
  };
}

async function fromLoaded(loaded: LoadedDataset, name: string, seed: number): Promise<Dataset> {
  try {
    const all = loaded.splits.all;
    const features = all?.features;
    if (!features || features.rank !== 2) throw new DataError('expected one split `all` with a [N, D] feature table', { file: loaded.provenance.files[0] });
    const d = features.shape[1];
    const x = (await features.data()) as Float32Array;
    const featureNames = loaded.featureNames ?? Array.from({ length: d }, (_, j) => `x${j + 1}`);
    return fromTable(name, loaded.provenance.source, x, all.labels, d, loaded.classNames, featureNames, seed);
  } finally {
    loaded.dispose();
  }
}

/**
 * Builds the dataset for the settings.
 * @throws ConfigError / DataError (from `@chainz/data`) for a bad CSV or setting; the message names the row and column.
 */
export async function loadDataset(s: DataSettings): Promise<Dataset> {
  if ((TOY_SETS as readonly string[]).includes(s.dataset)) {
    const toy = makeToy(s.dataset as ToySet, s.points, s.noise, s.seed);
    const { train, test } = split(toy.x, toy.labels, 2, s.seed);
    // Toy sets are already centred and scaled: no standardisation, so the surface axes are the data's own.
    return {
      name: s.dataset,
      d: 2,
      classNames: toy.classNames,
      featureNames: ['x1', 'x2'],
      xTrain: takeRows(toy.x, 2, train),
      yTrain: Int32Array.from(train, (i) => toy.labels[i]),
      xTest: takeRows(toy.x, 2, test),
      yTest: Int32Array.from(test, (i) => toy.labels[i]),
      means: [0, 0],
      stds: [1, 1],
      source: `toy set '${s.dataset}' (${s.points} points, noise ${s.noise}, seed ${s.seed})`,
    };
  }
  if (s.dataset === 'pima') return fromLoaded(await loadPima(), 'pima', s.seed);
  if (s.csvText === undefined) throw new ConfigError('choose a CSV file first (or drop one on the CSV box)', { option: 'csv-file' });
  const loaded = await loadCsvDataset({ text: s.csvText, labelColumn: s.labelColumn === undefined ? undefined : s.labelColumn - 1 });
  const ds = await fromLoaded(loaded, s.csvName ?? 'csv', s.seed);
  return { ...ds, source: `CSV file ${s.csvName ?? ''} (${ds.yTrain.length + ds.yTest.length} rows × ${ds.d} features)` };
}
