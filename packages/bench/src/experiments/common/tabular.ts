/**
 * Pieces shared by the experiments on tabular data (pima, tabular, suite,
 * efficiency): the per-unit seed, fold preparation (imputation and
 * standardisation fitted on the training rows only), and the record of one
 * fold.
 */
import { fitTabularPreprocessor, getAdapter, hasAdapter, listAdapters, registerBuiltinAdapters, takeRows, type LoadedDataset } from '@chainz/data';
import { ConfigError, DataError, Rng } from '@chainz/core';
import { accuracy, type FitResult, type TabularFold } from '../../models/types';

/** Per-unit seed shared by every model of a cell (same folds and seeds for all). */
export function unitSeed(seed: number, repeat: number, fold: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(repeat + 1, 0x85ebca6b) ^ Math.imul(fold + 1, 0xc2b2ae35)) >>> 1;
}

/** A tabular data set as plain arrays: features `[n, d]` row-major (NaN = missing) and labels `[n]`. */
export interface TabularMatrix {
  x: Float32Array;
  y: Int32Array;
  nFeatures: number;
  classNames: string[];
}

/**
 * Copy the `all` split of a loaded tabular data set into arrays and dispose
 * its tensors.
 * @throws DataError when the data set has no `all` split with a 2-D feature matrix.
 */
export function tabularMatrix(ds: LoadedDataset): TabularMatrix {
  const split = ds.splits.all;
  const f = split?.features;
  if (!split || !f || f.shape.length !== 2) {
    ds.dispose();
    throw new DataError(`data set '${ds.name}' is not tabular (needs an 'all' split with features [N, D])`, { file: ds.provenance.files.join(', ') });
  }
  const x = Float32Array.from(f.dataSync() as Float32Array);
  const out = { x, y: split.labels, nFeatures: f.shape[1], classNames: ds.classNames };
  ds.dispose();
  return out;
}

/**
 * A train/test fold: median imputation and z-scoring fitted on the training
 * rows only, applied to both parts.
 */
export function prepareFold(m: TabularMatrix, train: Int32Array, test: Int32Array): TabularFold {
  const d = m.nFeatures;
  const xTrainRaw = takeRows(m.x, d, train);
  const xTestRaw = takeRows(m.x, d, test);
  const pre = fitTabularPreprocessor(xTrainRaw, train.length, d, { impute: 'median', standardize: true });
  return {
    xTrain: pre.transform(xTrainRaw, train.length),
    yTrain: Int32Array.from(train, (i) => m.y[i]),
    xTest: pre.transform(xTestRaw, test.length),
    yTest: Int32Array.from(test, (i) => m.y[i]),
    nFeatures: d,
    nClasses: m.classNames.length,
  };
}

/** What is stored for one (model, fold) unit of a tabular experiment. */
export interface FoldRecord {
  model: string;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  /** τ on the test rows, or null for models without gradients. */
  tau: number | null;
  trainSeconds: number;
  nTrain: number;
  nTest: number;
  info?: Record<string, number | string>;
  [field: string]: unknown;
}

/** The record of a fold: accuracy on the test part, τ, timings and the model's diagnostics. */
export function foldRecord(r: FitResult, fold: TabularFold): Omit<FoldRecord, 'model'> {
  return {
    accuracy: accuracy(r.predictions, fold.yTest),
    tau: r.tau,
    trainSeconds: r.trainSeconds,
    nTrain: fold.yTrain.length,
    nTest: fold.yTest.length,
    info: r.info,
  };
}

/** True if the registered adapter `name` serves tabular data (features [N, D], one `all` split). */
export function isTabularAdapter(name: string): boolean {
  if (!hasAdapter(name)) return false;
  return getAdapter(name).describe().modality === 'tabular';
}

/** Names of the registered tabular data sets (built in and from plugins), sorted; the generic `csv` adapter is left out. */
export function tabularDatasetNames(): string[] {
  registerBuiltinAdapters();
  return listAdapters()
    .map((a) => a.name)
    .filter((n) => n !== 'csv' && isTabularAdapter(n));
}

/**
 * Check that `name` is a registered tabular data set.
 * @throws ConfigError naming `flag` and listing the tabular data sets.
 */
export function assertTabularDataset(name: string, flag = '--dataset', others: string[] = []): void {
  registerBuiltinAdapters();
  if (isTabularAdapter(name) && name !== 'csv') return;
  const what = hasAdapter(name) ? `'${name}' is not a tabular data set` : `unknown data set '${name}'`;
  throw new ConfigError(`${what}; choose ${others.length > 0 ? `${others.join(', ')} or ` : ''}a tabular data set: ${tabularDatasetNames().join(', ')}`, { option: flag }, 'chainz datasets lists every registered data set');
}

/**
 * A seeded stratified sample of at most about `maxRows` rows: class c keeps
 * min(n_c, max(minPerClass, round(n_c·maxRows/N))) rows (so a rare class keeps
 * enough rows for the k-fold split). Sorted row indices; all rows when
 * N ≤ maxRows.
 */
export function cappedStratifiedRows(y: Int32Array, maxRows: number, minPerClass: number, seed: number): Int32Array {
  const n = y.length;
  if (n <= maxRows) return Int32Array.from({ length: n }, (_, i) => i);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let g = byClass.get(y[i]);
    if (!g) byClass.set(y[i], (g = []));
    g.push(i);
  }
  const rng = new Rng(seed);
  const keep: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const g = Int32Array.from(byClass.get(c)!);
    rng.shuffle(g);
    const m = Math.min(g.length, Math.max(minPerClass, Math.round((g.length * maxRows) / n)));
    for (let i = 0; i < m; i++) keep.push(g[i]);
  }
  return Int32Array.from(keep).sort();
}

/** The rows `rows` of a tabular matrix (features and labels), in that order. */
export function subsetRows(m: TabularMatrix, rows: Int32Array): TabularMatrix {
  const d = m.nFeatures;
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, i) => x.set(m.x.subarray(r * d, (r + 1) * d), i * d));
  return { ...m, x, y: Int32Array.from(rows, (i) => m.y[i]) };
}
