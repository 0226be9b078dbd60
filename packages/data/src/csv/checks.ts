import { ConfigError, DataError } from '@chainz/core';

/**
 * Default threshold of the extreme-value warning: a feature value with
 * |x| ≥ 1e15. No measured quantity in the tabular sets we ship comes near it
 * (their largest |x| is 26,739, shuttle); timestamps in milliseconds (~1.7e12)
 * stay below it, while sentinel codes (1e30, 9.99e37) and unit errors land
 * above. Such a value dominates the mean and standard deviation of its
 * column's standardisation, squeezing every other value of the column to
 * about the same number.
 */
export const EXTREME_VALUE_THRESHOLD = 1e15;

/** Options of {@link checkTabularData}. */
export interface TabularCheckOptions {
  /** Name used in messages (a path, `embedded` or `inline`). */
  file: string;
  /** Column label per feature, e.g. `6 (Bare_nuclei)`; default `1 … d`. */
  columnLabels?: readonly string[];
  /** Feature names, used in the warnings (default `x1 … xd`). */
  featureNames?: readonly string[];
  /** 1-based file line of each row, for "first at row …" (default: row index + 2, a header assumed). */
  lines?: Int32Array;
  /** |x| at or above which a value is reported as extreme; default {@link EXTREME_VALUE_THRESHOLD}. */
  extremeThreshold?: number;
}

/** What {@link checkTabularData} found. */
export interface TabularCheckResult {
  /** One line per problem with counts (extreme values, duplicated rows). */
  warnings: string[];
  /** Facts worth keeping in the provenance (missing cells, constant columns). */
  notes: string[];
  /** Row indices that repeat an earlier row exactly (features and label), ascending. */
  duplicateRows: Int32Array;
  /** Number of missing (NaN) cells. */
  missingCells: number;
}

function rowKey(x: Float32Array, d: number, i: number, label: number): string {
  // The row's float32 bit patterns as UTF-16 code units (two per value) plus the label:
  // exact equality, NaN included (every NaN we write is the canonical one).
  const u16 = new Uint16Array(x.buffer, x.byteOffset + i * d * 4, d * 2);
  let s = '';
  for (let k = 0; k < u16.length; k += 4096) s += String.fromCharCode(...u16.subarray(k, k + 4096));
  return `${s}\u0000${label}`;
}

/**
 * Check a loaded table for problems that do not stop loading but bias a
 * cross-validated result, and refuse a column with no observed value.
 *
 * - A feature column whose every cell is missing (NaN) is a `DataError`
 *   naming the file and the column (nothing can be imputed from it).
 * - Extreme values (|x| ≥ `extremeThreshold`) → one warning line with the
 *   count, the columns and the first row.
 * - Duplicated rows (features and label equal to an earlier row) → one
 *   warning line with the count; copies can land in a training and a test
 *   fold at once, which inflates accuracy. Rows repeating an earlier row's
 *   features with another label are counted in the same line.
 * - Notes: the number of missing cells per column and constant columns.
 *
 * @param x row-major `[n, d]` float32 features, NaN = missing. Not modified.
 * @param n rows. @param d columns.
 * @param labels class index per row, length n.
 * @param opts file name, column labels, lines, threshold.
 * @returns warnings, notes, the indices of exact duplicate rows and the missing-cell count.
 * @throws DataError (file, column) for a column with no observed value.
 * @throws ConfigError for a non-positive `extremeThreshold`.
 */
export function checkTabularData(x: Float32Array, n: number, d: number, labels: Int32Array, opts: TabularCheckOptions): TabularCheckResult {
  const threshold = opts.extremeThreshold ?? EXTREME_VALUE_THRESHOLD;
  if (!(threshold > 0)) throw new ConfigError(`extremeThreshold must be a positive number, got ${threshold}`, { option: 'extremeThreshold' });
  const names = opts.featureNames ?? Array.from({ length: d }, (_, j) => `x${j + 1}`);
  const columnLabel = (j: number) => opts.columnLabels?.[j] ?? String(j + 1);
  const line = (i: number) => (opts.lines ? opts.lines[i] : i + 2);

  const missing = new Int32Array(d);
  const extreme = new Int32Array(d);
  let firstExtreme = -1;
  const first = new Float32Array(d).fill(Number.NaN);
  const constant = new Uint8Array(d).fill(1);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = x[o + j];
      if (Number.isNaN(v)) {
        missing[j]++;
        continue;
      }
      if (Math.abs(v) >= threshold) {
        extreme[j]++;
        if (firstExtreme < 0) firstExtreme = i;
      }
      if (Number.isNaN(first[j])) first[j] = v;
      else if (v !== first[j]) constant[j] = 0;
    }
  }
  for (let j = 0; j < d; j++) {
    if (missing[j] === n) {
      throw new DataError(
        `every cell of this feature column is missing (${n} rows); nothing can be imputed from it`,
        { file: opts.file, column: columnLabel(j) },
        'remove the column, or check that the missing-value markers are right',
      );
    }
  }

  const warnings: string[] = [];
  const notes: string[] = [];
  const totalExtreme = extreme.reduce((a, b) => a + b, 0);
  if (totalExtreme > 0) {
    const cols = [...extreme].map((c, j) => [c, j] as const).filter(([c]) => c > 0);
    const list = cols.slice(0, 5).map(([c, j]) => `${names[j]}: ${c}`).join(', ') + (cols.length > 5 ? `, … ${cols.length - 5} more` : '');
    warnings.push(
      `extreme values: ${totalExtreme} cell${totalExtreme > 1 ? 's' : ''} with |x| ≥ ${threshold.toExponential()} in ${cols.length} column${cols.length > 1 ? 's' : ''} (${list}; first at row ${line(firstExtreme)}): sentinel codes or unit errors? Such values dominate their column's standardisation`,
    );
  }

  const exact = new Set<string>();
  const features = new Map<string, number>();
  const dup: number[] = [];
  let conflicting = 0;
  for (let i = 0; i < n; i++) {
    const key = rowKey(x, d, i, labels[i]);
    if (exact.has(key)) {
      dup.push(i);
      continue;
    }
    exact.add(key);
    const fkey = key.slice(0, key.lastIndexOf('\u0000'));
    if (features.has(fkey)) conflicting++;
    else features.set(fkey, labels[i]);
  }
  if (dup.length > 0 || conflicting > 0) {
    const parts: string[] = [];
    if (dup.length > 0) parts.push(`${dup.length} of ${n} rows repeat an earlier row exactly (features and label)`);
    if (conflicting > 0) parts.push(`${conflicting} row${conflicting > 1 ? 's repeat' : ' repeats'} an earlier row's features with another label`);
    warnings.push(`duplicated rows: ${parts.join('; ')}; in cross-validation a copy can be trained on while another is tested, which inflates accuracy`);
  }

  const missingCells = missing.reduce((a, b) => a + b, 0);
  if (missingCells > 0) {
    const cols = [...missing].map((c, j) => [c, j] as const).filter(([c]) => c > 0);
    notes.push(`${missingCells} missing cells (NaN) in ${cols.length} column${cols.length > 1 ? 's' : ''}: ${cols.slice(0, 8).map(([c, j]) => `${names[j]} ${c}`).join(', ')}${cols.length > 8 ? ', …' : ''}`);
  }
  const constants = [...constant].map((c, j) => [c, j] as const).filter(([c]) => c === 1).map(([, j]) => names[j]);
  if (constants.length > 0) notes.push(`constant column${constants.length > 1 ? 's' : ''} (no information): ${constants.slice(0, 8).join(', ')}${constants.length > 8 ? ', …' : ''}`);
  return { warnings, notes, duplicateRows: Int32Array.from(dup), missingCells };
}
