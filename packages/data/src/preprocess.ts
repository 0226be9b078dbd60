import { ConfigError, DataError, ShapeError } from '@chainz/core';
import { mean, median, variance } from 'd3-array';

/** Options of {@link fitTabularPreprocessor}. */
export interface TabularPreprocessorOptions {
  /** Fill value for a missing (NaN) cell: the training column's `'median'` (default) or `'mean'` of observed values. */
  impute?: 'median' | 'mean';
  /** Standardise each column to zero mean and unit std after imputing; default true. */
  standardize?: boolean;
  /**
   * Fit on these rows of `x` only (e.g. `fold.train`); default all n rows.
   * Rows not listed are never read.
   */
  rows?: Int32Array;
  /**
   * Column names, length d (e.g. `LoadedDataset.featureNames`), used to name
   * the column in errors: `column 6 (Bare_nuclei)` instead of `column 6`.
   */
  columnNames?: readonly string[];
  /** The data's file (e.g. `provenance.files[0]`), named in errors. */
  file?: string;
}

/** A fitted imputer + standardiser for row-major `[n, d]` float32 tables. */
export interface TabularPreprocessor {
  /** Number of columns d. */
  readonly d: number;
  /** Median of the observed (non-NaN) training values per column, length d. */
  readonly medians: Float64Array;
  /** Value written into missing cells per column (the medians or the observed means), length d. */
  readonly fill: Float64Array;
  /** Centre subtracted per column: mean of the imputed training column (0s when `standardize` is false), length d. */
  readonly means: Float64Array;
  /** Scale divided per column: population std (ddof 0) of the imputed training column, 1 for a constant column (1s when `standardize` is false), length d. */
  readonly stds: Float64Array;
  /**
   * Impute, then standardise: out = (x or fill − means) / stds.
   * @param x row-major `[n, d]` float32, NaN = missing. Not modified.
   * @param n number of rows.
   * @returns a new `[n, d]` float32 array without NaN.
   * @throws ShapeError if `x.length !== n · d`.
   */
  transform(x: Float32Array, n: number): Float32Array;
}

/**
 * Copy the listed rows of a row-major `[n, d]` table.
 * @returns `[rows.length, d]` float32.
 * @throws ShapeError if a row index is out of range.
 */
export function takeRows(x: Float32Array, d: number, rows: Int32Array): Float32Array {
  const n = Math.floor(x.length / d);
  const out = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    if (!(i >= 0 && i < n)) throw new ShapeError(`row index ${i} is outside [0, ${n})`, { tensor: 'rows' });
    out.set(x.subarray(i * d, i * d + d), r * d);
  }
  return out;
}

/**
 * Fit missing-value imputation and standardisation on training rows only
 * (the Pima protocol: label-free, per training fold — MANIFEST "known quirk").
 *
 * Per column j, over the fitted rows: medians/means of the observed values
 * (d3-array's `median`/`mean`, which skip NaN); the fill value (median by
 * default); then the mean and population std (ddof 0, as scikit-learn's
 * StandardScaler) of the column after imputation. A constant column (std 0,
 * or a single row) gets std 1, so it maps to 0 instead of NaN.
 *
 * @param x row-major `[n, d]` float32, NaN = missing.
 * @param n rows; @param d columns.
 * @param opts `impute` ('median'), `standardize` (true), `rows` (all), `columnNames` and `file` (for errors).
 * @returns the fitted {@link TabularPreprocessor}.
 * @throws ShapeError if `x.length !== n · d` or a row index is out of range.
 * @throws ConfigError for an unknown `impute`, n/d < 1 or an empty `rows`.
 * @throws DataError (file and column, 1-based with its name when given) if a
 *   column has no observed value in the fitted rows.
 */
export function fitTabularPreprocessor(x: Float32Array, n: number, d: number, opts: TabularPreprocessorOptions = {}): TabularPreprocessor {
  const impute = opts.impute ?? 'median';
  const standardize = opts.standardize ?? true;
  if (impute !== 'median' && impute !== 'mean') {
    throw new ConfigError(`impute must be 'median' or 'mean', got ${JSON.stringify(impute)}`, { option: 'impute' });
  }
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1) throw new ConfigError(`n and d must be positive integers, got n=${n}, d=${d}`);
  if (x.length !== n * d) throw new ShapeError(`x has ${x.length} values, expected n·d = ${n}·${d} = ${n * d}`, { tensor: 'x' });
  const rows = opts.rows ?? Int32Array.from({ length: n }, (_, i) => i);
  if (rows.length === 0) throw new ConfigError('rows is empty: nothing to fit on', { option: 'rows' });
  const train = takeRows(x, d, rows);
  const m = rows.length;

  const medians = new Float64Array(d);
  const fill = new Float64Array(d);
  const means = new Float64Array(d);
  const stds = new Float64Array(d).fill(1);
  const col = new Float64Array(m);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < m; i++) col[i] = train[i * d + j];
    const med = median(col);
    if (med === undefined) {
      const name = opts.columnNames?.[j];
      throw new DataError('no observed (non-missing) value in the training rows', { file: opts.file, column: name === undefined ? j + 1 : `${j + 1} (${name})` });
    }
    medians[j] = med;
    fill[j] = impute === 'median' ? med : (mean(col) as number);
    if (standardize) {
      for (let i = 0; i < m; i++) if (Number.isNaN(col[i])) col[i] = fill[j];
      means[j] = mean(col) as number;
      const v = m > 1 ? ((variance(col) as number) * (m - 1)) / m : 0;
      stds[j] = v > 0 ? Math.sqrt(v) : 1;
    }
  }

  return {
    d,
    medians,
    fill,
    means,
    stds,
    transform(xs: Float32Array, rowsN: number): Float32Array {
      if (xs.length !== rowsN * d) throw new ShapeError(`x has ${xs.length} values, expected n·d = ${rowsN}·${d} = ${rowsN * d}`, { tensor: 'x' });
      const out = new Float32Array(xs.length);
      for (let i = 0; i < rowsN; i++) {
        for (let j = 0; j < d; j++) {
          const v = xs[i * d + j];
          out[i * d + j] = ((Number.isNaN(v) ? fill[j] : v) - means[j]) / stds[j];
        }
      }
      return out;
    },
  };
}
