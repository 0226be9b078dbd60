import * as tf from '@tensorflow/tfjs-core';
import { defineAdapter, type BaseLoadOptions, type LoadedDataset } from '../adapter';
import { readCsvSource } from './io';
import { checkTabularData, EXTREME_VALUE_THRESHOLD } from './checks';
import { encodeLabels, parseTabularCsv, type LabelEncodingOptions, type TabularCsvOptions } from './parse';

/** Options of the generic `csv` adapter. */
export interface CsvLoadOptions
  extends BaseLoadOptions,
    Omit<TabularCsvOptions, 'file' | 'expectedColumns' | 'missingCellHint'>,
    LabelEncodingOptions {
  /** The CSV file to read (required unless `text` is given). */
  path?: string;
  /** CSV content given directly (e.g. in a browser); `path` is then ignored. */
  text?: string;
  /** |x| at or above which a value is reported in `warnings`; default {@link EXTREME_VALUE_THRESHOLD}. */
  extremeThreshold?: number;
}

/**
 * Load a numeric CSV table as a classification dataset with one split `all`.
 * Shared by the generic `csv` adapter and usable directly. `warnings` lists
 * extreme values and duplicated rows (see `checkTabularData`).
 *
 * @throws DataError naming the file, row and column for malformed input,
 *   and the file and column for a feature column with every cell missing.
 */
export async function loadCsvDataset(options: CsvLoadOptions = {}): Promise<LoadedDataset> {
  const { text, file, sha256 } = await readCsvSource(options, 'the csv adapter needs a file: pass path (the CLI: --data FILE)');
  const table = parseTabularCsv(text, {
    file,
    labelColumn: options.labelColumn,
    header: options.header,
    delimiter: options.delimiter,
    missing: options.missing,
  });
  const { labels, classNames } = encodeLabels(table, { file, classNames: options.classNames, labelOrder: options.labelOrder });
  const fileColumns = Array.from({ length: table.d + 1 }, (_, j) => j).filter((j) => j !== table.labelColumn);
  const check = checkTabularData(table.features, table.n, table.d, labels, {
    file,
    featureNames: table.featureNames,
    columnLabels: fileColumns.map((j) => (table.header ? `${j + 1} (${table.header[j]})` : String(j + 1))),
    lines: table.lines,
    extremeThreshold: options.extremeThreshold,
  });
  const features = tf.tensor2d(table.features, [table.n, table.d], 'float32');
  const missingCount = check.missingCells;
  return {
    name: 'csv',
    task: 'classification',
    splits: { all: { features, labels } },
    classNames,
    featureNames: table.featureNames,
    provenance: {
      files: [file],
      sha256: [sha256],
      source: file === 'inline' ? 'CSV text passed in memory' : `local CSV file ${file}`,
      licence: 'unknown (user-supplied data)',
      notes: [
        `label column ${table.labelColumn + 1} (${table.labelName}); delimiter ${JSON.stringify(table.delimiter)}; header ${table.header ? 'yes' : 'no'}`,
        ...(missingCount > 0 ? [`${missingCount} missing feature values (NaN)`] : []),
      ],
      rows: { all: table.n },
    },
    warnings: check.warnings,
    dispose: () => features.dispose(),
  };
}

/**
 * Generic CSV adapter (`csv`): numeric feature columns plus one label column
 * (strings or integers), read from `path`. See {@link CsvLoadOptions}.
 */
export const csvAdapter = defineAdapter<CsvLoadOptions>({
  name: 'csv',
  describe: () => ({
    name: 'csv',
    title: 'Generic CSV (numeric features, one label column)',
    task: 'classification',
    modality: 'tabular',
    source: "a local CSV file given as the path option (library API; the CLI's `bench tabular --data` reads CSV files with loadTabularCsv); delimiter ',', ';' or tab; optional header",
    builtIn: false,
  }),
  load: (options) => loadCsvDataset(options),
});
