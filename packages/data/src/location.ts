import { DataError, optionClause, optionRef } from '@chainz/core';
import { nodeApi } from './text/node';
import type { BaseLoadOptions } from './adapter';

/** Name of the environment variable holding the default data directory. */
export const DATA_DIR_ENV = 'CHAINZ_DATA_DIR';

/** Where {@link resolveDataPath} found the location. */
export type DataPathSource = 'path' | 'dataDir' | typeof DATA_DIR_ENV;

/** What {@link resolveDataPath} returns. */
export interface ResolvedDataPath {
  /** Absolute path of the file or folder to read (not checked for existence). */
  path: string;
  /** True when it came from `options.path` (the caller named the file itself). */
  explicit: boolean;
  /** Which setting gave it: the `path` option, the `dataDir` option or the environment variable. */
  source: DataPathSource;
  /** The data root used (`dataDir` or `CHAINZ_DATA_DIR`, absolute); absent for an explicit `path`. */
  root?: string;
}

/** Context for the messages of {@link resolveDataPath}. */
export interface ResolveDataPathContext {
  /** Adapter (data set) name, used in the error message. */
  adapter: string;
  /** How to get the data, shown as the error's hint. */
  hint?: string;
}

function envDataDir(): string | undefined {
  const env = typeof process === 'undefined' ? undefined : process.env?.[DATA_DIR_ENV];
  return env === undefined || env === '' ? undefined : env;
}

/**
 * Where a dataset adapter reads its file or folder — the one rule every
 * adapter (built-in or plugin) follows:
 *
 * 1. `options.path`, when given: the file (or folder) itself, resolved
 *    against the working directory;
 * 2. else `<options.dataDir>/<relativePath>`;
 * 3. else `<CHAINZ_DATA_DIR>/<relativePath>`.
 *
 * Nothing is read: the caller reads the path and reports a missing file with
 * a `DataError` naming it (e.g. via `readDataFile`). Node only (`node:path`
 * is imported on demand, so a module calling this stays importable in a
 * browser bundle).
 *
 * @param options the adapter's load options (`path`, `dataDir`).
 * @param relativePath the file or folder under a data root, `/`-separated,
 *   e.g. `uci/sonar.csv` or `sst5`.
 * @param context `adapter` (its name, for the message) and `hint` (how to get the data).
 * @returns `{ path, explicit, source, root? }` with an absolute `path`.
 * @throws DataError (option `path`) when neither `path`, `dataDir` nor
 *   `CHAINZ_DATA_DIR` is set; its hint is `context.hint`.
 *
 * @example
 * const { path } = await resolveDataPath(options, 'uci/sonar.csv', { adapter: 'sonar' });
 * const file = await readDataFile(path, 'sonar CSV');
 */
export async function resolveDataPath(options: BaseLoadOptions, relativePath: string, context: ResolveDataPathContext): Promise<ResolvedDataPath> {
  const { path } = await nodeApi('resolving a data set location');
  if (options.path !== undefined && options.path !== '') return { path: path.resolve(options.path), explicit: true, source: 'path' };
  const fromOption = options.dataDir !== undefined && options.dataDir !== '';
  const root = fromOption ? options.dataDir : envDataDir();
  if (root === undefined) {
    throw new DataError(
      `no location for dataset '${context.adapter}': set ${DATA_DIR_ENV}${optionClause(['path', 'dataDir'], ` or pass ${optionRef('path', 'dataDir')}`)}`,
      { option: 'path' },
      context.hint,
    );
  }
  const absRoot = path.resolve(root);
  return { path: path.resolve(absRoot, ...relativePath.split('/')), explicit: false, source: fromOption ? 'dataDir' : DATA_DIR_ENV, root: absRoot };
}
