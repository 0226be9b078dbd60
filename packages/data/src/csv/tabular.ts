import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, optionClause, optionRef, ShapeError } from '@chainz/core';
import { parse } from 'csv-parse/sync';
import type { LoadedDataset, Provenance } from '../adapter';
import { checkTabularData, EXTREME_VALUE_THRESHOLD } from './checks';
import { readCsvSource } from './io';
import { isNumericCell } from './parse';
import { checkTextCsv, chooseDelimiter, clip, columnList, csvParseMessage, delimiterName, show } from './util';

/**
 * Cell texts read as a missing value by default: the empty cell, R's `NA`,
 * `NaN` and UCI's `?`. (Case matters: `na` or `nan` is not missing.)
 */
export const DEFAULT_MISSING_CELLS: readonly string[] = ['', 'NA', 'NaN', '?'];

/** Default cap on the distinct values of a one-hot encoded column. */
export const DEFAULT_MAX_CATEGORIES = 50;

/** Default cap on the number of classes of the target column. */
export const DEFAULT_MAX_CLASSES = 100;

/** Options of {@link parseTabularTable} (and of {@link loadTabularCsv}). */
export interface TabularTableOptions {
  /** Name used in messages (a path, or `inline`). Default `inline`. */
  file?: string;
  /**
   * The class column: a header name (exact, else case-insensitive) or a
   * 0-based index, negative counting from the end. Default: the last column.
   */
  target?: string | number;
  /** Cell texts read as missing (NaN) in feature columns; default {@link DEFAULT_MISSING_CELLS}. Never allowed as a class. */
  missing?: readonly string[];
  /**
   * Feature columns that hold text (any non-missing cell that is not a plain
   * decimal number): `'error'` (default) refuses them with a DataError naming
   * the columns; `'one-hot'` replaces each by one 0/1 column per distinct
   * value (`name=value`, values in code-unit order; a missing cell gives NaN
   * in all of them).
   */
  categorical?: 'error' | 'one-hot';
  /** Most distinct values a one-hot column may have; default {@link DEFAULT_MAX_CATEGORIES}. */
  maxCategories?: number;
  /** Columns to leave out (names or 0-based indices), e.g. an id column. */
  ignoreColumns?: readonly (string | number)[];
  /** The class values in class-index order; default derived from the data (see `labelOrder`). */
  classNames?: readonly string[];
  /**
   * Order of derived classes: `'sorted'` (default: numerically when every
   * class is an integer, else by code units, e.g. `M` < `R` < `a`) or
   * `'first-seen'`.
   */
  labelOrder?: 'sorted' | 'first-seen';
  /** Most classes the target may have; default {@link DEFAULT_MAX_CLASSES} (more looks like a continuous target or an id). */
  maxClasses?: number;
  /** |x| at or above which a value is reported as extreme; default {@link EXTREME_VALUE_THRESHOLD}. */
  extremeThreshold?: number;
  /**
   * Rows that repeat an earlier row exactly (features and label): `'keep'`
   * (default; one warning line) or `'drop'` (keep the first copy; a warning
   * line says how many went).
   */
  duplicates?: 'keep' | 'drop';
  /** Field delimiter, or `'auto'` (default): the most frequent of `,` `;` tab in line 1. */
  delimiter?: 'auto' | string;
}

/** A parsed, encoded table: what {@link parseTabularTable} returns. */
export interface TabularTable {
  /** Rows and feature columns (after one-hot encoding and ignored columns). */
  n: number;
  d: number;
  /** Row-major `[n, d]` float32; NaN = missing. */
  features: Float32Array;
  /** Feature names, length d (`name=value` for one-hot columns). */
  featureNames: string[];
  /** Class index per row, length n, in 0 … K − 1. */
  labels: Int32Array;
  /** Class values in index order, length K. */
  classNames: string[];
  /** Rows per class, length K. */
  classCounts: number[];
  /** Header of the target column and its 1-based position. */
  targetName: string;
  targetColumn: number;
  /** Header names of the file, in file order. */
  header: string[];
  /** 1-based file line of each row (as an editor shows it), length n. */
  lines: Int32Array;
  /** The delimiter used. */
  delimiter: string;
  /** Missing (NaN) feature cells. */
  missingCells: number;
  /** Facts for the provenance (target, classes, encodings, missing cells, constant columns). */
  notes: string[];
  /** One line per problem with counts (extreme values, duplicated rows, suspicious columns). */
  warnings: string[];
}

type Rec = { record: string[]; info: { lines: number } };

function positiveInt(v: number, option: string): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`must be a positive integer, got ${v}`, { option });
  return v;
}

/** Resolve a column given by name or index against the header. */
function columnIndex(spec: string | number, header: string[], file: string, option: string): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec >= header.length || spec < -header.length) {
      throw new ConfigError(`column ${spec} is out of range for ${header.length} columns (0-based; negative counts from the end)`, { option });
    }
    return spec < 0 ? header.length + spec : spec;
  }
  let j = header.indexOf(spec);
  if (j < 0) j = header.findIndex((h) => h.toLowerCase() === spec.toLowerCase());
  if (j < 0) throw new ConfigError(`no column named '${clip(spec)}' in ${file}; columns: ${columnList(header)}`, { option });
  return j;
}

/**
 * Parse a CSV table with a header line into numeric features and class
 * labels (csv-parse underneath) — the reader behind {@link loadTabularCsv}
 * and the UCI adapters.
 *
 * Rules: line 1 is the header (required; a first line of numbers only is
 * refused); the class column is `target` (default the last); every other
 * column is a feature; a cell listed in `missing` (default `''`, `NA`, `NaN`,
 * `?`) is NaN; text feature columns follow `categorical`. Then
 * {@link checkTabularData}: a column with no observed value is refused;
 * extreme values and duplicated rows give warnings.
 *
 * @param text the file's text (a byte-order mark is ignored).
 * @param opts see {@link TabularTableOptions}.
 * @returns the encoded table with notes and warnings.
 * @throws DataError naming the file, the 1-based line and the column (with its
 *   header name) for: an empty file, no header, only a header, a duplicated
 *   or empty header name, a row with the wrong number of columns, a missing
 *   class, a text feature column (with `categorical: 'error'`), a value outside
 *   the float32 range, a one-hot column with more than `maxCategories`
 *   values, more than `maxClasses` classes, fewer than two classes, a class
 *   outside `classNames`, a column with every cell missing, or unparseable CSV.
 * @throws ConfigError for an unknown `target` / ignored column or a bad option value.
 */
export function parseTabularTable(text: string, opts: TabularTableOptions = {}): TabularTable {
  const file = opts.file ?? 'inline';
  const categorical = opts.categorical ?? 'error';
  if (categorical !== 'error' && categorical !== 'one-hot') {
    throw new ConfigError(`categorical must be 'error' or 'one-hot', got ${JSON.stringify(categorical)}`, { option: 'categorical' });
  }
  const duplicates = opts.duplicates ?? 'keep';
  if (duplicates !== 'keep' && duplicates !== 'drop') {
    throw new ConfigError(`duplicates must be 'keep' or 'drop', got ${JSON.stringify(duplicates)}`, { option: 'duplicates' });
  }
  const labelOrder = opts.labelOrder ?? 'sorted';
  if (labelOrder !== 'sorted' && labelOrder !== 'first-seen') {
    throw new ConfigError(`labelOrder must be 'sorted' or 'first-seen', got ${JSON.stringify(labelOrder)}`, { option: 'labelOrder' });
  }
  const maxCategories = positiveInt(opts.maxCategories ?? DEFAULT_MAX_CATEGORIES, 'maxCategories');
  const maxClasses = positiveInt(opts.maxClasses ?? DEFAULT_MAX_CLASSES, 'maxClasses');
  const missing = new Set(opts.missing ?? DEFAULT_MISSING_CELLS);

  if (text.replace(/^\uFEFF/, '').trim() === '') throw new DataError('the file is empty (no rows)', { file });
  checkTextCsv(text, file);
  const delimiter = chooseDelimiter(text, opts.delimiter ?? 'auto', file);
  let records: Rec[];
  try {
    // With `info: true` each record comes as { record, info } (csv-parse's types miss this).
    records = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true, bom: true }) as unknown as Rec[];
  } catch (e) {
    const err = e as { lines?: number; message: string };
    throw new DataError(`cannot parse as CSV: ${csvParseMessage(err.message)}`, { file, row: err.lines }, undefined, { cause: e });
  }
  if (records.length === 0) throw new DataError('the file is empty (no rows)', { file });

  // Header.
  const header = records[0].record;
  const headerLine = records[0].info.lines;
  const ncol = header.length;
  if (ncol < 2) {
    throw new DataError(`found ${ncol} column; a table needs at least two (features and a class)`, { file, row: headerLine }, `is the delimiter right (${delimiterName(delimiter)} used)?`);
  }
  if (header.every((h) => isNumericCell(h))) {
    throw new DataError(
      'line 1 holds numbers, not column names: a header line is required',
      { file, row: headerLine },
      'add a first line with the column names (the class column last, or name it)',
    );
  }
  const empty = header.findIndex((h) => h === '');
  if (empty >= 0) {
    throw new DataError(
      'empty column name in the header',
      { file, row: headerLine, column: empty + 1 },
      empty === 0 ? 'a file written with row names (R write.csv, pandas to_csv) starts with an unnamed index column: write it without, or name the column and ignore it' : 'give every column a name',
    );
  }
  const seenNames = new Map<string, number>();
  for (let j = 0; j < ncol; j++) {
    const prev = seenNames.get(header[j]);
    if (prev !== undefined) {
      throw new DataError(`column name '${clip(header[j])}' is used twice (columns ${prev + 1} and ${j + 1})`, { file, row: headerLine, column: `${j + 1} (${clip(header[j])})` }, 'give every column its own name');
    }
    seenNames.set(header[j], j);
  }
  const target = columnIndex(opts.target ?? -1, header, file, 'target');
  const ignored = new Set((opts.ignoreColumns ?? []).map((c) => columnIndex(c, header, file, 'ignoreColumns')));
  if (ignored.has(target)) throw new ConfigError(`the target column '${header[target]}' is also in ignoreColumns`, { option: 'ignoreColumns' });
  const colName = (j: number) => `${j + 1} (${clip(header[j])})`;
  const featureCols: number[] = [];
  for (let j = 0; j < ncol; j++) if (j !== target && !ignored.has(j)) featureCols.push(j);
  if (featureCols.length === 0) throw new DataError('no feature columns left (only the class column)', { file, row: headerLine });

  const data = records.slice(1);
  const n = data.length;
  if (n === 0) throw new DataError('no data rows (only a header line)', { file, row: headerLine });

  // Pass 1: shape, classes, column types.
  const lines = new Int32Array(n);
  const rawLabels: string[] = new Array(n);
  const textCell = new Map<number, { row: number; value: string }>(); // first text cell of each text column
  for (let i = 0; i < n; i++) {
    const { record, info } = data[i];
    const row = info.lines;
    lines[i] = row;
    if (record.length !== ncol) {
      throw new DataError(
        `expected ${ncol} columns (as the header), found ${record.length}`,
        { file, row, column: record.length < ncol ? colName(record.length) : ncol + 1 },
        `is the delimiter right (${delimiterName(delimiter)} used)? a comma inside a cell needs double quotes`,
      );
    }
    const y = record[target];
    if (missing.has(y)) {
      throw new DataError(y === '' ? 'empty class' : `missing class ${show(y)}`, { file, row, column: colName(target) }, 'every row needs a class: fill it in or remove the row');
    }
    rawLabels[i] = y;
    for (const j of featureCols) {
      const v = record[j];
      if (!textCell.has(j) && !missing.has(v) && !isNumericCell(v)) textCell.set(j, { row, value: v });
    }
  }
  if (textCell.size > 0 && categorical === 'error') {
    const cols = [...textCell.keys()];
    const { row, value } = textCell.get(cols[0])!;
    const list = cols.length > 1 ? ` (${cols.length} text columns: ${cols.slice(0, 6).map((j) => header[j]).join(', ')}${cols.length > 6 ? ', …' : ''})` : '';
    throw new DataError(
      `non-numeric value ${show(value)} in a feature column${list}`,
      { file, row, column: colName(cols[0]) },
      `${optionClause('categorical', `pass ${optionRef('categorical')} 'one-hot' to encode text columns as 0/1 columns, `)}` +
        `${optionClause('missing', `list the text in ${optionRef('missing')} if it marks a missing value`, 'leave the cell empty if it marks a missing value')}, or remove the column`,
    );
  }

  // One-hot levels of the text columns.
  const levels = new Map<number, Map<string, number>>();
  for (const j of textCell.keys()) {
    const values = new Set<string>();
    for (let i = 0; i < n; i++) {
      const v = data[i].record[j];
      if (!missing.has(v)) values.add(v);
    }
    if (values.size > maxCategories) {
      throw new DataError(
        `${values.size} distinct values in a text column; one-hot encoding takes at most ${maxCategories}`,
        { file, column: colName(j) },
        `is it an id or free text? ${optionClause(['ignoreColumns', 'maxCategories'], `remove it (${optionRef('ignoreColumns')}) or raise ${optionRef('maxCategories')}`, 'remove the column from the file')}`,
      );
    }
    levels.set(j, new Map([...values].sort().map((v, k) => [v, k])));
  }

  // Output layout.
  const offset = new Map<number, number>();
  const featureNames: string[] = [];
  const columnLabels: string[] = [];
  for (const j of featureCols) {
    offset.set(j, featureNames.length);
    const lv = levels.get(j);
    if (lv) {
      for (const v of lv.keys()) {
        featureNames.push(`${header[j]}=${v}`);
        columnLabels.push(`${colName(j)} = ${show(v)}`);
      }
    } else {
      featureNames.push(header[j]);
      columnLabels.push(colName(j));
    }
  }
  const d = featureNames.length;

  // Pass 2: values.
  const FLOAT32_MAX = 3.4028234663852886e38;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const record = data[i].record;
    const o = i * d;
    for (const j of featureCols) {
      const v = record[j];
      const at = o + offset.get(j)!;
      const lv = levels.get(j);
      if (lv) {
        if (missing.has(v)) x.fill(Number.NaN, at, at + lv.size);
        else x[at + lv.get(v)!] = 1;
        continue;
      }
      if (missing.has(v)) {
        x[at] = Number.NaN;
        continue;
      }
      const num = Number(v);
      if (!(Math.abs(num) <= FLOAT32_MAX)) throw new DataError(`value ${show(v)} is outside the float32 range`, { file, row: lines[i], column: colName(j) });
      x[at] = num;
    }
  }

  // Classes.
  let classNames: string[];
  if (opts.classNames) {
    classNames = opts.classNames.map(String);
    if (new Set(classNames).size !== classNames.length) throw new ConfigError(`classNames has duplicates: ${classNames.join(', ')}`, { option: 'classNames' });
  } else {
    classNames = [...new Set(rawLabels)];
    if (classNames.length > maxClasses) {
      throw new DataError(
        `${classNames.length} distinct values in the class column; classification takes at most ${maxClasses} classes`,
        { file, column: colName(target) },
        `is it a continuous target or an id? ${optionClause('target', `choose the class column with ${optionRef('target')}`, 'choose another class column')}${optionClause('maxClasses', `, or raise ${optionRef('maxClasses')}`)}`,
      );
    }
    if (labelOrder === 'sorted') {
      if (classNames.every((c) => /^[+-]?\d+$/.test(c))) classNames.sort((a, b) => Number(a) - Number(b));
      else classNames.sort();
    }
  }
  const classIndex = new Map(classNames.map((c, k) => [c, k]));
  let labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = classIndex.get(rawLabels[i]);
    if (k === undefined) {
      throw new DataError(`class ${show(rawLabels[i])} is not one of ${classNames.join(', ')}`, { file, row: lines[i], column: colName(target) });
    }
    labels[i] = k;
  }
  const present = new Set(labels).size;
  if (present < 2) {
    throw new DataError(`only one class (${show(rawLabels[0])}) in the class column; classification needs at least two`, { file, column: colName(target) }, `is the class column right? choose it with ${optionRef('target')}`);
  }

  // Checks, warnings, duplicates.
  const check = checkTabularData(x, n, d, labels, { file, columnLabels, featureNames, lines, extremeThreshold: opts.extremeThreshold });
  const warnings = [...check.warnings];
  let features = x;
  let rows = n;
  let rowLines = lines;
  if (duplicates === 'drop' && check.duplicateRows.length > 0) {
    const drop = new Uint8Array(n);
    for (const i of check.duplicateRows) drop[i] = 1;
    rows = n - check.duplicateRows.length;
    features = new Float32Array(rows * d);
    const keptLabels = new Int32Array(rows);
    rowLines = new Int32Array(rows);
    for (let i = 0, r = 0; i < n; i++) {
      if (drop[i]) continue;
      features.set(x.subarray(i * d, i * d + d), r * d);
      keptLabels[r] = labels[i];
      rowLines[r++] = lines[i];
    }
    labels = keptLabels;
    warnings.push(`duplicates dropped: ${check.duplicateRows.length} exact copies removed, ${rows} of ${n} rows kept (the first copy of each)`);
  }
  const classCounts = classNames.map(() => 0);
  for (const k of labels) classCounts[k]++;
  warnings.push(...sameNumberClasses(classNames));

  const notes = [
    `class column ${colName(target)}; ${classNames.length} classes: ${classNames.map((c, k) => `${c} ${classCounts[k]}`).join(', ')}`,
    ...(ignored.size > 0 ? [`ignored columns: ${[...ignored].map((j) => header[j]).join(', ')}`] : []),
    ...[...levels].map(([j, lv]) => `one-hot: column ${header[j]} → ${lv.size} columns (${[...lv.keys()].slice(0, 6).join(', ')}${lv.size > 6 ? ', …' : ''})`),
    ...check.notes,
  ];
  return {
    n: rows,
    d,
    features,
    featureNames,
    labels,
    classNames,
    classCounts,
    targetName: header[target],
    targetColumn: target + 1,
    header,
    lines: rowLines,
    delimiter,
    missingCells: check.missingCells,
    notes,
    warnings,
  };
}

/**
 * Warnings for class names that are different text but the same number
 * (`1` and `1.0`, `2` and `02`): most likely one class written two ways,
 * which the loader keeps apart (classes are text). One line per number, at most 3.
 */
function sameNumberClasses(classNames: readonly string[]): string[] {
  const byNumber = new Map<number, string[]>();
  for (const c of classNames) {
    if (!isNumericCell(c)) continue;
    const v = Number(c);
    byNumber.set(v, [...(byNumber.get(v) ?? []), c]);
  }
  const groups = [...byNumber.values()].filter((g) => g.length > 1);
  const lines = groups.slice(0, 3).map((g) => {
    const names = g.map((c) => `'${clip(c)}'`);
    const list = names.length === 2 ? names.join(' and ') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    return `class labels ${list} are different text but the same number; they are kept as ${g.length} classes (write them alike to merge them)`;
  });
  if (groups.length > 3) lines.push(`${groups.length - 3} more numbers are written as more than one class label`);
  return lines;
}

/** What {@link createTabularDataset} needs. */
export interface TabularDatasetInit {
  /** `LoadedDataset.name` (an adapter's name). */
  name: string;
  /** Default `'classification'`. */
  task?: 'classification' | 'ordinal';
  /** Row-major `[n, d]` features, NaN = missing (copied into a tensor). */
  features: Float32Array;
  /** Rows n and columns d; `features.length` must be n · d. */
  n: number;
  d: number;
  /** Class index per row, length n, in 0 … K − 1. */
  labels: Int32Array;
  /** Class names, length K. */
  classNames: readonly string[];
  /** Feature names, length d. */
  featureNames: readonly string[];
  /** Provenance; `rows` defaults to `{ all: n }`. */
  provenance: Omit<Provenance, 'rows'> & { rows?: Record<string, number> };
  /** One-line warnings (e.g. from {@link checkTabularData}). */
  warnings?: readonly string[];
}

/**
 * Build a one-split (`all`) tabular {@link LoadedDataset} from plain arrays:
 * the tensor is made with this package's tfjs-core, so an adapter in a
 * plugin needs no tfjs import of its own (and cannot end up with a second
 * tfjs copy). `dispose()` frees the one tensor.
 *
 * @returns the dataset with features `[n, d]` float32.
 * @throws ShapeError when `features.length ≠ n · d`, `labels.length ≠ n` or
 *   `featureNames.length ≠ d`.
 */
export function createTabularDataset(init: TabularDatasetInit): LoadedDataset {
  const { n, d } = init;
  if (init.features.length !== n * d) throw new ShapeError(`features has ${init.features.length} values, expected n·d = ${n}·${d} = ${n * d}`, { tensor: 'features' });
  if (init.labels.length !== n) throw new ShapeError(`labels has ${init.labels.length} entries, expected n = ${n}`, { tensor: 'labels' });
  if (init.featureNames.length !== d) throw new ShapeError(`featureNames has ${init.featureNames.length} names, expected d = ${d}`, { tensor: 'featureNames' });
  const features = tf.tensor2d(init.features, [n, d], 'float32');
  return {
    name: init.name,
    task: init.task ?? 'classification',
    splits: { all: { features, labels: init.labels } },
    classNames: [...init.classNames],
    featureNames: [...init.featureNames],
    provenance: { ...init.provenance, rows: init.provenance.rows ?? { all: n } },
    warnings: [...(init.warnings ?? [])],
    dispose: () => features.dispose(),
  };
}

/** Options of {@link loadTabularCsv}. */
export interface TabularCsvLoadOptions extends TabularTableOptions {
  /** The CSV file (required unless `text` is given); relative paths start from the working directory. */
  path?: string;
  /** CSV content given directly (e.g. in a browser); `path` is then ignored and messages say `inline`. */
  text?: string;
  /** `LoadedDataset.name`; default the file name without its extension (`inline` for `text`). */
  name?: string;
}

/**
 * Load any CSV file with a header as a tabular classification dataset (one
 * split `all`): what `chainz bench tabular --data FILE.csv [--target COL]`
 * runs. See {@link parseTabularTable} for the rules (header required, class
 * column last by default, empty / `NA` / `NaN` / `?` cells missing, text
 * feature columns refused unless `categorical: 'one-hot'`).
 *
 * Features are the raw values `[N, D]` float32 (NaN = missing, no scaling:
 * fit imputation and scaling per training fold). `warnings` lists extreme
 * values and duplicated rows; `provenance.notes` the class column, class
 * counts, encodings, missing cells and constant columns.
 *
 * @param options `path` or `text`, plus {@link TabularTableOptions}.
 * @returns a LoadedDataset with `task: 'classification'` and `warnings`.
 * @throws ConfigError (option `path`) when neither `path` nor `text` is given.
 * @throws DataError naming the file (and row and column) for a missing,
 *   empty or malformed file (see {@link parseTabularTable}).
 */
export async function loadTabularCsv(options: TabularCsvLoadOptions = {}): Promise<LoadedDataset> {
  const { text, file, sha256 } = await readCsvSource(options, 'a tabular CSV needs a file: pass path (or text)');
  const table = parseTabularTable(text, { ...options, file });
  const base = file === 'inline' ? 'inline' : (file.split(/[\\/]/).pop() ?? file).replace(/\.[^.]*$/, '');
  return createTabularDataset({
    name: options.name ?? base,
    features: table.features,
    n: table.n,
    d: table.d,
    labels: table.labels,
    classNames: table.classNames,
    featureNames: table.featureNames,
    provenance: {
      files: [file],
      sha256: [sha256],
      source: file === 'inline' ? 'CSV text passed in memory' : `local CSV file ${file}`,
      licence: 'unknown (user-supplied data)',
      notes: table.notes,
    },
    warnings: table.warnings,
  });
}
