import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '@chainz/core';
import { defineAdapter, type BaseLoadOptions, type LoadedDataset } from '../adapter';
import { decodeUtf8, readDataFile } from '../csv/io';
import { checkTextCsv } from '../csv/util';
import { checkTabularData } from '../csv/checks';
import { parseTabularCsv } from '../csv/parse';
import { PIMA_CSV, PIMA_CSV_SHA256 } from './pima-csv.generated';

/** Feature names, in column order (mlbench `PimaIndiansDiabetes`). */
export const PIMA_FEATURE_NAMES = ['pregnant', 'glucose', 'pressure', 'triceps', 'insulin', 'mass', 'pedigree', 'age'] as const;

/** Columns whose zeros mean "missing" (read as NaN). */
export const PIMA_ZERO_MEANS_MISSING = ['glucose', 'pressure', 'triceps', 'insulin', 'mass'] as const;

/** Class names: 0 = `neg` (no diabetes within 5 years), 1 = `pos`. */
export const PIMA_CLASS_NAMES = ['neg', 'pos'] as const;

/** Header names accepted for a `path` copy: mlbench's and the common Kaggle/UCI copy's. */
const HEADERS = [
  [...PIMA_FEATURE_NAMES, 'diabetes'],
  ['pregnancies', 'glucose', 'bloodpressure', 'skinthickness', 'insulin', 'bmi', 'diabetespedigreefunction', 'age', 'outcome'],
];

/** Relative path of the Pima CSV under a data directory. */
export const PIMA_RELATIVE_PATH = 'pima/pima-indians-diabetes.csv';

/** Options of the `pima` adapter. */
export interface PimaLoadOptions extends BaseLoadOptions {
  /**
   * Read this copy of the Pima CSV instead of the embedded one (the CLI's
   * `--data FILE`): 9 columns in the order of {@link PIMA_FEATURE_NAMES} plus
   * the class, header line or none, classes `neg`/`pos` or `0`/`1`,
   * delimiter `,` `;` or tab.
   */
  path?: string;
  /**
   * Read `<dataDir>/pima/pima-indians-diabetes.csv`. Only an explicit option
   * counts: `CHAINZ_DATA_DIR` is not consulted, since the embedded copy is
   * the same file.
   */
  dataDir?: string;
}

/** Pima has no `missing` option: zeros mark missing values, by column. */
const MISSING_CELL_HINT =
  `every Pima cell must be a number: write 0 for a missing ${PIMA_ZERO_MEANS_MISSING.slice(0, -1).join(', ')} or ${PIMA_ZERO_MEANS_MISSING.at(-1)} value (zeros there are read as missing); ` +
  'the other columns have no missing values, so fix or remove the row';

/** For a file with another number of columns: it is probably not Pima at all. */
const LAYOUT_HINT =
  `the Pima reader takes the 8 Pima features (${PIMA_FEATURE_NAMES.join(', ')}) and the class, in that order; ` +
  'other CSV files run with `chainz bench tabular --data FILE` (library: loadTabularCsv)';

const SOURCE =
  "UCI Pima Indians Diabetes (NIDDK; Smith et al. 1988), from Debian's r-cran-mlbench 2.1-3-1 (PimaIndiansDiabetes), converted to CSV";
const LICENCE = 'GPL-2 (mlbench); the data are the public UCI Pima Indians Diabetes set';
const CITATION =
  'Smith, Everhart, Dickson, Knowler & Johannes (1988). Using the ADAP learning algorithm to forecast the onset of diabetes mellitus. Proc. Symp. Computer Applications in Medical Care, 261-265.';

/**
 * Load the Pima Indians Diabetes data (768 × 8, binary).
 *
 * Features are the raw values `[N, 8]` float32 (no scaling) with the zeros in
 * glucose, pressure, triceps, insulin and mass replaced by NaN (missing);
 * labels 0 = neg, 1 = pos; one split `all` — make folds with
 * `repeatedStratifiedKFold` and fit preprocessing on each training fold.
 *
 * `warnings` lists extreme values (|x| ≥ 1e15) and duplicated rows of a
 * `path` copy (the embedded data has none).
 *
 * @throws DataError naming the file, row and column for a missing/empty
 *   file, a wrong column count, an unexpected header, a non-numeric, empty or
 *   NaN cell, a class other than neg/pos/0/1, or a single class; naming the
 *   file and column for a column with every value missing (e.g. all zeros
 *   in glucose).
 */
export async function loadPima(options: PimaLoadOptions = {}): Promise<LoadedDataset> {
  let text: string;
  let file: string;
  let sha256: string;
  if (options.path !== undefined || options.dataDir !== undefined) {
    const p = options.path ?? `${options.dataDir!.replace(/[\\/]+$/, '')}/${PIMA_RELATIVE_PATH}`;
    const f = await readDataFile(p, 'Pima CSV');
    checkTextCsv(f.bytes, f.path);
    text = decodeUtf8(f.bytes);
    file = f.path;
    sha256 = f.sha256;
  } else {
    text = PIMA_CSV;
    file = 'embedded';
    sha256 = PIMA_CSV_SHA256;
  }

  const table = parseTabularCsv(text, { file, labelColumn: 8, header: 'auto', expectedColumns: 9, layout: 'the Pima layout', layoutHint: LAYOUT_HINT, missingCellHint: MISSING_CELL_HINT });
  if (table.header) {
    const h = table.header.map((s) => s.toLowerCase());
    const known = HEADERS.find((names) => names.every((c, j) => c === h[j]));
    if (!known) {
      const expected = HEADERS[0];
      const j = h.findIndex((c, k) => c !== expected[k] && c !== HEADERS[1][k]);
      throw new DataError(
        `unexpected column name '${table.header[j]}', expected '${expected[j]}'`,
        { file, row: table.headerLine ?? undefined, column: j + 1 },
        `the Pima columns are ${expected.join(', ')} (any header with another order is refused, because zeros are read as missing by position)`,
      );
    }
  }

  const labels = new Int32Array(table.n);
  const counts = [0, 0];
  for (let i = 0; i < table.n; i++) {
    const v = table.labels[i].toLowerCase();
    const c = v === 'neg' || v === '0' ? 0 : v === 'pos' || v === '1' ? 1 : -1;
    if (c < 0) {
      throw new DataError(`class ${JSON.stringify(table.labels[i])} is not neg/pos or 0/1`, {
        file,
        row: table.lines[i],
        column: table.header ? `9 (${table.header[8]})` : 9,
      });
    }
    labels[i] = c;
    counts[c]++;
  }
  if (counts[0] === 0 || counts[1] === 0) {
    throw new DataError(`only one class (${counts[0] === 0 ? 'pos' : 'neg'}) in the class column; Pima needs both`, {
      file,
      column: table.header ? `9 (${table.header[8]})` : 9,
    });
  }

  const x = table.features;
  const zeroCols = PIMA_ZERO_MEANS_MISSING.map((c) => PIMA_FEATURE_NAMES.indexOf(c));
  let missing = 0;
  for (let i = 0; i < table.n; i++) {
    for (const j of zeroCols) {
      if (x[i * 8 + j] === 0) {
        x[i * 8 + j] = Number.NaN;
        missing++;
      }
    }
  }

  // Refuses a column whose every value is missing (e.g. glucose all zero), naming file and column;
  // warns about extreme values and duplicated rows. The values are not changed.
  const check = checkTabularData(x, table.n, 8, labels, {
    file,
    featureNames: [...PIMA_FEATURE_NAMES],
    columnLabels: PIMA_FEATURE_NAMES.map((c, j) => (table.header ? `${j + 1} (${table.header[j]})` : `${j + 1} (${c})`)),
    lines: table.lines,
  });
  const features = tf.tensor2d(x, [table.n, 8], 'float32');
  const notes = [
    `zeros in ${PIMA_ZERO_MEANS_MISSING.join(', ')} read as missing (NaN): ${missing} values`,
    `classes: ${counts[0]} neg, ${counts[1]} pos`,
  ];
  if (file !== 'embedded' && sha256 !== PIMA_CSV_SHA256) {
    notes.push(`this file differs from the reference copy (sha256 ${PIMA_CSV_SHA256})`);
  }
  return {
    name: 'pima',
    task: 'classification',
    splits: { all: { features, labels } },
    classNames: [...PIMA_CLASS_NAMES],
    featureNames: [...PIMA_FEATURE_NAMES],
    provenance: { files: [file], sha256: [sha256], source: SOURCE, licence: LICENCE, citation: CITATION, notes, rows: { all: table.n } },
    warnings: check.warnings,
    dispose: () => features.dispose(),
  };
}

/** The `pima` adapter: embedded by default, or a local copy via `path`. */
export const pimaAdapter = defineAdapter<PimaLoadOptions>({
  name: 'pima',
  describe: () => ({
    name: 'pima',
    title: 'Pima Indians Diabetes (768 × 8, binary)',
    task: 'classification',
    modality: 'tabular',
    source: 'embedded copy (sha256 d579e224…); or another copy via the path option (CLI: chainz bench pima --data FILE)',
    builtIn: true,
  }),
  load: (options) => loadPima(options),
});
