import { ConfigError, DataError, isChainzError, optionClause, optionRef } from '@chainz/core';
import { defineAdapter, type BaseLoadOptions, type DatasetAdapter, type LoadedDataset } from '../adapter';
import { decodeUtf8, readDataFile } from '../csv/io';
import { checkTextCsv } from '../csv/util';
import { createTabularDataset, parseTabularTable } from '../csv/tabular';
import { resolveDataPath } from '../location';
import { UCI_DATASET_NAMES, UCI_DATASETS, UCI_REPOSITORY_CITATION, type UciDatasetName } from './specs';

/** Options of the UCI adapters (`breast-cancer`, `glass`, … `shuttle`). */
export interface UciLoadOptions extends BaseLoadOptions {
  /** The CSV file itself (another copy of the set); overrides `dataDir`. */
  path?: string;
  /** Data root holding `uci/<name>.csv`; default `CHAINZ_DATA_DIR`. */
  dataDir?: string;
  /**
   * Rows that repeat an earlier row exactly: `'keep'` (default, as published;
   * a warning counts them) or `'drop'` (keep the first copy).
   */
  duplicates?: 'keep' | 'drop';
}

/** Relative path of a UCI set under a data directory. */
export function uciRelativePath(name: UciDatasetName): string {
  return `uci/${name}.csv`;
}

const LICENCE = 'GPL-2 (mlbench); the data are the public UCI set';

function hint(name: UciDatasetName): string {
  return `the reference copy is ${uciRelativePath(name)} under the data directory (the mlbench data set exported to CSV, see docs/data.md): set CHAINZ_DATA_DIR to the folder holding uci/${optionClause('path', `, or pass the CSV file as ${optionRef('path')}`)}`;
}

/**
 * Load one of the ten UCI tabular sets: raw features `[N, D]` float32 (NaN =
 * missing; no scaling), labels in the documented class order (the `sorted`
 * rule: numbers numerically, text by code units), one split `all`.
 *
 * The file is `options.path`, else `<dataDir ?? CHAINZ_DATA_DIR>/uci/<name>.csv`.
 * Its sha256 is compared with the reference copy's: a different copy still
 * loads, with a line in `warnings` and `provenance.notes` saying it differs
 * (and how its rows and classes compare). Extreme values and duplicated rows
 * are reported in `warnings` (several published sets have duplicates).
 *
 * @param name one of {@link UCI_DATASET_NAMES}.
 * @param options `path`, `dataDir`, `duplicates`.
 * @returns the dataset; the caller disposes it.
 * @throws ConfigError (option `dataset`) for an unknown name.
 * @throws DataError naming the file (and row and column) when it is missing,
 *   empty or malformed, has another number of columns, or holds a class
 *   outside the set's classes; (option `path`) when no location is set.
 */
export async function loadUciDataset(name: UciDatasetName, options: UciLoadOptions = {}): Promise<LoadedDataset> {
  const spec = UCI_DATASETS[name];
  if (!spec) throw new ConfigError(`unknown UCI set '${name}'; choose one of ${UCI_DATASET_NAMES.join(', ')}`, { option: 'dataset' });
  const loc = await resolveDataPath(options, uciRelativePath(name), { adapter: name, hint: hint(name) });
  let f: Awaited<ReturnType<typeof readDataFile>>;
  try {
    f = await readDataFile(loc.path, `${name} CSV`);
  } catch (e) {
    // From a data directory, say where the file was expected and how to get it.
    if (!loc.explicit && isChainzError(e) && /not found$/.test(e.message)) {
      throw new DataError(`${name} CSV not found (looked in ${loc.source} ${loc.root})`, { file: loc.path }, hint(name), { cause: e });
    }
    throw e;
  }
  const file = f.path;
  checkTextCsv(f.bytes, file);
  const table = parseTabularTable(decodeUtf8(f.bytes), { file, classNames: spec.classNames, duplicates: options.duplicates });
  if (table.d !== spec.features || table.header.length !== spec.features + 1) {
    throw new DataError(
      `expected ${spec.features} feature columns and the class column last (${spec.features + 1} columns), found ${table.header.length} columns`,
      { file, row: 1 },
      `the ${name} adapter reads the mlbench export (${spec.featureNames.slice(0, 3).join(', ')}, …, class); read other layouts with loadTabularCsv`,
    );
  }
  const warnings = [...table.warnings];
  const notes = [...spec.notes, ...table.notes];
  if (f.sha256 !== spec.sha256) {
    const renamed = spec.featureNames.map((c, j) => [c, table.featureNames[j], j] as const).filter(([a, b]) => a !== b);
    const diff = [
      table.n !== spec.rows ? `${table.n} rows (reference ${spec.rows})` : `${table.n} rows as the reference`,
      table.classCounts.some((c, k) => c !== spec.classCounts[k]) ? `class counts ${table.classCounts.join('/')} (reference ${spec.classCounts.join('/')})` : 'the same class counts',
      ...(renamed.length > 0 ? [`${renamed.length} column name(s) differ, e.g. column ${renamed[0][2] + 1} '${renamed[0][1]}' (reference '${renamed[0][0]}')`] : []),
    ];
    const line = `this file differs from the reference copy (sha256 ${spec.sha256.slice(0, 12)}…): ${diff.join(', ')}`;
    warnings.unshift(line);
    notes.unshift(line);
  }
  return createTabularDataset({
    name,
    features: table.features,
    n: table.n,
    d: table.d,
    labels: table.labels,
    classNames: table.classNames,
    featureNames: table.featureNames,
    provenance: {
      files: [file],
      sha256: [f.sha256],
      source: `UCI Machine Learning Repository (Dua & Graff 2017), via Debian's r-cran-mlbench 2.1-3-1 (data set ${spec.mlbench}), exported to CSV`,
      licence: LICENCE,
      citation: `${spec.citation} Repository: ${UCI_REPOSITORY_CITATION}`,
      notes,
    },
    warnings,
  });
}

function uciAdapter(name: UciDatasetName): DatasetAdapter<UciLoadOptions> {
  const spec = UCI_DATASETS[name];
  return defineAdapter<UciLoadOptions>({
    name,
    describe: () => ({
      name,
      title: spec.title,
      task: 'classification',
      modality: 'tabular',
      source: `<path | dataDir | CHAINZ_DATA_DIR>/${uciRelativePath(name)} (UCI via mlbench ${spec.mlbench}; reference sha256 ${spec.sha256.slice(0, 8)}…)`,
      builtIn: false,
    }),
    load: (options) => loadUciDataset(name, options),
  });
}

/** The ten UCI adapters, in {@link UCI_DATASET_NAMES} order (registered by `registerBuiltinAdapters`). */
export const UCI_ADAPTERS: readonly DatasetAdapter<UciLoadOptions>[] = UCI_DATASET_NAMES.map(uciAdapter);
