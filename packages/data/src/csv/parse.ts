import { ConfigError, DataError, optionRef } from '@chainz/core';
import { parse } from 'csv-parse/sync';
import { checkTextCsv, chooseDelimiter, clip, columnList, csvParseMessage, CSV_DELIMITERS, delimiterName, show } from './util';

/** Delimiters recognised by `delimiter: 'auto'`, in tie-break order. */
export { CSV_DELIMITERS };

/** Options of {@link parseTabularCsv}. */
export interface TabularCsvOptions {
  /** Name used in error messages (a path, `embedded` or `inline`). Default `inline`. */
  file?: string;
  /**
   * Label column: a header name, or a 0-based index where negative values
   * count from the end. Default −1 (the last column). A name needs a header.
   */
  labelColumn?: string | number;
  /**
   * Whether line 1 is a header. `'auto'` (default): yes if `labelColumn` is a
   * name, or if no cell of the first row is a number.
   */
  header?: 'auto' | boolean;
  /**
   * Field delimiter, or `'auto'` (default): the most frequent of `,` `;` and
   * tab in the first non-empty line (ties in that order).
   */
  delimiter?: 'auto' | string;
  /**
   * Cell texts that mean "missing" in feature columns (read as NaN), e.g.
   * `['', 'NA', '?']`. Default `[]`: every feature cell must be a number.
   * Never allowed in the label column.
   */
  missing?: string[];
  /** Exact number of columns required (fixed-schema adapters such as Pima). */
  expectedColumns?: number;
  /** Name of that fixed layout in the message for another column count, e.g. `the Pima layout`. Default `this table`. */
  layout?: string;
  /** Hint of that message (with more than one column; a single column hints at the delimiter). */
  layoutHint?: string;
  /**
   * Hint of the error for an empty or NaN feature cell. Default: list the
   * cell text in `missing`. A caller that does not offer `missing` (a
   * fixed-schema adapter such as Pima) says instead how to fix the file.
   */
  missingCellHint?: string;
}

/** A parsed numeric table: features plus the raw label text of each row. */
export interface TabularCsv {
  /** Column names from the header line, or null if the file has none. */
  header: string[] | null;
  /** 1-based file line of the header, or null. */
  headerLine: number | null;
  /** Feature names (header names, or `x1 … xd`), length d. */
  featureNames: string[];
  /** Name of the label column (header name, or `label`). */
  labelName: string;
  /** 0-based index of the label column in the file. */
  labelColumn: number;
  /** The delimiter used. */
  delimiter: string;
  /** Number of data rows. */
  n: number;
  /** Number of feature columns (all columns but the label). */
  d: number;
  /** Row-major `[n, d]` float32 features; NaN marks a missing value. */
  features: Float32Array;
  /** Raw (trimmed) label text of each row, length n. */
  labels: string[];
  /** 1-based file line of each data row (as an editor shows it), length n. */
  lines: Int32Array;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FLOAT32_MAX = 3.4028234663852886e38;

/** True if the trimmed text is a plain decimal number (no hex, no Infinity/NaN). */
export function isNumericCell(text: string): boolean {
  return NUMBER_RE.test(text);
}

/**
 * Parse a delimited text table of numeric features and one label column
 * (csv-parse underneath). Rows are validated as read; every problem is a
 * DataError naming the file, the 1-based line (counting the header line, as
 * an editor shows it; for a quoted multi-line record, its last line) and the
 * column (1-based, with its header name when there is one).
 *
 * @param text the file's text (UTF-8 decoded; a byte-order mark is ignored).
 * @param opts see {@link TabularCsvOptions}.
 * @returns the table; features `[n, d]` float32 row-major with NaN = missing.
 * @throws DataError for an empty file, no data rows, a wrong delimiter, a
 *   row with the wrong number of columns, an empty / NaN / non-numeric /
 *   out-of-range feature cell not listed in `missing`, an empty label, or
 *   unparseable CSV (e.g. an unclosed quote).
 * @throws ConfigError for a label column that does not exist or a name without a header.
 */
export function parseTabularCsv(text: string, opts: TabularCsvOptions = {}): TabularCsv {
  const file = opts.file ?? 'inline';
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new DataError('the file is empty (no rows)', { file });
  checkTextCsv(text, file);
  const delimiter = chooseDelimiter(text, opts.delimiter ?? 'auto', file);
  const missing = new Set(opts.missing ?? []);

  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info: true` each record comes as { record, info } (csv-parse's types miss this).
    records = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true, bom: true }) as unknown as typeof records;
  } catch (e) {
    const err = e as { lines?: number; message: string };
    throw new DataError(`cannot parse as CSV: ${csvParseMessage(err.message)}`, { file, row: err.lines }, undefined, { cause: e });
  }
  if (records.length === 0) throw new DataError('the file is empty (no rows)', { file });

  const first = records[0].record;
  const labelOpt = opts.labelColumn ?? -1;
  let hasHeader: boolean;
  const headerOpt = opts.header ?? 'auto';
  if (headerOpt === 'auto') hasHeader = typeof labelOpt === 'string' || !first.some(isNumericCell);
  else if (typeof headerOpt === 'boolean') hasHeader = headerOpt;
  else throw new ConfigError(`header must be 'auto', true or false, got ${JSON.stringify(headerOpt)}`, { option: 'header' });
  if (typeof labelOpt === 'string' && !hasHeader) {
    throw new ConfigError(`labelColumn '${labelOpt}' is a name, but header is false`, { option: 'labelColumn' }, 'pass a 0-based index or set header: true');
  }

  const ncol = first.length;
  const firstRow = records[0].info.lines;
  if (opts.expectedColumns !== undefined && ncol !== opts.expectedColumns) {
    // about the whole file, not a cell: a column number past the file's last one would point nowhere
    throw new DataError(
      `the file has ${ncol} column${ncol === 1 ? '' : 's'} where ${opts.layout ?? 'this table'} needs ${opts.expectedColumns}`,
      { file, row: firstRow },
      ncol === 1 ? 'is the delimiter right?' : opts.layoutHint,
    );
  }
  if (ncol < 2) {
    throw new DataError(`found ${ncol} column; a table needs at least two (features and a label)`, { file, row: firstRow });
  }
  const header = hasHeader ? first : null;

  let labelColumn: number;
  if (typeof labelOpt === 'string') {
    labelColumn = header!.indexOf(labelOpt);
    if (labelColumn < 0) labelColumn = header!.findIndex((h) => h.toLowerCase() === labelOpt.toLowerCase());
    if (labelColumn < 0) {
      throw new ConfigError(`no column named '${clip(labelOpt)}' in ${file}; columns: ${columnList(header!)}`, { option: 'labelColumn' });
    }
  } else {
    if (!Number.isInteger(labelOpt) || labelOpt >= ncol || labelOpt < -ncol) {
      throw new ConfigError(`labelColumn ${labelOpt} is out of range for ${ncol} columns (0-based; negative counts from the end)`, {
        option: 'labelColumn',
      });
    }
    labelColumn = labelOpt < 0 ? ncol + labelOpt : labelOpt;
  }
  const colName = (j: number): string | number => (header ? `${j + 1} (${clip(header[j])})` : j + 1);

  const data = hasHeader ? records.slice(1) : records;
  if (data.length === 0) throw new DataError('no data rows (only a header line)', { file, row: firstRow });
  const n = data.length;
  const d = ncol - 1;
  const features = new Float32Array(n * d);
  const labels: string[] = new Array(n);
  const lines = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const { record, info } = data[i];
    const row = info.lines;
    lines[i] = row;
    if (record.length !== ncol) {
      const other = CSV_DELIMITERS.find((c) => c !== delimiter && record.some((v) => v.includes(c)));
      throw new DataError(
        `expected ${ncol} columns, found ${record.length}`,
        { file, row, column: record.length < ncol ? colName(record.length) : ncol + 1 },
        other ? `the row contains ${delimiterName(other)}: is the delimiter right (${delimiterName(delimiter)} used)?` : undefined,
      );
    }
    let k = 0;
    for (let j = 0; j < ncol; j++) {
      const v = record[j];
      if (j === labelColumn) {
        if (v === '' || missing.has(v)) {
          throw new DataError(v === '' ? 'empty label' : `missing label ${show(v)}`, { file, row, column: colName(j) }, 'every row needs a label');
        }
        labels[i] = v;
        continue;
      }
      let x: number;
      if (missing.has(v)) x = Number.NaN;
      else if (isNumericCell(v)) {
        x = Number(v);
        if (!(Math.abs(x) <= FLOAT32_MAX)) {
          throw new DataError(`value ${show(v)} is outside the float32 range`, { file, row, column: colName(j) });
        }
      } else if (v === '') {
        throw new DataError('empty cell', { file, row, column: colName(j) }, opts.missingCellHint ?? `list '' in ${optionRef('missing')} to read empty cells as missing values`);
      } else if (/^[+-]?nan$/i.test(v)) {
        throw new DataError(`${show(v)} is not allowed here`, { file, row, column: colName(j) }, opts.missingCellHint ?? `list ${show(v)} in ${optionRef('missing')} to read it as a missing value`);
      } else {
        throw new DataError(`non-numeric value ${show(v)}`, { file, row, column: colName(j) });
      }
      features[i * d + k++] = x;
    }
  }
  const featureNames = header ? header.filter((_, j) => j !== labelColumn) : Array.from({ length: d }, (_, j) => `x${j + 1}`);
  return { header, headerLine: header ? firstRow : null, featureNames, labelName: header ? header[labelColumn] : 'label', labelColumn, delimiter, n, d, features, labels, lines };
}

/** Options of {@link encodeLabels}. */
export interface LabelEncodingOptions {
  /**
   * The label values in class-index order (class i = `classNames[i]`); a
   * label not in the list is an error. Default: derived from the data.
   */
  classNames?: string[];
  /**
   * Order of derived classes: `'sorted'` (default; numerically if every label
   * is an integer, e.g. 1 < 2 < 10, else by string code units, e.g. `neg` <
   * `pos`) or `'first-seen'` (order of first appearance in the file).
   */
  labelOrder?: 'sorted' | 'first-seen';
}

/**
 * Map the raw label texts of a parsed table to class indices.
 *
 * @returns `labels` (Int32Array, length n, values 0 … K−1) and `classNames` (length K).
 * @throws DataError (file, row, label column) for a label outside
 *   `classNames`, and (file, column) when fewer than two classes occur.
 * @throws ConfigError for duplicate `classNames` or an unknown `labelOrder`.
 */
export function encodeLabels(table: TabularCsv, opts: LabelEncodingOptions & { file?: string } = {}): { labels: Int32Array; classNames: string[] } {
  const file = opts.file ?? 'inline';
  const column = table.header ? `${table.labelColumn + 1} (${table.labelName})` : table.labelColumn + 1;
  let classNames: string[];
  if (opts.classNames) {
    classNames = opts.classNames.map(String);
    if (new Set(classNames).size !== classNames.length) {
      throw new ConfigError(`classNames has duplicates: ${classNames.join(', ')}`, { option: 'classNames' });
    }
  } else {
    const order = opts.labelOrder ?? 'sorted';
    if (order !== 'sorted' && order !== 'first-seen') {
      throw new ConfigError(`labelOrder must be 'sorted' or 'first-seen', got ${JSON.stringify(order)}`, { option: 'labelOrder' });
    }
    classNames = [...new Set(table.labels)];
    if (order === 'sorted') {
      if (classNames.every((c) => /^[+-]?\d+$/.test(c))) classNames.sort((a, b) => Number(a) - Number(b));
      else classNames.sort();
    }
  }
  const index = new Map(classNames.map((c, i) => [c, i]));
  const labels = new Int32Array(table.n);
  const seen = new Set<number>();
  for (let i = 0; i < table.n; i++) {
    const c = index.get(table.labels[i]);
    if (c === undefined) {
      throw new DataError(`label ${show(table.labels[i])} is not one of the classNames (${classNames.join(', ')})`, {
        file,
        row: table.lines[i],
        column,
      });
    }
    labels[i] = c;
    seen.add(c);
  }
  if (seen.size < 2) {
    throw new DataError(
      `only one class (${show(table.labels[0])}) in the label column; classification needs at least two`,
      { file, column },
      'is labelColumn the right column?',
    );
  }
  return { labels, classNames };
}
