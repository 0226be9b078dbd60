/**
 * One train/test split of a tabular classification problem, already
 * preprocessed (imputation and standardisation fitted on the training part).
 * Matrices are row-major float32.
 */
export interface TabularFold {
  /** [nTrain, nFeatures] row-major. */
  xTrain: Float32Array;
  /** [nTrain] class indices. */
  yTrain: Int32Array;
  /** [nTest, nFeatures] row-major. */
  xTest: Float32Array;
  /** [nTest] class indices. */
  yTest: Int32Array;
  nFeatures: number;
  nClasses: number;
  /**
   * Optional explicit validation set [nVal, nFeatures] / [nVal] (e.g. SST-5
   * dev), used to choose the epoch instead of holding out part of the
   * training rows. Never the test rows.
   */
  xVal?: Float32Array;
  yVal?: Int32Array;
}

/** What a model returns for one fold. */
export interface FitResult {
  /** Predicted class per test row, [nTest]. */
  predictions: Int32Array;
  /** Gradient tail ratio τ on the test rows (input source), or null if the model has no gradients. */
  tau: number | null;
  /** Wall time of training, seconds. */
  trainSeconds: number;
  /** Model-specific diagnostics (e.g. final DREG penalty, parameter count). */
  info?: Record<string, number | string>;
}

/** A model under evaluation; `run` trains on the fold's training part and predicts its test part. */
export interface ModelRunner {
  /** Short id used in tables and results, e.g. `cr`, `svm-rbf`. */
  name: string;
  /** One line: what the model is, with its key hyper-parameters. */
  description: string;
  /** Hyper-parameters, stored in results.json. */
  config: Record<string, unknown>;
  run(fold: TabularFold, seed: number): Promise<FitResult>;
  /**
   * Optional: train and evaluate several units of this model at once (the folds
   * or seeds of one experiment), with the same results as calling {@link run}
   * on each pair (`trainSeconds` aside: each unit's share of the batch) but
   * cheaper. `folds[i]` goes with `seeds[i]`; the result has one entry per pair,
   * in order. A runner offers it only for configurations it can batch.
   */
  runBatch?(folds: TabularFold[], seeds: number[]): Promise<FitResult[]>;
}

/** Fraction of equal entries. */
export function accuracy(pred: Int32Array, truth: Int32Array): number {
  if (pred.length !== truth.length) throw new Error(`accuracy: ${pred.length} predictions for ${truth.length} labels`);
  let c = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) c++;
  return pred.length === 0 ? NaN : c / pred.length;
}

/** Rows of a row-major matrix as arrays (for libraries that take number[][]). */
export function toRows(x: Float32Array, nCols: number): number[][] {
  const n = x.length / nCols;
  const rows: number[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(x.subarray(i * nCols, (i + 1) * nCols));
  return rows;
}
